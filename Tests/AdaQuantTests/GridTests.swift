import AdaTestSupport
import AdaQuant
import AdaTensor
import Testing

/// One row `[1, n]` quantized per-channel per-OC: one group holding all the values.
private func row(_ v: [Float], bits: Int, grid: GridKind) throws -> QuantizedTensor {
    try quantizeRTN(Tensor(shape: [1, v.count], data: v), QuantSpec(bits: bits, group: 0, dim: .oc, grid: grid))
}

private func codes(_ q: QuantizedTensor) -> [Int] { q.codes.map(Int.init) }

/// Checks the invariants every result must satisfy: codes in range, shapes, and the stored
/// parameters rebuild `dequantized` exactly.
private func checkConsistent(_ q: QuantizedTensor, _ w: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
    let (rows, cols) = (w.shape[0], w.shape[1])
    let maxq = (1 << q.spec.bits) - 1
    #expect(q.codes.count == rows * cols, sourceLocation: sourceLocation)
    #expect(q.codes.allSatisfy { Int($0) <= maxq }, "codes within 0…\(maxq)", sourceLocation: sourceLocation)
    let along = q.spec.dim == .oc ? cols : rows
    let ng = (along + q.groupSize - 1) / q.groupSize
    #expect(q.scales.shape == (q.spec.dim == .oc ? [rows, ng] : [ng, cols]), sourceLocation: sourceLocation)
    #expect(q.zeros.shape == q.scales.shape, sourceLocation: sourceLocation)
    #expect(q.ragged == (along % q.groupSize != 0), sourceLocation: sourceLocation)
    let re = QuantizedTensor.dequantize(codes: q.codes, scales: q.scales, zeros: q.zeros, rows: rows, cols: cols,
                                        dim: q.spec.dim, groupSize: q.groupSize)
    #expect(re == q.dequantized, "dequantize(codes:scales:zeros:) reproduces dequantized exactly", sourceLocation: sourceLocation)
}

@Suite("Grids and RTN")
struct GridTests {
    @Test func minmaxHandExample() throws {
        // range 3 at 2 bits: scale 1, zero round(1.0) = 1.
        let q = try row([-1.0, -0.2, 0.4, 2.0], bits: 2, grid: .minmax)
        #expect(q.scales.data == [1])
        #expect(q.zeros.data == [1])
        #expect(codes(q) == [0, 1, 1, 3])
        #expect(q.dequantized.data == [-1, 0, 0, 2])
        // 3 bits, range 14: scale 2, zero round(3/2 = 1.5) = 2 (half to even).
        let q3 = try row([-3, 1, 4.9, 11], bits: 3, grid: .minmax)
        #expect(q3.scales.data == [2])
        #expect(q3.zeros.data == [2])
        // w/scale = −1.5 → −2 (even), 0.5 → 0, 2.45 → 2, 5.5 → 6 (even) → clamp(8) = 7.
        #expect(codes(q3) == [0, 2, 4, 7])
        #expect(q3.dequantized.data == [-4, 0, 4, 10])
    }

    @Test func roundHalfToEvenTies() throws {
        // scale exactly 1 and every w/scale exactly k + 0.5.
        let q = try row([-1.5, -0.5, 0.5, 1.5], bits: 2, grid: .minmax)
        #expect(q.scales.data == [1])
        #expect(q.zeros.data == [2])            // round(1.5) = 2
        // round: −1.5 → −2, −0.5 → −0, 0.5 → 0, 1.5 → 2; then + 2 and clamp to 3.
        #expect(codes(q) == [0, 2, 2, 3])
        #expect(q.dequantized.data == [-2, 0, 0, 1])
        // Rounding half away from zero would give codes [0, 1, 3, 3] and [−2, −1, 1, 1].
        let q3 = try row([0, 2.5, 3.5, 4.5, 7], bits: 3, grid: .minmax)
        #expect(q3.scales.data == [1] && q3.zeros.data == [0])
        #expect(codes(q3) == [0, 2, 4, 4, 7])
        #expect(q3.dequantized.data == [0, 2, 4, 4, 7])
        // Zero point ties too: min −2.5, range 7 at 3 bits → zero = round(2.5) = 2.
        let qz = try row([-2.5, 4.5], bits: 3, grid: .minmax)
        #expect(qz.zeros.data == [2])
        #expect(codes(qz) == [0, 6])            // round(−2.5) = −2 → 0; round(4.5) = 4 → 6
        #expect(qz.dequantized.data == [-2, 4])
    }

    @Test func referenceGridCollapsesAllPositiveGroupsMinmaxDoesNot() throws {
        let v: [Float] = [0.5, 0.6, 0.7, 1.0]
        let ref = try row(v, bits: 2, grid: .reference)
        let s: Float = 0.5 / 3
        #expect(ref.scales.data == [s])
        #expect(ref.zeros.data == [0])          // round(−3) clamped to 0
        #expect(codes(ref) == [3, 3, 3, 3])
        for x in ref.dequantized.data { #expect(abs(x - 0.5) <= 1e-6) }

        let mm = try row(v, bits: 2, grid: .minmax)
        #expect(mm.zeros.data == [-3])          // zero point outside 0…3
        // w/s = 3, 3.6, 4.2, 6 → 3, 4, 4, 6 → minus 3.
        #expect(codes(mm) == [0, 1, 1, 3])
        let expected: [Float] = [0.5, 4 * s, 4 * s, 1.0]
        for (x, e) in zip(mm.dequantized.data, expected) { #expect(abs(x - e) <= 1e-6) }
        for (x, w) in zip(mm.dequantized.data, v) { #expect(abs(x - w) <= s / 2 + 1e-6) }
        #expect(Set(mm.dequantized.data).count == 3)
        // All-negative group, mirrored.
        let neg = try row(v.map { -$0 }, bits: 2, grid: .minmax)
        for (x, w) in zip(neg.dequantized.data, v) { #expect(abs(x + w) <= s / 2 + 1e-6) }
        let negRef = try row(v.map { -$0 }, bits: 2, grid: .reference)
        #expect(negRef.zeros.data == [3])      // round(6) clamped to 3
        for x in negRef.dequantized.data { #expect(abs(x + 0.5) <= 1e-6) }
    }

    @Test func symmetricHandExample() throws {
        // absmax 3.5 at 3 bits: scale 2·3.5/7 = 1, zero round(8/2) = 4.
        let q = try row([-3.5, -1.2, 0.5, 2.6, 3.5], bits: 3, grid: .symmetric)
        #expect(q.scales.data == [1])
        #expect(q.zeros.data == [4])
        // round: −3.5 → −4, −1.2 → −1, 0.5 → 0, 2.6 → 3, 3.5 → 4; + 4, clamp to 7.
        #expect(codes(q) == [0, 3, 4, 7, 7])
        #expect(q.dequantized.data == [-4, -1, 0, 3, 3])
        // 2 bits, absmax 1.5: scale 1, zero 2.
        let q2 = try row([1.5, -0.4, 0.2], bits: 2, grid: .symmetric)
        #expect(q2.scales.data == [1] && q2.zeros.data == [2])
        #expect(codes(q2) == [3, 2, 2])
        #expect(q2.dequantized.data == [1, 0, 0])
        // All zero: a tiny positive scale, everything maps to the middle code and back to 0.
        let z = try row([0, 0, 0], bits: 4, grid: .symmetric)
        #expect(z.scales.data[0] > 0)
        #expect(z.dequantized.data == [0, 0, 0])
    }

    @Test func gptqGridIncludesZero() throws {
        // All positive: lo = 0, hi = 3, scale 1, zero 0.
        let p = try row([0.5, 1, 2, 3], bits: 2, grid: .gptq)
        #expect(p.scales.data == [1] && p.zeros.data == [0])
        #expect(codes(p) == [0, 1, 2, 3])       // 0.5 is a tie → 0
        #expect(p.dequantized.data == [0, 1, 2, 3])
        // All negative: lo = −3, hi = 0, zero 3.
        let n = try row([-3, -1, -0.5, -2], bits: 2, grid: .gptq)
        #expect(n.scales.data == [1] && n.zeros.data == [3])
        #expect(codes(n) == [0, 2, 3, 1])       // −0.5 → −0 → 3
        #expect(n.dequantized.data == [-3, -1, 0, -2])
        // All zero: the range becomes [−1, 1]: scale 2/3, zero round(1.5) = 2.
        let z = try row([0, 0], bits: 2, grid: .gptq)
        #expect(z.scales.data == [Float(2) / 3] && z.zeros.data == [2])
        #expect(z.dequantized.data == [0, 0])
        // Mixed signs: same as minmax.
        let m = try row([-1, 0.25, 2], bits: 2, grid: .gptq)
        #expect(m.scales.data == [1] && m.zeros.data == [1])
        #expect(m.dequantized.data == [-1, 0, 2])
    }

    @Test func floatZeroReproducesAnAffineGrid() throws {
        // Values on the grid 0.25 + k (k = 0…3): float-zero is exact, an integer zero point is not.
        let v: [Float] = [0.25, 1.25, 2.25, 3.25]
        let f = try row(v, bits: 2, grid: .floatzero)
        #expect(f.scales.data == [1])
        #expect(f.zeros.data == [-0.25])
        #expect(codes(f) == [0, 1, 2, 3])
        #expect(f.dequantized.data == v)
        let m = try row(v, bits: 2, grid: .minmax)
        #expect(m.zeros.data == [0])            // round(−0.25) = −0
        #expect(m.dequantized.data == [0, 1, 2, 3])
        // A Q4_1-like block: d·q + m with 4-bit codes.
        var rng = TestRNG(seed: 11)
        let d: Float = 0.125, mn: Float = -0.8125
        var qs = (0..<32).map { _ in Float(rng.int(0...15)) }
        qs[0] = 0; qs[1] = 15
        let w = qs.map { d * $0 + mn }
        let q41 = try row(w, bits: 4, grid: .floatzero)
        #expect(codes(q41) == qs.map(Int.init))
        for (x, y) in zip(q41.dequantized.data, w) { #expect(abs(x - y) <= 1e-6) }
    }

    @Test(arguments: 2...8)
    func everyBitWidth(bits: Int) throws {
        let maxq = (1 << bits) - 1
        // Values k·0.5 for a permutation of k = 0…maxq sit exactly on the grid.
        var rng = TestRNG(seed: UInt64(bits))
        let ks = (0...maxq).shuffled(using: &rng)
        let w = Tensor(shape: [1, ks.count], data: ks.map { Float($0) * 0.5 })
        for grid in [GridKind.minmax, .reference, .gptq, .floatzero] {
            let q = try quantizeRTN(w, QuantSpec(bits: bits, group: 0, dim: .oc, grid: grid))
            #expect(codes(q) == ks, "\(grid)")
            #expect(q.dequantized.data == w.data, "\(grid)")
            checkConsistent(q, w)
        }
        // Random matrices: |ŵ − w| ≤ scale/2 for minmax (its grid always spans the group), and
        // the invariants for every grid and dimension.
        let r = randomMatrix(12, 20, &rng)
        for dim in QuantDim.allCases {
            for grid in GridKind.allCases {
                let q = try quantizeRTN(r, QuantSpec(bits: bits, group: 4, dim: dim, grid: grid))
                checkConsistent(q, r)
                if grid == .minmax || grid == .floatzero {
                    for i in 0..<12 {
                        for j in 0..<20 {
                            let (gr, gc) = q.groupIndex(row: i, col: j)
                            let s = q.scales[gr, gc]
                            #expect(abs(q.dequantized[i, j] - r[i, j]) <= s / 2 * (1 + 1e-5) + 1e-6, "\(grid) \(dim) (\(i),\(j))")
                        }
                    }
                }
            }
        }
    }

    @Test func perChannelBothDimensions() throws {
        let w = Tensor(shape: [2, 4], data: [0, 1, 2, 3,
                                             -6, 0, 3, 8])
        // per-OC per-channel at 2 bits: row 0 scale 1 zero 0; row 1 range 14 → scale 14/3.
        let oc = try quantizeRTN(w, QuantSpec(bits: 2, group: 0, dim: .oc))
        #expect(oc.groupSize == 4)
        #expect(oc.scales.shape == [2, 1])
        #expect(oc.scales.data[0] == 1 && oc.zeros.data[0] == 0)
        let s1: Float = 14.0 / 3
        #expect(oc.scales.data[1] == s1)
        #expect(oc.zeros.data[1] == (6 / s1).rounded(.toNearestOrEven))  // round(1.2857) = 1
        #expect(Array(oc.dequantized.data[0..<4]) == [0, 1, 2, 3])
        // row 1: w/s = −1.286, 0, 0.643, 1.714 → −1, 0, 1, 2; +1 → 0, 1, 2, 3.
        #expect(Array(codes(oc)[4..<8]) == [0, 1, 2, 3])
        let e1: [Float] = [-1, 0, 1, 2].map { $0 * s1 }
        for (x, e) in zip(oc.dequantized.data[4..<8], e1) { #expect(abs(x - e) <= 1e-5) }
        #expect(!oc.ragged)
        checkConsistent(oc, w)

        // per-IC per-channel: one group per column (2 rows each) at 2 bits.
        let ic = try quantizeRTN(w, QuantSpec(bits: 2, group: 0, dim: .ic))
        #expect(ic.groupSize == 2)
        #expect(ic.scales.shape == [1, 4])
        // columns: [0, −6] [1, 0] [2, 3] [3, 8]: ranges 6, 1, 1, 5.
        #expect(ic.scales.data == [2, Float(1) / 3, Float(1) / 3, Float(5) / 3])
        // zeros round(−min/scale): 3, 0, −6, round(−1.8) = −2.
        #expect(ic.zeros.data == [3, 0, -6, -2])
        // The integer zero point shifts column 3's grid: 3/(5/3) = 1.8 → 2 → code 0 → (0+2)·5/3;
        // 8/(5/3) = 4.8 → 5 → code 3 → (3+2)·5/3. The other columns are exact.
        #expect(codes(ic) == [3, 3, 0, 0, 0, 0, 3, 3])
        let expected: [Float] = [0, 1, 2, 10.0 / 3, -6, 0, 3, 25.0 / 3]
        for (x, e) in zip(ic.dequantized.data, expected) { #expect(abs(x - e) <= 1e-5) }
        checkConsistent(ic, w)
    }

    @Test func raggedLastGroupPerIC() throws {
        // 192 rows, g = 128: groups of 128 and 64 rows. Rows 0..<128 span [0, 1], the rest [−10, 10].
        var rng = TestRNG(seed: 3)
        let (rows, cols) = (192, 4)
        var data = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                data[r * cols + c] = r < 128 ? rng.uniform(0, 1) : rng.uniform(-10, 10)
            }
        }
        for c in 0..<cols {
            data[0 * cols + c] = 0; data[1 * cols + c] = 1
            data[128 * cols + c] = -10; data[191 * cols + c] = 10
        }
        let w = Tensor(shape: [rows, cols], data: data)
        let q = try quantizeRTN(w, QuantSpec(bits: 4, group: 128, dim: .ic))
        #expect(q.ragged)
        #expect(q.scales.shape == [2, cols])
        for c in 0..<cols {
            #expect(q.scales[0, c] == Float(1) / 15)
            #expect(q.scales[1, c] == Float(20) / 15)
            #expect(q.zeros[0, c] == 0)
            #expect(q.zeros[1, c] == (10 / (Float(20) / 15)).rounded(.toNearestOrEven))
        }
        checkConsistent(q, w)
        // Each group equals quantizing its rows alone (per-channel).
        let top = try quantizeRTN(w.rows(0..<128), QuantSpec(bits: 4, group: 0, dim: .ic))
        let bottom = try quantizeRTN(w.rows(128..<192), QuantSpec(bits: 4, group: 0, dim: .ic))
        #expect(Array(q.dequantized.data[0..<(128 * cols)]) == top.dequantized.data)
        #expect(Array(q.dequantized.data[(128 * cols)...]) == bottom.dequantized.data)

        // Not ragged when g divides.
        #expect(try !quantizeRTN(w, QuantSpec(bits: 4, group: 64, dim: .ic)).ragged)
    }

    @Test func raggedLastGroupPerOC() throws {
        var rng = TestRNG(seed: 4)
        let w = randomMatrix(3, 192, &rng)
        let q = try quantizeRTN(w, QuantSpec(bits: 3, group: 128, dim: .oc))
        #expect(q.ragged)
        #expect(q.scales.shape == [3, 2])
        checkConsistent(q, w)
        let left = try quantizeRTN(w.columns(0..<128), QuantSpec(bits: 3, group: 0, dim: .oc))
        let right = try quantizeRTN(w.columns(128..<192), QuantSpec(bits: 3, group: 0, dim: .oc))
        #expect(q.dequantized.columns(0..<128) == left.dequantized)
        #expect(q.dequantized.columns(128..<192) == right.dequantized)
        for r in 0..<3 {
            let seg = Array(w.data[(r * 192 + 128)..<(r * 192 + 192)])
            #expect(q.scales[r, 1] == (seg.max()! - seg.min()!) / 7)
        }
        // The transposed problem per-IC gives the transposed result.
        let t = try quantizeRTN(w.transposed(), QuantSpec(bits: 3, group: 128, dim: .ic))
        #expect(t.dequantized == q.dequantized.transposed())
        #expect(t.scales == q.scales.transposed())
    }

    @Test func invalidSpecsAreErrors() throws {
        let w = Tensor(shape: [4, 8]) { Float($0) }
        // Group larger than the grouped dimension.
        #expect(throws: QuantError.self) { try quantizeRTN(w, QuantSpec(bits: 4, group: 16, dim: .oc)) }
        #expect(throws: QuantError.self) { try quantizeRTN(w, QuantSpec(bits: 4, group: 8, dim: .ic)) }
        #expect(throws: QuantError.self) { try quantizeRTN(w, QuantSpec(bits: 4, group: -2, dim: .oc)) }
        // The same sizes are fine in the other dimension.
        _ = try quantizeRTN(w, QuantSpec(bits: 4, group: 8, dim: .oc))
        _ = try quantizeRTN(w, QuantSpec(bits: 4, group: 4, dim: .ic))
        // Bits outside 2…8.
        for b in [0, 1, 9, 16] {
            #expect(throws: QuantError.self) { try quantizeRTN(w, QuantSpec(bits: b, group: 4, dim: .oc)) }
        }
        // Not a matrix.
        #expect(throws: QuantError.self) { try quantizeRTN(Tensor(shape: [8], data: Array(repeating: 1, count: 8)), QuantSpec(bits: 4, group: 4, dim: .oc)) }
        // GPTQ validates the same way.
        var rng = TestRNG(seed: 5)
        let h = hessianOf(randomMatrix(16, 8, &rng))
        #expect(throws: QuantError.self) { try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: 4, group: 16, dim: .oc)) }
        #expect(throws: QuantError.self) { try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: 4, group: 8, dim: .ic)) }
        #expect(throws: QuantError.self) { try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: 1, group: 4, dim: .oc)) }
        #expect(throws: QuantError.self) { try quantizeGPTQ(w, hessian: Hessian(size: 8), spec: QuantSpec(bits: 4, group: 4, dim: .oc)) }
        #expect(throws: QuantError.self) { try quantizeGPTQ(w, hessian: hessianOf(randomMatrix(16, 4, &rng)), spec: QuantSpec(bits: 4, group: 4, dim: .oc)) }
    }

    @Test func outlierColumnPerICIsolatesItPerOCDoesNot() throws {
        var rng = TestRNG(seed: 21)
        let base = randomMatrix(8, 8, &rng)
        var w = base
        for r in 0..<8 { w.data[r * 8 + 3] *= 100 }
        let others = [0, 1, 2, 4, 5, 6, 7]
        func colErr(_ q: Tensor, _ ref: Tensor, _ cols: [Int], _ map: (Int) -> Int = { $0 }) -> Double {
            var s = 0.0
            for r in 0..<8 { for c in cols { let d = Double(q[r, map(c)]) - Double(ref[r, map(c)]); s += d * d } }
            return s
        }
        // per-IC: every other column's error is exactly what quantizing the matrix without column 3 gives.
        let without = Tensor(shape: [8, 7]) { i in w.data[(i / 7) * 8 + others[i % 7]] }
        for g in [0, 4] {
            let ic = try quantizeRTN(w, QuantSpec(bits: 3, group: g, dim: .ic))
            let icWithout = try quantizeRTN(without, QuantSpec(bits: 3, group: g, dim: .ic))
            for r in 0..<8 {
                for (k, c) in others.enumerated() {
                    #expect(ic.dequantized[r, c] == icWithout.dequantized[r, k])
                }
            }
            // And the same as in the matrix without the outlier (only column 3 changed).
            let icBase = try quantizeRTN(base, QuantSpec(bits: 3, group: g, dim: .ic))
            #expect(colErr(ic.dequantized, w, others) == colErr(icBase.dequantized, base, others))
        }
        // per-OC g4: the other columns of the outlier's groups (0, 1, 2) lose their resolution.
        let oc = try quantizeRTN(w, QuantSpec(bits: 3, group: 4, dim: .oc))
        let ocBase = try quantizeRTN(base, QuantSpec(bits: 3, group: 4, dim: .oc))
        let eOut = colErr(oc.dequantized, w, [0, 1, 2]), eBase = colErr(ocBase.dequantized, base, [0, 1, 2])
        #expect(eOut > 20 * eBase, "per-OC error of columns 0–2: \(eOut) vs \(eBase) without the outlier")
        // Columns 4–7 are in other groups: unchanged.
        #expect(colErr(oc.dequantized, w, [4, 5, 6, 7]) == colErr(ocBase.dequantized, base, [4, 5, 6, 7]))
        // per-channel per-OC: all seven other columns suffer.
        let pc = try quantizeRTN(w, QuantSpec(bits: 3, group: 0, dim: .oc))
        let pcBase = try quantizeRTN(base, QuantSpec(bits: 3, group: 0, dim: .oc))
        #expect(colErr(pc.dequantized, w, others) > 20 * colErr(pcBase.dequantized, base, others))
        // Overall, per-IC beats per-OC on this matrix.
        let ic4 = try quantizeRTN(w, QuantSpec(bits: 3, group: 4, dim: .ic))
        #expect(colErr(ic4.dequantized, w, others) < colErr(oc.dequantized, w, others))
    }
}
