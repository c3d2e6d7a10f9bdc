import AdaTestSupport
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// Float64 forward of the whole model with module weights `w(id)`, then the final norm, the
/// head and a log-softmax: log-probabilities `[T][vocab]` of one window.
private func dLogProbs(_ m: LlamaModel, _ window: [Int32], _ w: (LinearID) -> Tensor?) -> DM {
    var x: DM = window.map { t in m.tokenEmbedding.row(Int(t)).map(Double.init) }
    for b in 0..<m.blocks.count {
        var blk = m.blocks[b]
        for k in LinearKind.allCases { if let t = w(LinearID(block: b, kind: k)) { blk[k] = t } }
        x = dBlock(blk, x, m.config).output
    }
    let logits = dLinear(dRMSNorm(x, m.outputNorm, eps: m.config.rmsNormEps), m.head)
    return logits.map { row in
        let mx = row.max()!
        let lz = log(row.reduce(0.0) { $0 + exp($1 - mx) }) + mx
        return row.map { $0 - lz }
    }
}

/// Mean over positions of KL(p ‖ q) for float64 log-probabilities.
private func dKL(_ p: DM, _ q: DM) -> Double {
    zip(p, q).reduce(0.0) { acc, rows in acc + zip(rows.0, rows.1).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) } } / Double(p.count)
}

@Suite("AdaDim criteria beyond the block criterion, and bit allocation")
struct CriteriaTests {
    static let model = QTiny.model()
    static let windows = QTiny.windows(count: 4, length: 24)
    static let traces = dTraces(model, windows)

    @Test func quantizerCriterionUnderRTNIsTheBlockCriterion() throws {
        for clip in [ClipSearch.none, ClipSearch(mode: .mse, grid: 20)] {
            var a = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .ada(.block)), b = a
            b.dim = .ada(.quantizer)
            a.clip = clip; b.clip = clip
            let qa = try quantizeModel(Self.model, options: a, calibration: Self.windows)
            let qb = try quantizeModel(Self.model, options: b, calibration: Self.windows)
            for (x, y) in zip(qa.reports, qb.reports) {
                #expect(x.id == y.id && x.dim == y.dim && x.errorOC == y.errorOC && x.errorIC == y.errorIC)
                #expect(qa.layers[x.id]!.dequantized == qb.layers[y.id]!.dequantized)
            }
        }
    }

    /// criterion=quantizer under GPTQ: each module's GPTQ candidates in both dimensions (on the
    /// full-precision Hessians) are judged by the block criterion, and the chosen one is kept.
    @Test func quantizerCriterionJudgesGPTQCandidates() throws {
        let m = Self.model
        let opts = QuantizeOptions(method: .gptq, bits: 3, group: 8, dim: .ada(.quantizer))
        let q = try quantizeModel(m, options: opts, calibration: Self.windows)
        let hess = try CalibrationHessians(model: m, calibration: Self.windows)
        func gptq(_ id: LinearID, _ d: QuantDim) throws -> QuantizedTensor {
            try quantizeGPTQ(m[id], hessian: hess.hessian(id), spec: QuantSpec(bits: 3, group: 8, dim: d))
        }
        var follow: [LinearID: QuantDim] = [:]
        for r in q.reports { follow[r.id] = r.dim }
        let ref = try referenceBlockErrors(m, traces: Self.traces, nSel: 4, follow: follow) { try gptq($0, $1).dequantized }
        let rtnChoice = try quantizeModel(m, options: QuantizeOptions(method: .gptq, bits: 3, group: 8, dim: .ada(.block)),
                                          calibration: Self.windows)
        var differs = false
        for r in q.reports {
            let e = try #require(ref[r.id])
            #expect(relClose(r.errorOC!, e.oc, 2e-3, abs: 1e-12), "\(r.id) oc \(r.errorOC!) vs \(e.oc)")
            #expect(relClose(r.errorIC!, e.ic, 2e-3, abs: 1e-12), "\(r.id) ic \(r.errorIC!) vs \(e.ic)")
            #expect(r.dim == (r.errorIC! < r.errorOC! ? .ic : .oc))
            let direct = try gptq(r.id, r.dim)
            let a = agreement(q.layers[r.id]!.dequantized.data, direct.dequantized.data, tol: 1e-5 * maxAbs(direct.dequantized.data))
            #expect(a.fraction == 1, "\(r.id)")
            let other = try #require(rtnChoice.reports.first { $0.id == r.id })
            if other.errorOC != r.errorOC { differs = true }
        }
        // The errors are those of GPTQ candidates, not of the RTN candidates the block criterion judges.
        #expect(differs)
    }

    /// criterion=kl against a float64 re-implementation of docs/reference.md §1.3: the model's KL
    /// from the full-precision distributions, from the better of all-OC and all-IC, one sweep over
    /// units (one kind in `klBlocks` blocks), in model order.
    @Test(arguments: [1, 2])
    func klCriterionMatchesAFloat64Sweep(klBlocks: Int) throws {
        let m = Self.model
        var opts = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .ada(.kl))
        opts.klWindows = 3
        opts.klBlocks = klBlocks
        let q = try quantizeModel(m, options: opts, calibration: Self.windows)
        var cands: [LinearID: [QuantDim: Tensor]] = [:]
        for id in m.linearIDs {
            for d in QuantDim.allCases { cands[id, default: [:]][d] = try quantizeRTN(m[id], QuantSpec(bits: 3, group: 8, dim: d)).dequantized }
        }
        let wins = Array(Self.windows.prefix(3))
        let fp = wins.map { dLogProbs(m, $0) { _ in nil } }
        func kl(_ dims: [LinearID: QuantDim]) -> Double {
            zip(wins, fp).reduce(0.0) { $0 + dKL($1.1, dLogProbs(m, $1.0) { cands[$0]![dims[$0]!] }) } / Double(wins.count)
        }
        let all = { (d: QuantDim) in Dictionary(uniqueKeysWithValues: m.linearIDs.map { ($0, d) }) }
        let (klOC, klIC) = (kl(all(.oc)), kl(all(.ic)))
        var dims = all(klIC < klOC ? .ic : .oc)
        var current = min(klOC, klIC)
        // Units in model order: runs of klBlocks blocks, then kinds.
        for run in 0..<((m.blocks.count + klBlocks - 1) / klBlocks) {
            for k in LinearKind.allCases {
                let ids = (run * klBlocks..<min((run + 1) * klBlocks, m.blocks.count)).map { LinearID(block: $0, kind: k) }
                var trial = dims
                for id in ids { trial[id] = dims[id] == .oc ? .ic : .oc }
                let t = kl(trial)
                let pair = dims[ids[0]] == .oc ? (current, t) : (t, current)
                for id in ids {
                    let r = try #require(q.reports.first { $0.id == id })
                    #expect(relClose(r.errorOC!, pair.0, 1e-3, abs: 1e-9), "\(id) oc \(r.errorOC!) vs \(pair.0)")
                    #expect(relClose(r.errorIC!, pair.1, 1e-3, abs: 1e-9), "\(id) ic \(r.errorIC!) vs \(pair.1)")
                }
                // Follow the library on near-ties; otherwise its decision must be the float64 one.
                let libFlipped = q.reports.first { $0.id == ids[0] }!.dim != dims[ids[0]]
                if !relClose(t, current, 1e-3) { #expect(libFlipped == (t < current), "\(ids[0])") }
                if libFlipped { dims = trial; current = t }
            }
        }
        for r in q.reports {
            #expect(r.dim == dims[r.id])
            #expect(q.layers[r.id]!.dequantized == cands[r.id]![r.dim]!)
        }
        // Never worse on the criterion than either fixed dimension.
        #expect(kl(dims) <= min(klOC, klIC) * (1 + 1e-9))
        #expect(abs(kl(dims) - current) <= 1e-12 + 1e-9 * current)
    }

    @Test func klCriterionRefusesMixedCriteriaAndQuantizedInputs() throws {
        var o = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .ada(.kl))
        o.quantizedInputs = true
        #expect(throws: QuantError.self) { try quantizeModel(Self.model, options: o, calibration: Self.windows) }
        var p = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc))
        p.plan = QuantPlan(Self.model.linearIDs) { id in ModulePlan(bits: 3, group: 8, dim: id.kind == .q ? .ada(.kl) : .ada(.block)) }
        #expect(throws: QuantError.self) { try quantizeModel(Self.model, options: p, calibration: Self.windows) }
    }

    // MARK: - Bit allocation

    private func module(_ b: Int, _ errors: [Int: Double], weights: Int = 100, groups: Int = 1) -> AllocModule {
        AllocModule(id: LinearID(block: b, kind: .q), weights: weights,
                    choices: errors.map { AllocChoice(bits: $0.key, dim: .oc, groups: groups, error: $0.value) })
    }

    /// Three modules of 100 weights and one group: at 2 bits each costs 232 bits, every added bit
    /// 100. Upgrade gains per bit: A 9/100, B 1/100, C 50/100.
    @Test func allocationPrefersSensitiveModulesWithinTheBudget() throws {
        let mods = [module(0, [2: 10, 3: 1]), module(1, [2: 4, 3: 3]), module(2, [2: 100, 3: 50])]
        // 696 bits at 2 bits; a budget of 2.66 (798 bits) fits one upgrade: C's.
        let one = try allocateBits(mods, budget: 2.66)
        #expect(one.choices.mapValues(\.bits) == [LinearID(block: 0, kind: .q): 2, LinearID(block: 1, kind: .q): 2, LinearID(block: 2, kind: .q): 3])
        #expect(one.bitsPerWeight == 796.0 / 300 && one.error == 10 + 4 + 50)
        // 3.0 (900 bits) fits two: C, then A (896 bits); B's would need 996.
        let two = try allocateBits(mods, budget: 3.0)
        #expect(two.choices.mapValues(\.bits) == [LinearID(block: 0, kind: .q): 3, LinearID(block: 1, kind: .q): 2, LinearID(block: 2, kind: .q): 3])
        #expect(two.bitsPerWeight == 896.0 / 300 && two.bitsPerWeight <= 3.0)
        // Exactly the cost of all three upgrades: everything at 3 bits.
        let all = try allocateBits(mods, budget: 3.33)
        #expect(all.choices.values.allSatisfy { $0.bits == 3 } && all.bitsPerWeight == 996.0 / 300)
        // Below the cheapest choices (2.32 bits per weight): an error.
        #expect(throws: QuantError.self) { try allocateBits(mods, budget: 2.3) }
        #expect(throws: QuantError.self) { try allocateBits(mods, budget: .nan) }
        #expect(throws: QuantError.self) { try allocateBits([module(0, [:])], budget: 4) }
    }

    /// A move may skip a level: 2→4 gains 10 for 200 bits (0.05 a bit), 2→3 only 0.1 for 100; a
    /// choice that costs more but errs no less is never taken.
    @Test func allocationLooksPastAFlatLevel() throws {
        let mods = [module(0, [2: 10, 3: 9.9, 4: 0]), module(1, [2: 1, 3: 0.5, 5: 0.5])]
        // 464 bits at 2 bits; 2.5 bits per weight is 500 bits and every move adds at least 100: nothing fits.
        #expect(try allocateBits(mods, budget: 2.5).choices.values.allSatisfy { $0.bits == 2 })
        // 664 bits (3.32): module 0 to 4 bits (gain 0.05 a bit) beats module 1 to 3 (0.005).
        let a = try allocateBits(mods, budget: 3.32)
        #expect(a.choices[LinearID(block: 0, kind: .q)]!.bits == 4 && a.choices[LinearID(block: 1, kind: .q)]!.bits == 2)
        // Room for everything: module 1 stops at 3 bits (5 bits errs no less).
        let b = try allocateBits(mods, budget: 8)
        #expect(b.choices[LinearID(block: 0, kind: .q)]!.bits == 4 && b.choices[LinearID(block: 1, kind: .q)]!.bits == 3)
    }

    /// On the tiny model: the measured errors are the RTN output errors, and quantizing with the
    /// allocation gives exactly its bits per weight, within the budget.
    @Test func allocationOnAModelMeetsItsBudgetAsCounted() throws {
        let m = Self.model
        let hess = try CalibrationHessians(model: m, calibration: Self.windows)
        let mods = try measureSensitivities(m, modules: m.linearIDs, hessians: hess, bits: [2, 3, 4], group: 8, dims: QuantDim.allCases)
        let relMods = try measureSensitivities(m, modules: m.linearIDs, hessians: hess, bits: [2, 3, 4], group: 8, dims: QuantDim.allCases,
                                               relative: true)
        for mod in mods {
            for c in mod.choices {
                let qt = try quantizeRTN(m[mod.id], QuantSpec(bits: c.bits, group: 8, dim: c.dim))
                // Σ over outputs of the mean squared output error, from the float64 inputs.
                let xs = Self.traces[mod.id.block].map { $0.input(mod.id.kind) }
                let w = m[mod.id], (oc, ic) = (w.shape[0], w.shape[1])
                var s = 0.0, n = 0
                for x in xs {
                    for row in x {
                        for o in 0..<oc {
                            var acc = 0.0
                            for j in 0..<ic { acc += row[j] * (Double(qt.dequantized.data[o * ic + j]) - Double(w.data[o * ic + j])) }
                            s += acc * acc
                        }
                        n += 1
                    }
                }
                #expect(relClose(c.error, s / Double(n), 2e-3, abs: 1e-12), "\(mod.id) w\(c.bits) \(c.dim)")
                #expect(c.groups == qt.scales.count)
                // relative: over the module's output energy Σ_outputs (x·w_o)², per token.
                var energy = 0.0
                for x in xs { for row in x { for o in 0..<oc {
                    let y = (0..<ic).reduce(0.0) { $0 + row[$1] * Double(w.data[o * ic + $1]) }
                    energy += y * y
                } } }
                let rel = try #require(relMods.first { $0.id == mod.id }?.choices.first { $0.bits == c.bits && $0.dim == c.dim })
                #expect(relClose(rel.error, s / energy, 2e-3, abs: 1e-12), "relative \(mod.id) w\(c.bits) \(c.dim)")
            }
        }
        // At g8 a 16-bit scale and zero add 4 bits per weight: w2 costs 6, w3 7, w4 8.
        for budget in [6.3, 7.0, 7.6] {
            let alloc = try allocateBits(mods, budget: budget)
            var o = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc))
            o.plan = QuantPlan(modules: alloc.choices.mapValues { ModulePlan(bits: $0.bits, group: 8, dim: .fixed($0.dim)) })
            let q = try quantizeModel(m, options: o)
            #expect(bitsPerWeight(q.reports) == alloc.bitsPerWeight && alloc.bitsPerWeight <= budget, "\(budget)")
            #expect(Set(alloc.choices.values.map(\.bits)).count > 1, "a mix of widths at \(budget)")
        }
    }
}
