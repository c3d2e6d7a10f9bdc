import AdaTestSupport
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// Largest |a − b| over two models' logits on `tokens`, relative to the largest |a|.
func relLogitDiff(_ a: LlamaModel, _ b: LlamaModel, _ tokens: [Int32]) -> Float {
    let (la, lb) = (a.forward(tokens), b.forward(tokens))
    return maxAbsDiff(la, lb) / max(maxAbs(la.data), 1e-6)
}

@Suite("activation-aware scaling (AWQ)")
struct AWQTests {
    static let model = QTiny.model()
    static let windows = QTiny.windows(count: 4, length: 24)

    /// mean |x| = [1, 4, 0.25], α = 0.5: s = [1, 2, 0.5], √(max·min) = √(2·0.5) = 1, so s stays
    /// [1, 2, 0.5]; α = 1: [1, 4, 0.25] / √(4·0.25) = the same means; α = 0: all 1.
    @Test func scalesAreMeansToTheAlphaNormalized() {
        #expect(awqScales([1, 4, 0.25], alpha: 0.5) == [1, 2, 0.5])
        #expect(awqScales([1, 4, 0.25], alpha: 1) == [1, 4, 0.25])
        #expect(awqScales([1, 4, 0.25], alpha: 0) == [1, 1, 1])
        // [1, 9] at α = 0.5: [1, 3] / √3.
        let s = awqScales([1, 9], alpha: 0.5)
        #expect(abs(s[0] - 1 / Float(3).squareRoot()) < 1e-6 && abs(s[1] - Float(3).squareRoot()) < 1e-6)
    }

    /// Folding arbitrary scales into every group (q/k/v into attn_norm, o into v's rows with
    /// GQA's shared heads, gate/up into ffn_norm, down into up's rows) leaves the logits equal.
    @Test func foldingAnyScalesKeepsTheFunction() {
        var rng = TestRNG(seed: 5)
        let m = Self.model
        var f = m
        for b in 0..<m.blocks.count {
            var blk = m.blocks[b]
            for g in AWQGroup.allCases {
                let n = g.site.size(m.config)
                var s = (0..<n).map { _ in rng.uniform(0.25, 4) }
                if g == .o { s = kvSharedMeans(s.map(Double.init), m.config).map(Float.init) }
                awqFold(&blk, g, s, m.config)
            }
            f.blocks[b] = blk
        }
        #expect(f.blocks[0].v != m.blocks[0].v && f.blocks[0].attnNorm != m.blocks[0].attnNorm)
        let d = relLogitDiff(m, f, Self.windows[0])
        #expect(d < 1e-5, "relative logit difference \(d)")
    }

    /// The searched model: the same function, each group's chosen α at most as bad as α = 0 on
    /// the search's criterion (better somewhere per-OC, no change per-IC), and the criterion recomputed here for the chosen α (RTN of W·s,
    /// divided by s, output error on the block's full-precision inputs) equal to the reported one.
    @Test(arguments: [QuantDim.oc, .ic])
    func searchedModelKeepsTheFunctionAndLowersTheError(dim: QuantDim) throws {
        let m = Self.model
        let spec = QuantSpec(bits: 3, group: 8, dim: dim)
        let r = try awqScale(m, calibration: Self.windows, options: AWQOptions(spec: spec, alphaGrid: 10))
        #expect(r.choices.count == m.blocks.count * 4)
        #expect(relLogitDiff(m, r.model, Self.windows[1]) < 1e-5)
        #expect(r.choices.allSatisfy { $0.errorScaled <= $0.errorPlain })
        if dim == .oc {
            #expect(r.choices.contains { $0.alpha > 0 && $0.errorScaled < $0.errorPlain * 0.99 }, "some group gains")
        } else {
            // A per-IC group lies in one input column: scaling the column scales the group's
            // range and every weight alike, so RTN's relative error and the output error are
            // unchanged (up to float rounding) whatever α.
            #expect(r.choices.allSatisfy { $0.errorScaled >= $0.errorPlain * (1 - 1e-4) })
            // So per-IC only α = 0 is tried: folding o's and down's scales into v's and up's
            // rows would change those modules' per-IC groups. The model is returned unchanged.
            #expect(r.choices.allSatisfy { $0.alpha == 0 && $0.errorScaled == $0.errorPlain })
            for id in m.linearIDs { #expect(r.model[id] == m[id], "\(id)") }
            for b in m.blocks.indices { #expect(r.model.blocks[b].attnNorm == m.blocks[b].attnNorm) }
        }
        // α = 0's error, recomputed from the definition: RTN of each module, output MSE × rows.
        let hs = try CalibrationHessians(model: m, calibration: Self.windows)
        for c in r.choices where c.block == 0 {
            var e = 0.0
            for k in c.group.kinds {
                let w = m.blocks[0][k]
                e += outputMSE(w, try quantizeRTN(w, spec).dequantized, hessian: hs.blocks[0][k]) * Double(w.shape[0])
            }
            #expect(abs(e - c.errorPlain) <= 1e-6 * e + 1e-12, "\(c.group): \(e) vs \(c.errorPlain)")
        }
    }

    @Test func badSettingsAreErrors() {
        let spec = QuantSpec(bits: 3, group: 8, dim: .oc)
        #expect(throws: QuantError.self) { _ = try awqScale(Self.model, calibration: [], options: AWQOptions(spec: spec)) }
        #expect(throws: QuantError.self) { _ = try awqScale(Self.model, calibration: Self.windows, options: AWQOptions(spec: spec, alphaGrid: 0)) }
        #expect(throws: QuantError.self) {
            _ = try awqScale(Self.model, calibration: Self.windows, options: AWQOptions(spec: QuantSpec(bits: 3, group: 64, dim: .oc)))
        }
    }
}
