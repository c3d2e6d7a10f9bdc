import AdaTestSupport
import AdaModel
import AdaQuant
import AdaTensor
import Testing

private func planOrigin(_ body: () throws -> Void) -> QuantError.Origin? {
    do { try body(); return nil } catch let e as QuantError { return e.origin } catch { return nil }
}

/// Every layer, code, scale and zero of two runs equal, and their reports agree.
private func expectSameRun(_ a: QuantizedModel, _ b: QuantizedModel, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.reports.map(\.id) == b.reports.map(\.id), sourceLocation: sourceLocation)
    for (ra, rb) in zip(a.reports, b.reports) {
        #expect(ra.dim == rb.dim && ra.bits == rb.bits && ra.group == rb.group, "\(ra.id)", sourceLocation: sourceLocation)
        #expect(ra.errorOC == rb.errorOC && ra.errorIC == rb.errorIC && ra.weightMSE == rb.weightMSE, "\(ra.id)",
                sourceLocation: sourceLocation)
        let (la, lb) = (a.layers[ra.id]!, b.layers[rb.id]!)
        #expect(la.dequantized == lb.dequantized && la.codes == lb.codes && la.scales == lb.scales && la.zeros == lb.zeros,
                "\(ra.id)", sourceLocation: sourceLocation)
        #expect(a.model[ra.id] == b.model[rb.id], sourceLocation: sourceLocation)
    }
}

@Suite("module-level quantization plans")
struct PlanTests {
    static let model = QTiny.model()
    static let windows = QTiny.windows(count: 4, length: 24)

    static func planned(_ base: QuantizeOptions, _ plan: QuantPlan) -> QuantizeOptions {
        var o = base
        o.plan = plan
        return o
    }

    @Test func uniformPlanIsTheSingleSpecRun() throws {
        let m = Self.model
        let cases: [(QuantMethod, DimChoice)] = [(.rtn, .fixed(.oc)), (.rtn, .fixed(.ic)), (.rtn, .ada(.block)),
                                                 (.rtn, .ada(.module)), (.gptq, .fixed(.ic)), (.gptq, .ada(.block))]
        for (method, dim) in cases {
            var o = QuantizeOptions(method: method, bits: 3, group: 8, dim: dim)
            o.selectionWindows = 2
            let plain = try quantizeModel(m, options: o, calibration: Self.windows)
            let uniform = QuantPlan.uniform(m.linearIDs, bits: 3, group: 8, dim: dim)
            let viaPlan = try quantizeModel(m, options: Self.planned(o, uniform), calibration: Self.windows)
            expectSameRun(plain, viaPlan)
            #expect(plain.reports.count == m.linearIDs.count)
            #expect(o.description == "\(method.rawValue) w3 g8 \(dim)" && Self.planned(o, uniform).description == o.description)
        }
    }

    @Test func perKindDimensionsAreEachModulesRTNInItsDimension() throws {
        let m = Self.model
        let dimOf: [LinearKind: QuantDim] = [.v: .ic, .down: .ic, .q: .ic]
        let plan = QuantPlan(m.linearIDs) { ModulePlan(bits: 3, group: 8, dim: .fixed(dimOf[$0.kind] ?? .oc)) }
        let q = try quantizeModel(m, options: Self.planned(QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc)), plan))
        #expect(q.reports.map(\.id) == m.linearIDs)
        for r in q.reports {
            let d = dimOf[r.id.kind] ?? .oc
            #expect(r.dim == d)
            let direct = try quantizeRTN(m[r.id], QuantSpec(bits: 3, group: 8, dim: d))
            #expect(q.model[r.id] == direct.dequantized, "\(r.id)")
            #expect(q.layers[r.id]!.codes == direct.codes)
        }
        #expect(q.icCounts[.v] == 2 && q.icCounts[.down] == 2 && q.icCounts[.k] == 0)
    }

    @Test func skippedModulesKeepTheirWeightsBitForBit() throws {
        let m = Self.model
        let selected = try selectModules(m.linearIDs, only: nil, skip: [try LayerPattern("blk.0.*"), try LayerPattern("down")])
        #expect(selected.count == 6 && selected.allSatisfy { $0.block == 1 && $0.kind != .down })
        for dim in [DimChoice.fixed(.ic), .ada(.block)] {
            let plan = QuantPlan(selected) { _ in ModulePlan(bits: 3, group: 8, dim: dim) }
            var o = Self.planned(QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: dim), plan)
            o.selectionWindows = 2
            let q = try quantizeModel(m, options: o, calibration: Self.windows)
            #expect(q.reports.map(\.id) == selected)
            for id in m.linearIDs where !selected.contains(id) {
                #expect(q.model[id] == m[id], "\(id) kept")
                #expect(q.layers[id] == nil)
            }
            // Block 1's v holds two values per group, which any minmax grid reproduces exactly.
            for id in selected where id != LinearID(block: 1, kind: .v) { #expect(q.model[id] != m[id], "\(id) quantized") }
            #expect(q.model.tokenEmbedding == m.tokenEmbedding && q.model.output == m.output)
        }
    }

    @Test func perKindBitsShowInReportsAndBitsPerWeight() throws {
        let m = Self.model
        let bitsOf: [LinearKind: Int] = [.v: 4, .down: 5]
        let plan = QuantPlan(m.linearIDs) { ModulePlan(bits: bitsOf[$0.kind] ?? 3, group: $0.kind == .o ? 0 : 8, dim: .fixed(.oc)) }
        let o = Self.planned(QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc)), plan)
        #expect(o.description == "rtn w3/4/5 g8/per-channel oc")
        let q = try quantizeModel(m, options: o)
        var bits = 0.0, n = 0.0
        for r in q.reports {
            let b = bitsOf[r.id.kind] ?? 3, g = r.id.kind == .o ? 0 : 8
            #expect(r.bits == b && r.group == g, "\(r.id)")
            let w = m[r.id]
            let direct = try quantizeRTN(w, QuantSpec(bits: b, group: g, dim: .oc))
            #expect(q.model[r.id] == direct.dequantized, "\(r.id)")
            #expect(q.layers[r.id]!.codes.allSatisfy { Int($0) < 1 << b })
            // Per-OC: one group per g input columns of each row (one per row for per-channel).
            let groups = w.shape[0] * (g == 0 ? 1 : (w.shape[1] + g - 1) / g)
            #expect(r.weights == w.count && r.groups == groups, "\(r.id)")
            bits += Double(b * w.count + 32 * groups)
            n += Double(w.count)
        }
        expectClose(bitsPerWeight(q.reports), bits / n, rel: 1e-12)
        // Kept weights count 16 bits each.
        let kept = 1000
        expectClose(bitsPerWeight(q.reports, keptWeights: kept), (bits + 16 * Double(kept)) / (n + Double(kept)), rel: 1e-12)
        // w3 g8 per-OC everywhere: 3 + 32/8 = 7 bits per weight (every row length divides by 8).
        let u = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc)))
        expectClose(bitsPerWeight(u.reports), 7, rel: 1e-12)
    }

    /// A plan fixing the block's other modules to a uniform AdaDim run's choices and leaving
    /// one kind to AdaDim judges that kind exactly as the uniform run did (same greedy state).
    @Test(arguments: [LinearKind.v, .o, .up, .down])
    func adaWithFixedModulesJudgesLikeTheGreedy(kind: LinearKind) throws {
        let m = Self.model
        var o = QuantizeOptions(method: .rtn, bits: 4, group: 8, dim: .ada(.block))
        o.selectionWindows = 3
        let full = try quantizeModel(m, options: o, calibration: Self.windows)
        let chosen = Dictionary(uniqueKeysWithValues: full.reports.map { ($0.id, $0.dim) })
        let plan = QuantPlan(m.linearIDs) { ModulePlan(bits: 4, group: 8, dim: $0.kind == kind ? .ada(.block) : .fixed(chosen[$0]!)) }
        let q = try quantizeModel(m, options: Self.planned(o, plan), calibration: Self.windows)
        for r in q.reports {
            let f = full.reports.first { $0.id == r.id }!
            #expect(r.dim == f.dim, "\(r.id)")
            if r.id.kind == kind {
                #expect(r.errorOC == f.errorOC && r.errorIC == f.errorIC, "\(r.id) \(String(describing: r.errorOC)) vs \(String(describing: f.errorOC))")
            } else {
                #expect(r.errorOC == nil && r.errorIC == nil)
            }
            #expect(q.model[r.id] == full.model[r.id])
        }
    }

    @Test func adaWithPerKindBitsAndSkipUsesEachModulesSpec() throws {
        let m = Self.model
        let ids = m.linearIDs.filter { $0.kind != .q }
        let plan = QuantPlan(ids) { ModulePlan(bits: $0.kind == .down ? 5 : 3, group: 8, dim: .ada(.module)) }
        var o = Self.planned(QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .ada(.module)), plan)
        o.selectionWindows = 2
        let q = try quantizeModel(m, options: o, calibration: Self.windows)
        #expect(q.reports.map(\.id) == ids)
        for r in q.reports {
            let b = r.id.kind == .down ? 5 : 3
            let eOC = try #require(r.errorOC), eIC = try #require(r.errorIC)
            #expect(r.dim == (eIC < eOC ? .ic : .oc) && r.bits == b)
            #expect(q.model[r.id] == (try quantizeRTN(m[r.id], QuantSpec(bits: b, group: 8, dim: r.dim))).dequantized)
        }
        for b in 0..<2 { #expect(q.model[LinearID(block: b, kind: .q)] == m[LinearID(block: b, kind: .q)]) }
        // GPTQ with a block-criterion plan and a kept module runs and keeps it.
        let gplan = QuantPlan(ids) { ModulePlan(bits: $0.kind == .v ? 4 : 3, group: 8, dim: .ada(.block)) }
        let g = try quantizeModel(m, options: Self.planned(QuantizeOptions(method: .gptq, bits: 3, group: 8, dim: .ada(.block)), gplan),
                                  calibration: Self.windows)
        #expect(g.reports.map(\.id) == ids && g.reports.allSatisfy { $0.bits == ($0.id.kind == .v ? 4 : 3) && $0.errorOC != nil })
        #expect(g.model[LinearID(block: 0, kind: .q)] == m[LinearID(block: 0, kind: .q)])
    }

    @Test func planErrorsNameTheirOrigin() throws {
        let m = Self.model
        let base = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc))
        let stray = QuantPlan(modules: [LinearID(block: 5, kind: .v): ModulePlan(bits: 3, group: 8, dim: .fixed(.oc))])
        #expect(planOrigin { _ = try quantizeModel(m, options: Self.planned(base, stray)) } == .layer)
        let badBits = QuantPlan(m.linearIDs) { ModulePlan(bits: $0.kind == .v ? 9 : 3, group: 8, dim: .fixed(.oc)) }
        #expect(planOrigin { _ = try quantizeModel(m, options: Self.planned(base, badBits)) } == .bits)
        do {
            _ = try quantizeModel(m, options: Self.planned(base, badBits))
        } catch let e as QuantError {
            #expect(e.message.hasPrefix("blk.0.attn_v 16×32 per-OC: bits must be 2…8"), "\(e.message)")
        }
        // A group too large only for the per-IC candidate of AdaDim (k and v have 16 rows).
        let wide = QuantPlan(m.linearIDs) { ModulePlan(bits: 3, group: 32, dim: $0.kind == .k ? .ada(.block) : .fixed(.oc)) }
        #expect(planOrigin { _ = try quantizeModel(m, options: Self.planned(base, wide), calibration: Self.windows) } == .group)
        // AdaDim in a plan needs calibration; a plan of fixed dimensions does not.
        let ada = QuantPlan(m.linearIDs) { ModulePlan(bits: 3, group: 8, dim: $0.kind == .v ? .ada(.block) : .fixed(.oc)) }
        #expect(Self.planned(base, ada).needsCalibration && !Self.planned(base, badBits).needsCalibration)
        #expect(planOrigin { _ = try quantizeModel(m, options: Self.planned(base, ada)) } == .calibration)
    }
}

@Suite("layer patterns")
struct LayerPatternTests {
    static let ids = (0..<30).flatMap { b in LinearKind.allCases.map { LinearID(block: b, kind: $0) } }

    func matched(_ text: String) throws -> [LinearID] { try selectModules(Self.ids, only: [try LayerPattern(text)], skip: []) }

    @Test func kindsBlocksAndRanges() throws {
        #expect(try matched("blk.*.attn_v") == (0..<30).map { LinearID(block: $0, kind: .v) })
        #expect(try matched("v") == (try matched("blk.*.attn_v")))
        #expect(try matched("attn_v") == (try matched("v")))
        #expect(try matched("*.v") == (try matched("v")))
        #expect(try matched("blk.0-3.*") == Self.ids.filter { $0.block <= 3 })
        #expect(try matched("blk.0-3.*").count == 28)
        #expect(try matched("blk.12.ffn_down") == [LinearID(block: 12, kind: .down)])
        #expect(try matched("blk.12.ffn_down.weight") == [LinearID(block: 12, kind: .down)])
        #expect(try matched("3.gate") == [LinearID(block: 3, kind: .gate)])
        #expect(try matched("blk.28-40.down") == [LinearID(block: 28, kind: .down), LinearID(block: 29, kind: .down)])
        #expect(try matched("blk.5-5.*").count == 7)
        #expect(try matched("blk.*.*") == Self.ids)
        let p = try LayerPattern("blk.2-4.attn_output")
        #expect(p.matches(LinearID(block: 3, kind: .o)) && !p.matches(LinearID(block: 5, kind: .o)) && !p.matches(LinearID(block: 3, kind: .v)))
    }

    @Test func onlyAndSkipCombine() throws {
        let sel = try selectModules(Self.ids, only: [try LayerPattern("v"), try LayerPattern("down")], skip: [try LayerPattern("blk.0-9.*")])
        #expect(sel == Self.ids.filter { $0.block >= 10 && ($0.kind == .v || $0.kind == .down) })
        #expect(try selectModules(Self.ids, only: nil, skip: []) == Self.ids)
    }

    @Test(arguments: ["", "*", "blk", "blk.x.attn_v", "blk.*.attn_w", "blk.3-1.*", "blk.-1.*", "blk.1-.*", "blk.1.2.3",
                      "w", "blk.*", "blk.1-2-3.v", "blk.a-b.v"])
    func malformedPatternsThrow(text: String) {
        #expect(planOrigin { _ = try LayerPattern(text) } == .layer, "'\(text)'")
    }

    @Test func patternsMatchingNothingThrow() throws {
        for text in ["blk.30.*", "blk.31-40.v"] {
            let p = try LayerPattern(text)   // well formed, but this model has blocks 0…29
            #expect(planOrigin { _ = try selectModules(Self.ids, only: [p], skip: []) } == .layer, "\(text)")
            #expect(planOrigin { _ = try selectModules(Self.ids, only: nil, skip: [p]) } == .layer, "\(text)")
        }
    }
}
