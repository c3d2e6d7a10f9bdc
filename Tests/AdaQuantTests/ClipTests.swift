import AdaTestSupport
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// The float64 clip search, written from its definition: ratios p = 1 − i/grid down to
/// minRatio, the grid fitted to [p·min, p·max], error Σ wᵢ|xᵢ − x̂ᵢ|^norm; the smallest error.
private func dBestError(_ x: [Float], _ w: [Double]?, bits: Int, grid: GridKind, steps: Int, minRatio: Double,
                        norm: Double) -> Double {
    let mn = x.min()!, mx = x.max()!
    let maxq = Float((1 << bits) - 1)
    var best = Double.infinity
    var i = 0
    while 1 - Double(i) / Double(steps) >= minRatio - 1e-9 {
        let p = Float(1 - Double(i) / Double(steps))
        let gp = GroupParams.fit(min: p * mn, max: p * mx, bits: bits, grid: grid)
        var e = 0.0
        for (j, v) in x.enumerated() {
            let d = abs(Double(v) - Double(gp.roundTrip(v, maxq: maxq)))
            e += (w?[j] ?? 1) * pow(d, norm)
        }
        best = min(best, e)
        i += 1
    }
    return best
}

/// `Σ wᵢ|xᵢ − x̂ᵢ|^norm` in float64.
private func dError(_ x: [Float], _ xq: [Float], _ w: [Double]?, norm: Double) -> Double {
    var e = 0.0
    for j in x.indices { e += (w?[j] ?? 1) * pow(abs(Double(x[j]) - Double(xq[j])), norm) }
    return e
}

@Suite("clip search per group")
struct ClipTests {
    /// 2 bits (codes 0…3), min/max grid, the group x = [0, 1, 1, 1, 1, 2, 2, 2, 2, 4], ratios
    /// 1, 0.75, 0.5 (clip_grid 4, clip_min 0.5), squared error:
    /// - p = 1: range [0, 4], scale 4/3, zero 0: 1 → round(0.75) = 1 → 4/3 (error 1/3), 2 → round(1.5) = 2
    ///   → 8/3 (error 2/3), 4 → 3 → 4 (0): 4·(1/9) + 4·(4/9) = 20/9 ≈ 2.22;
    /// - p = 0.75: range [0, 3], scale 1, zero 0: 0, 1, 2 exact, 4 → clamp(4) = 3 (error 1): 1;
    /// - p = 0.5: range [0, 2], scale 2/3: 1 → round(1.5) = 2 → 4/3 (1/3), 2 → 3 → 2 (0), 4 → 3 → 2 (2):
    ///   4·(1/9) + 4 = 40/9 ≈ 4.44.
    /// So the search keeps p = 0.75: scale 1, zero 0, error 1.
    static let group: [Float] = [0, 1, 1, 1, 1, 2, 2, 2, 2, 4]
    static let small = ClipSearch(mode: .mse, grid: 4, minRatio: 0.5, norm: 2)

    @Test func handMadeGroupFindsTheHandComputedRatio() throws {
        #expect(Self.small.ratios == [1, 0.75, 0.5])
        let q = try quantizeRTN(Tensor(shape: [1, 10], data: Self.group), QuantSpec(bits: 2, group: 0, dim: .oc, clip: Self.small))
        #expect(q.scales.data == [1] && q.zeros.data == [0])
        #expect(q.dequantized.data == [0, 1, 1, 1, 1, 2, 2, 2, 2, 3])
        #expect(dError(Self.group, q.dequantized.data, nil, norm: 2) == 1)
        // Without the search: scale 4/3, error 20/9.
        let plain = try quantizeRTN(Tensor(shape: [1, 10], data: Self.group), QuantSpec(bits: 2, group: 0, dim: .oc))
        #expect(abs(plain.scales.data[0] - 4.0 / 3) < 1e-6)
        #expect(abs(dError(Self.group, plain.dequantized.data, nil, norm: 2) - 20.0 / 9) < 1e-5)
        // norm 2.4 keeps p = 0.75 too: p = 1 costs 4·(1/3)^2.4 + 4·(2/3)^2.4 ≈ 0.286 + 1.511 = 1.80 > 1.
        var c24 = Self.small
        c24.norm = 2.4
        let q24 = try quantizeRTN(Tensor(shape: [1, 10], data: Self.group), QuantSpec(bits: 2, group: 0, dim: .oc, clip: c24))
        #expect(q24.scales.data == [1])
    }

    /// The same group, per-IC (one column of 10 rows), finds the same ratio.
    @Test func perICGroupFindsTheSameRatio() throws {
        let q = try quantizeRTN(Tensor(shape: [10, 1], data: Self.group), QuantSpec(bits: 2, group: 0, dim: .ic, clip: Self.small))
        #expect(q.scales.data == [1] && q.zeros.data == [0])
    }

    /// Weighted: the element 4 weighs 100, the others 1. p = 1 costs 20/9 (4 is exact there),
    /// p = 0.75 costs 100·1 = 100, p = 0.5 costs 4/9 + 100·4 = 400.4: p = 1 wins, where the
    /// plain search picked 0.75.
    @Test func weightsMoveTheChoice() throws {
        var c = Self.small
        c.mode = .weighted
        let imp: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 100]
        let q = try quantizeRTN(Tensor(shape: [1, 10], data: Self.group), QuantSpec(bits: 2, group: 0, dim: .oc, clip: c),
                                importance: imp)
        #expect(abs(q.scales.data[0] - 4.0 / 3) < 1e-6)
        #expect(q.dequantized.data[9] == 4)
        // Per-IC: one input column, so one weight for the whole group: the plain choice.
        let qi = try quantizeRTN(Tensor(shape: [10, 1], data: Self.group), QuantSpec(bits: 2, group: 0, dim: .ic, clip: c),
                                 importance: [100])
        #expect(qi.scales.data == [1])
    }

    /// Every group of a random matrix (both dimensions, plain and weighted, three grids, a
    /// ragged last group) reaches the float64 search's smallest error.
    @Test(arguments: [QuantDim.oc, .ic], [ClipMode.mse, .weighted])
    func randomGroupsMatchTheFloat64Search(dim: QuantDim, mode: ClipMode) throws {
        var rng = TestRNG(seed: 41)
        let (rows, cols, g) = (24, 40, 16)
        let w = randomMatrix(rows, cols, &rng)
        let imp = (0..<cols).map { _ in rng.uniform(0.01, 3) * (rng.int(0...7) == 0 ? 20 : 1) }
        for grid in [GridKind.minmax, .gptq, .symmetric] {
            let clip = ClipSearch(mode: mode)
            let q = try quantizeRTN(w, QuantSpec(bits: 3, group: g, dim: dim, grid: grid, clip: clip), importance: imp)
            let plain = try quantizeRTN(w, QuantSpec(bits: 3, group: g, dim: dim, grid: grid))
            var improved = 0
            let along = dim == .oc ? cols : rows
            for other in 0..<(dim == .oc ? rows : cols) {
                for lo in stride(from: 0, to: along, by: g) {
                    let idx = (lo..<min(lo + g, along)).map { dim == .oc ? other * cols + $0 : $0 * cols + other }
                    let x = idx.map { w.data[$0] }
                    let wts: [Double]? = mode == .weighted ? idx.map { Double(imp[$0 % cols]) } : nil
                    let best = dBestError(x, wts, bits: 3, grid: grid, steps: 100, minRatio: 0.2, norm: 2.4)
                    let got = dError(x, idx.map { q.dequantized.data[$0] }, wts, norm: 2.4)
                    let before = dError(x, idx.map { plain.dequantized.data[$0] }, wts, norm: 2.4)
                    #expect(abs(got - best) <= 1e-5 * best + 1e-9, "\(grid) group at \(other), \(lo): \(got) vs \(best)")
                    #expect(got <= before + 1e-9 * before)
                    if got < before * 0.999 { improved += 1 }
                }
            }
            #expect(improved > 0, "the search shrinks some ranges (\(grid))")
        }
    }

    /// GPTQ's static per-OC groups come from the original weights: with a clip search they are
    /// the RTN search's on GPTQ's grid (weighted by the Hessian diagonal).
    @Test(arguments: [ClipMode.mse, .weighted])
    func gptqStaticGroupsAreTheRTNSearch(mode: ClipMode) throws {
        var rng = TestRNG(seed: 7)
        let w = randomMatrix(12, 32, &rng)
        let h = hessianOf(randomActivations(96, 32, &rng))
        let clip = ClipSearch(mode: mode)
        let g = try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: 3, group: 8, dim: .oc, clip: clip))
        let r = try quantizeRTN(w, QuantSpec(bits: 3, group: 8, dim: .oc, grid: .gptq, clip: clip),
                                importance: h.diagonal().map(Float.init))
        #expect(g.scales == r.scales && g.zeros == r.zeros)
        let g0 = try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: 3, group: 8, dim: .oc))
        #expect(g0.scales != g.scales, "the search changed some group")
    }

    /// per-IC GPTQ fits each column's groups when the column is reached: without act-order the
    /// first column has had no update yet, so its groups are the RTN search's.
    @Test func gptqPerICFirstColumnIsTheRTNSearch() throws {
        var rng = TestRNG(seed: 9)
        let w = randomMatrix(32, 10, &rng)
        let x = randomActivations(128, 10, &rng)
        let h = hessianOf(x)
        let spec = QuantSpec(bits: 3, group: 8, dim: .ic, clip: ClipSearch(mode: .mse))
        let g = try quantizeGPTQ(w, hessian: h, spec: spec, options: GPTQOptions(actOrder: false))
        let r = try quantizeRTN(w, spec)
        for gi in 0..<4 { #expect(g.scales.data[gi * 10] == r.scales.data[gi * 10] && g.zeros.data[gi * 10] == r.zeros.data[gi * 10]) }
    }

    @Test func badSettingsAndMissingWeightsAreErrors() {
        func origin(_ body: () throws -> Void) -> QuantError.Origin? {
            do { try body(); return nil } catch let e as QuantError { return e.origin } catch { return nil }
        }
        let w = Tensor(shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(origin { _ = try quantizeRTN(w, QuantSpec(bits: 2, group: 4, dim: .oc, clip: ClipSearch(mode: .mse, minRatio: 0))) } == .options)
        #expect(origin { _ = try quantizeRTN(w, QuantSpec(bits: 2, group: 4, dim: .oc, clip: ClipSearch(mode: .mse, norm: -1))) } == .options)
        #expect(origin { _ = try quantizeRTN(w, QuantSpec(bits: 2, group: 4, dim: .oc, clip: ClipSearch(mode: .weighted))) } == .calibration)
        #expect(origin { _ = try quantizeRTN(w, QuantSpec(bits: 2, group: 4, dim: .oc, clip: ClipSearch(mode: .weighted)), importance: [1, 2]) } == .calibration)
    }

    /// A whole-model RTN with clip=mse is each module's RTN with the search; clip=weighted
    /// needs calibration and is each module's search weighted by its input site's Hessian diagonal.
    @Test func modelRunsUseTheSearchInEveryModule() throws {
        let m = QTiny.model()
        let windows = QTiny.windows(count: 4, length: 24)
        var o = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.oc))
        o.clip = ClipSearch(mode: .mse)
        let q = try quantizeModel(m, options: o)
        for id in m.linearIDs {
            let r = try quantizeRTN(m[id], QuantSpec(bits: 3, group: 8, dim: .oc, clip: o.clip))
            #expect(q.layers[id]!.scales == r.scales && q.layers[id]!.codes == r.codes, "\(id)")
        }
        o.clip.mode = .weighted
        #expect(o.needsCalibration)
        #expect(throws: QuantError.self) { _ = try quantizeModel(m, options: o) }
        let qw = try quantizeModel(m, options: o, calibration: windows)
        let hs = try CalibrationHessians(model: m, calibration: windows)
        for id in m.linearIDs {
            let r = try quantizeRTN(m[id], QuantSpec(bits: 3, group: 8, dim: .oc, clip: o.clip),
                                    importance: hs.hessian(id).diagonal().map(Float.init))
            #expect(qw.layers[id]!.scales == r.scales, "\(id)")
        }
        // AdaDim with the search: each module's layer is its search in the chosen dimension.
        var oa = QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .ada(.block))
        oa.clip = ClipSearch(mode: .mse)
        let qa = try quantizeModel(m, options: oa, calibration: windows)
        for rep in qa.reports {
            let r = try quantizeRTN(m[rep.id], QuantSpec(bits: 3, group: 8, dim: rep.dim, clip: oa.clip))
            #expect(qa.layers[rep.id]!.scales == r.scales, "\(rep.id)")
        }
    }
}
