import AdaTestSupport
import AdaQuant
import AdaTensor
import Testing

/// A seeded GPTQ problem: weights `[oc, ic]` and calibration inputs `[n, ic]`.
private struct Problem {
    let w: Tensor
    let x: Tensor
    init(oc: Int, ic: Int, n: Int, seed: UInt64, deadColumns: [Int] = []) {
        var rng = TestRNG(seed: seed)
        w = randomMatrix(oc, ic, &rng, scale: 0.5)
        var x = randomActivations(n, ic, &rng)
        for c in deadColumns { for t in 0..<n { x.data[t * ic + c] = 0 } }
        self.x = x
    }
    var hessian: Hessian { hessianOf(x) }
}

/// Compares the library's GPTQ to the float64 reference. Entries must agree within 1e-4 of the
/// weights' magnitude. The library runs in Float32 (the column updates, the Hessian sum), the
/// reference in float64, so a value lying within ~1e-6 of a rounding boundary can round to the
/// neighbouring code, and the changed error then shifts later columns slightly: at least 99% of
/// the entries must match, and the rest must stay within one quantization step.
private func expectMatchesReference(_ got: QuantizedTensor, _ ref: [Float], what: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
    let tol = 1e-4 * max(maxAbs(ref), 1e-3)
    let a = agreement(got.dequantized.data, ref, tol: tol)
    let maxScale = maxAbs(got.scales.data)
    #expect(a.fraction >= 0.99, "\(what): \(a.fraction * 100)% of entries match, max diff \(a.maxDiff)",
            sourceLocation: sourceLocation)
    #expect(a.maxDiff <= maxScale * 1.01, "\(what): max diff \(a.maxDiff) vs largest step \(maxScale)",
            sourceLocation: sourceLocation)
}

@Suite("GPTQ")
struct GPTQTests {
    @Test(arguments: [(QuantDim.oc, true), (.oc, false), (.ic, true), (.ic, false)])
    func matchesFloat64Reference(dim: QuantDim, actOrder: Bool) throws {
        var exact = 0, total = 0
        for seed: UInt64 in 1...4 {
            for bits in [2, 3, 4] {
                let p = Problem(oc: 12, ic: 16, n: 64, seed: seed * 100 + UInt64(bits))
                let spec = QuantSpec(bits: bits, group: 4, dim: dim)
                let got = try quantizeGPTQ(p.w, hessian: p.hessian, spec: spec,
                                           options: GPTQOptions(actOrder: actOrder))
                // per-OC runs on GPTQ's grid (static groups), per-IC on the spec's minmax grid.
                #expect(got.spec.grid == (dim == .oc ? .gptq : .minmax))
                #expect(got.codes.allSatisfy { Int($0) < 1 << bits })
                let re = QuantizedTensor.dequantize(codes: got.codes, scales: got.scales, zeros: got.zeros, rows: 12, cols: 16,
                                                    dim: dim, groupSize: 4)
                #expect(re == got.dequantized)
                let ref = referenceGPTQ(p.w, x: p.x, bits: bits, group: 4, dim: dim, actOrder: actOrder)
                expectMatchesReference(got, ref, what: "seed \(seed) w\(bits) \(dim) actOrder \(actOrder)")
                let tol = 1e-4 * maxAbs(ref)
                exact += zip(got.dequantized.data, ref).filter { abs($0 - $1) <= tol }.count
                total += ref.count
            }
        }
        // Rounding flips are rare: nearly every entry of every case matches.
        #expect(Double(exact) / Double(total) >= 0.995, "\(exact)/\(total)")
    }

    @Test func perOCStaticGroupsComeFromTheOriginalWeights() throws {
        // Scales and zeros of per-OC GPTQ are GPTQ's grid fitted to the original weight groups,
        // whatever the error updates do later (static groups).
        let p = Problem(oc: 6, ic: 12, n: 48, seed: 9)
        let got = try quantizeGPTQ(p.w, hessian: p.hessian, spec: QuantSpec(bits: 3, group: 4, dim: .oc))
        #expect(got.scales.shape == [6, 3])
        for r in 0..<6 {
            for gi in 0..<3 {
                let g = RefGroup.fit(Array(p.w.data[(r * 12 + gi * 4)..<(r * 12 + gi * 4 + 4)]), bits: 3, grid: .gptq)
                #expect(got.scales[r, gi] == g.scale)
                #expect(got.zeros[r, gi] == g.zero)
            }
        }
        // per-channel and ragged per-OC also match the reference.
        for group in [0, 5] {
            let q = try quantizeGPTQ(p.w, hessian: p.hessian, spec: QuantSpec(bits: 3, group: group, dim: .oc))
            #expect(q.ragged == (group == 5))
            expectMatchesReference(q, referenceGPTQ(p.w, x: p.x, bits: 3, group: group, dim: .oc, actOrder: true),
                                   what: "per-OC g\(group)")
        }
        for group in [0, 4] {
            let q = try quantizeGPTQ(p.w, hessian: p.hessian, spec: QuantSpec(bits: 3, group: group, dim: .ic))
            #expect(q.ragged == (group == 4 && 6 % 4 != 0))
            expectMatchesReference(q, referenceGPTQ(p.w, x: p.x, bits: 3, group: group, dim: .ic, actOrder: true),
                                   what: "per-IC g\(group)")
        }
    }

    @Test func lazyBatchSizeDoesNotChangeTheResult() throws {
        for (seed, dim) in [(UInt64(31), QuantDim.oc), (32, .ic)] {
            let p = Problem(oc: 12, ic: 40, n: 128, seed: seed)
            let spec = QuantSpec(bits: 3, group: 4, dim: dim)
            let big = try quantizeGPTQ(p.w, hessian: p.hessian, spec: spec, options: GPTQOptions(blockSize: 128))
            for bs in [1, 4, 7, 16] {
                let small = try quantizeGPTQ(p.w, hessian: p.hessian, spec: spec, options: GPTQOptions(blockSize: bs))
                let a = agreement(small.dequantized.data, big.dequantized.data, tol: 1e-5 * maxAbs(big.dequantized.data))
                // Only the Float32 summation order differs.
                #expect(a.fraction >= 0.99, "\(dim) block \(bs): \(a.fraction)")
                #expect(a.maxDiff <= maxAbs(big.scales.data) * 1.01)
            }
        }
    }

    @Test func actOrderOnAndOffBothWorkAndDiffer() throws {
        let p = Problem(oc: 12, ic: 16, n: 64, seed: 41)
        for dim in QuantDim.allCases {
            let spec = QuantSpec(bits: 3, group: 4, dim: dim)
            let on = try quantizeGPTQ(p.w, hessian: p.hessian, spec: spec, options: GPTQOptions(actOrder: true))
            let off = try quantizeGPTQ(p.w, hessian: p.hessian, spec: spec, options: GPTQOptions(actOrder: false))
            #expect(on.dequantized != off.dequantized, "the column order matters")
            let rtnSpec = QuantSpec(bits: 3, group: 4, dim: dim, grid: dim == .oc ? .gptq : .minmax)
            let rtn = outputErrorSum(p.w, try quantizeRTN(p.w, rtnSpec).dequantized, p.x).sum
            for q in [on, off] {
                #expect(outputErrorSum(p.w, q.dequantized, p.x).sum <= rtn)
            }
        }
    }

    @Test func deadInputsGiveZeroColumns() throws {
        let dead = [2, 9]
        let p = Problem(oc: 12, ic: 16, n: 64, seed: 51, deadColumns: dead)
        #expect(p.hessian.diagonal()[2] == 0 && p.hessian.diagonal()[9] == 0)
        for dim in QuantDim.allCases {
            for actOrder in [true, false] {
                let spec = QuantSpec(bits: 3, group: 4, dim: dim)
                let got = try quantizeGPTQ(p.w, hessian: p.hessian, spec: spec, options: GPTQOptions(actOrder: actOrder))
                for r in 0..<12 { for c in dead { #expect(got.dequantized[r, c] == 0, "\(dim) (\(r),\(c))") } }
                let ref = referenceGPTQ(p.w, x: p.x, bits: 3, group: 4, dim: dim, actOrder: actOrder)
                for r in 0..<12 { for c in dead { #expect(ref[r * 16 + c] == 0) } }
                expectMatchesReference(got, ref, what: "dead inputs \(dim) actOrder \(actOrder)")
            }
        }
        // per-OC static groups are fitted after zeroing: the groups holding a dead column see a 0 there.
        let q = try quantizeGPTQ(p.w, hessian: p.hessian, spec: QuantSpec(bits: 3, group: 4, dim: .oc))
        var zeroed = p.w
        for r in 0..<12 { for c in dead { zeroed.data[r * 16 + c] = 0 } }
        for r in 0..<12 {
            let g = RefGroup.fit(Array(zeroed.data[(r * 16 + 8)..<(r * 16 + 12)]), bits: 3, grid: .gptq)
            #expect(q.scales[r, 2] == g.scale && q.zeros[r, 2] == g.zero)
        }
    }

    /// GPTQ's output error on its calibration data never exceeds RTN's in the same dimension
    /// (per-OC: the same GPTQ grid and static groups; per-IC: the minmax grid).
    @Test func neverWorseThanRTNOnCalibrationData() throws {
        var rng = TestRNG(seed: 0xC0FFEE)
        var ratios: [Double] = []
        for case_ in 0..<30 {
            let oc = rng.int(4...24), ic = rng.int(4...32)
            let n = rng.int(2 * ic...4 * ic)
            let bits = [2, 3, 3, 4, 4, 8][rng.int(0...5)]
            let dim: QuantDim = rng.int(0...1) == 0 ? .oc : .ic
            let along = dim == .oc ? ic : oc
            // per-channel, a divisor, or a ragged size.
            let group = [0, min(4, along), min(along, max(1, along / 2 + 1)), min(8, along)][rng.int(0...3)]
            let w = randomMatrix(oc, ic, &rng, scale: 0.5)
            let x = randomActivations(n, ic, &rng)
            let h = hessianOf(x)
            let g = try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: bits, group: group, dim: dim),
                                     options: GPTQOptions(actOrder: rng.int(0...3) != 0))
            let r = try quantizeRTN(w, QuantSpec(bits: bits, group: group, dim: dim, grid: dim == .oc ? .gptq : .minmax))
            let eg = outputErrorSum(w, g.dequantized, x).sum, er = outputErrorSum(w, r.dequantized, x).sum
            #expect(eg <= er * (1 + 1e-6), "case \(case_): \(oc)×\(ic) n \(n) w\(bits) g\(group) \(dim): GPTQ \(eg) > RTN \(er)")
            ratios.append(eg / er)
        }
        // And on average it is a real improvement.
        #expect(ratios.reduce(0, +) / Double(ratios.count) < 0.9, "mean GPTQ/RTN error ratio \(ratios)")
    }

    @Test func outputMSEIsTheMeanSquaredOutputError() throws {
        for (seed, dim) in [(UInt64(61), QuantDim.oc), (62, .ic)] {
            let p = Problem(oc: 10, ic: 24, n: 80, seed: seed)
            for bits in [2, 4] {
                let q = try quantizeRTN(p.w, QuantSpec(bits: bits, group: 8, dim: dim))
                let direct = outputErrorSum(p.w, q.dequantized, p.x)
                let lib = outputMSE(p.w, q.dequantized, hessian: p.hessian)
                let ref = direct.sum / Double(direct.count)
                expectClose(lib, ref, rel: 1e-4, "GPTQ against the float64 reference:")
            }
            // Identical weights: zero error.
            #expect(outputMSE(p.w, p.w, hessian: p.hessian) == 0)
        }
        // No tokens: undefined.
        #expect(outputMSE(Tensor(zeros: [2, 3]), Tensor(zeros: [2, 3]), hessian: Hessian(size: 3)).isNaN)
    }

    @Test func hessianInChunksEqualsOneBigSum() throws {
        var rng = TestRNG(seed: 71)
        let (n, k) = (50, 12)
        let x = randomActivations(n, k, &rng)
        var whole = Hessian(size: k)
        whole.add(x)
        var parts = Hessian(size: k)
        var t0 = 0
        for len in [7, 1, 20, 22] {
            parts.add(x.rows(t0..<(t0 + len)))
            t0 += len
        }
        #expect(t0 == n)
        #expect(parts.tokens == n && whole.tokens == n)
        // float64 reference: H = (2/N)·XᵀX.
        var ref = [Double](repeating: 0, count: k * k)
        for t in 0..<n { for i in 0..<k { for j in 0..<k { ref[i * k + j] += Double(x[t, i]) * Double(x[t, j]) } } }
        for i in 0..<(k * k) { ref[i] *= 2 / Double(n) }
        let scale = ref.map(abs).max()!
        let a = whole.matrix(), b = parts.matrix()
        for i in 0..<(k * k) {
            #expect(abs(a[i] - b[i]) <= 1e-6 * scale, "chunked \(i)")
            #expect(abs(a[i] - ref[i]) <= 1e-6 * scale, "reference \(i)")
        }
        // Symmetric, and the diagonal accessor agrees.
        for i in 0..<k { for j in 0..<k { #expect(a[i * k + j] == a[j * k + i]) } }
        #expect(whole.diagonal() == (0..<k).map { a[$0 * k + $0] })
    }
}
