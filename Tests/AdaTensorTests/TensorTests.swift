import AdaTensor
import Foundation
import Testing

/// Element-wise comparison with an absolute tolerance.
private func close(_ a: [Float], _ b: [Float], tol: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol }
}

// A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[7, 8], [9, 10], [11, 12]] (3×2).
private let a23 = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
private let b32 = Tensor(shape: [3, 2], data: [7, 8, 9, 10, 11, 12])

@Suite("Matrix products")
struct MatmulTests {
    @Test func plainProduct() throws {
        // [1 2 3]·[7 9 11]ᵀ = 7+18+33 = 58, [1 2 3]·[8 10 12] = 8+20+36 = 64,
        // [4 5 6]·[7 9 11] = 28+45+66 = 139, [4 5 6]·[8 10 12] = 32+50+72 = 154.
        let c = try Tensor.matmul(a23, b32)
        #expect(c.shape == [2, 2])
        #expect(close(c.data, [58, 64, 139, 154]))
    }

    @Test func transposeA() throws {
        // AᵀA (3×3): columns of A are (1,4), (2,5), (3,6).
        // (1,4)·(1,4)=17, (1,4)·(2,5)=22, (1,4)·(3,6)=27, (2,5)·(2,5)=29, (2,5)·(3,6)=36, (3,6)·(3,6)=45.
        let c = try Tensor.matmul(a23, a23, transposeA: true)
        #expect(c.shape == [3, 3])
        #expect(close(c.data, [17, 22, 27, 22, 29, 36, 27, 36, 45]))
    }

    @Test func transposeB() throws {
        // AAᵀ (2×2): 1+4+9 = 14, 4+10+18 = 32, 16+25+36 = 77.
        let c = try Tensor.matmul(a23, a23, transposeB: true)
        #expect(c.shape == [2, 2])
        #expect(close(c.data, [14, 32, 32, 77]))
        // Bᵀ·Bᵀ is not defined (2×3 · 2×3), but B·B with transposeB: B (3×2) · Bᵀ (2×3) is 3×3.
        let d = try Tensor.matmul(b32, b32, transposeB: true)
        // rows (7,8), (9,10), (11,12): 113, 143, 173 / 143, 181, 219 / 173, 219, 265.
        #expect(close(d.data, [113, 143, 173, 143, 181, 219, 173, 219, 265]))
    }

    @Test func bothTransposed() throws {
        // Bᵀ·Aᵀ = (A·B)ᵀ = [[58, 139], [64, 154]].
        let c = try Tensor.matmul(b32, a23, transposeA: true, transposeB: true)
        #expect(c.shape == [2, 2])
        #expect(close(c.data, [58, 139, 64, 154]))
    }

    @Test func innerDimensionMismatchThrows() {
        #expect(throws: TensorError.self) { try Tensor.matmul(a23, a23) }
        #expect(throws: TensorError.self) { try Tensor.matmul(a23, b32, transposeA: true) }
        #expect(throws: TensorError.self) { try Tensor.matmul(a23, b32, transposeB: true) }
        #expect(throws: TensorError.self) {
            try Tensor.matmul(Tensor(shape: [6], data: [1, 2, 3, 4, 5, 6]), b32)
        }
    }

    @Test func largerProductMatchesNaiveDoubleSum() throws {
        // Integer-valued entries keep every product and sum exact in Float32.
        let m = 37, k = 53, n = 29
        let a = Tensor(shape: [m, k]) { Float(($0 * 7) % 11) - 5 }
        let b = Tensor(shape: [k, n]) { Float(($0 * 5) % 13) - 6 }
        let c = try Tensor.matmul(a, b)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i, p]) * Double(b[p, j]) }
                expected[i * n + j] = Float(s)
            }
        }
        #expect(c.data == expected)
        // (A·B)ᵀ = Bᵀ·Aᵀ via the transpose flags, and matches transposed() copies.
        let ct = try Tensor.matmul(b, a, transposeA: true, transposeB: true)
        #expect(ct == c.transposed())
        let viaCopies = try Tensor.matmul(b.transposed(), a.transposed())
        #expect(viaCopies == ct)
    }

    /// The pool's matrix-vector product against a Float64 sum: rows not a multiple of 4, columns
    /// not of 16, one row, and a matrix large enough to be split into tasks; integer-valued
    /// entries keep every partial sum exact, so the result is exact too.
    @Test func matvecMatchesADoubleSum() {
        for (rows, cols) in [(1, 5), (7, 16), (37, 53), (1031, 600)] {
            let w = Tensor(shape: [rows, cols]) { Float(($0 * 7) % 11) - 5 }
            let x = (0..<cols).map { Float(($0 * 5) % 13) - 6 }
            var y = [Float](repeating: .nan, count: rows)
            w.data.withUnsafeBufferPointer { pw in
                x.withUnsafeBufferPointer { px in
                    y.withUnsafeMutableBufferPointer { py in
                        matvec(rows: rows, cols: cols, w: pw.baseAddress!, x: px.baseAddress!, y: py.baseAddress!)
                    }
                }
            }
            let want = (0..<rows).map { r in Float((0..<cols).reduce(0.0) { $0 + Double(w.data[r * cols + $1]) * Double(x[$1]) }) }
            #expect(y == want, "\(rows)×\(cols)")
        }
    }

    @Test func emptyProduct() throws {
        let c = try Tensor.matmul(Tensor(zeros: [0, 3]), b32)
        #expect(c.shape == [0, 2])
        #expect(c.count == 0)
    }
}

@Suite("Shape operations")
struct ShapeTests {
    @Test func transposeSmall() {
        let t = a23.transposed()
        #expect(t.shape == [3, 2])
        #expect(t.data == [1, 4, 2, 5, 3, 6])
        #expect(t.transposed() == a23)
    }

    @Test func transposeCrossesBlockBoundaries() {
        // 70×45 crosses the 32-wide blocks of the blocked transpose with ragged edges.
        let r = 70, c = 45
        let t = Tensor(shape: [r, c]) { Float($0) }
        let tt = t.transposed()
        #expect(tt.shape == [c, r])
        var ok = true
        for i in 0..<r { for j in 0..<c where tt[j, i] != Float(i * c + j) { ok = false } }
        #expect(ok)
    }

    @Test func reshapeValid() throws {
        let r = try a23.reshaped([3, 2])
        #expect(r.shape == [3, 2])
        #expect(r.data == a23.data)
        #expect(try a23.reshaped([-1]).shape == [6])
        #expect(try a23.reshaped([-1, 3]).shape == [2, 3])
        #expect(try a23.reshaped([1, -1, 2]).shape == [1, 3, 2])
    }

    @Test func reshapeErrors() {
        #expect(throws: TensorError.self) { try a23.reshaped([4, 2]) }
        #expect(throws: TensorError.self) { try a23.reshaped([4, -1]) }
        #expect(throws: TensorError.self) { try a23.reshaped([-1, -1]) }
        #expect(throws: TensorError.self) { try a23.reshaped([0, -1]) }
        #expect(throws: TensorError.self) { try a23.reshaped([-2, -3]) }
        #expect(throws: TensorError.self) { try a23.reshaped([6, 0]) }
        do {
            _ = try a23.reshaped([5])
            Issue.record("reshape [2, 3] → [5] should throw")
        } catch let e as TensorError {
            #expect(e.description.contains("[2, 3]"))
            #expect(e.description.contains("[5]"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func rowsColumnsAndAccessors() {
        let t = Tensor(shape: [3, 4]) { Float($0) }
        #expect(Array(t.row(1)) == [4, 5, 6, 7])
        #expect(t.column(2) == [2, 6, 10])
        #expect(t.rows(1..<3).data == [4, 5, 6, 7, 8, 9, 10, 11])
        #expect(t.columns(1..<3) == Tensor(shape: [3, 2], data: [1, 2, 5, 6, 9, 10]))
        #expect(t[2, 3] == 11)
        #expect(t.rank == 2 && t.rows == 3 && t.cols == 4 && t.count == 12)
        let t3 = Tensor(zeros: [2, 3, 5])
        #expect(t3.matrixShape == (rows: 6, cols: 5))
        var m = t
        m[0, 1] = -1
        #expect(m.data[1] == -1)
        #expect(t.data[1] == 1)  // value semantics
    }
}

@Suite("Element-wise arithmetic")
struct ElementwiseTests {
    let x = Tensor(shape: [2, 2], data: [1, -2, 3, 8])
    let y = Tensor(shape: [2, 2], data: [4, 4, -2, 0.5])

    @Test func operations() throws {
        #expect(try x.adding(y).data == [5, 2, 1, 8.5])
        #expect(try x.subtracting(y).data == [-3, -6, 5, 7.5])
        #expect(try x.multiplying(y).data == [4, -8, -6, 4])
        #expect(try x.dividing(y).data == [0.25, -0.5, -1.5, 16])
        #expect(try (x + y).data == [5, 2, 1, 8.5])
        #expect(try (x - y).data == [-3, -6, 5, 7.5])
        #expect(try (x * y).data == [4, -8, -6, 4])
        #expect(try (x / y).data == [0.25, -0.5, -1.5, 16])
        #expect((x * 2).data == [2, -4, 6, 16])
        #expect(x.scaled(by: -0.5).data == [-0.5, 1, -1.5, -4])
        #expect((x + 1).data == [2, -1, 4, 9])
        #expect(x.map { $0 * $0 }.data == [1, 4, 9, 64])
        var z = x
        z.add(y)
        #expect(z.data == [5, 2, 1, 8.5])
        #expect((try x + y).shape == [2, 2])
    }

    @Test func divisionByZeroFollowsIEEE() throws {
        let r = try Tensor(shape: [3], data: [1, -1, 0]).dividing(Tensor(zeros: [3]))
        #expect(r.data[0] == .infinity)
        #expect(r.data[1] == -.infinity)
        #expect(r.data[2].isNaN)
    }

    @Test func shapeMismatchThrows() {
        let row = Tensor(shape: [1, 4], data: [1, 2, 3, 4])
        let flat = Tensor(shape: [4], data: [1, 2, 3, 4])
        #expect(throws: TensorError.self) { try x.adding(row) }
        #expect(throws: TensorError.self) { try x.subtracting(flat) }
        #expect(throws: TensorError.self) { try x.multiplying(row) }
        #expect(throws: TensorError.self) { try x.dividing(flat) }
        #expect(throws: TensorError.self) { try x + flat }
        do {
            _ = try x * row
            Issue.record("[2, 2] * [1, 4] should throw")
        } catch let e as TensorError {
            #expect(e.description.contains("[2, 2]") && e.description.contains("[1, 4]"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite("Reductions")
struct ReductionTests {
    // [[1, -5, 3], [4, 2, -6]]
    let m = Tensor(shape: [2, 3], data: [1, -5, 3, 4, 2, -6])

    @Test func whole() {
        #expect(m.sum() == -1)
        #expect(abs(m.mean() - (-1.0 / 6.0)) < 1e-12)
        #expect(m.absmax() == 6)
        #expect(m.min() == -6)
        #expect(m.max() == 4)
        let empty = Tensor(zeros: [0])
        #expect(empty.mean().isNaN)
        #expect(empty.min().isNaN && empty.max().isNaN)
        #expect(empty.sum() == 0 && empty.absmax() == 0)
    }

    @Test func alongAxis0() throws {
        // One value per column: columns (1, 4), (-5, 2), (3, -6).
        #expect(try m.reduce(.sum, axis: 0).data == [5, -3, -3])
        #expect(close(try m.reduce(.mean, axis: 0).data, [2.5, -1.5, -1.5], tol: 1e-7))
        #expect(try m.reduce(.absmax, axis: 0).data == [4, 5, 6])
        #expect(try m.reduce(.min, axis: 0).data == [1, -5, -6])
        #expect(try m.reduce(.max, axis: 0).data == [4, 2, 3])
        #expect(try m.reduce(.sum, axis: 0).shape == [3])
    }

    @Test func alongAxis1() throws {
        // One value per row: rows (1, -5, 3), (4, 2, -6).
        #expect(try m.reduce(.sum, axis: 1).data == [-1, 0])
        #expect(close(try m.reduce(.mean, axis: 1).data, [-1.0 / 3.0, 0], tol: 1e-7))
        #expect(try m.reduce(.absmax, axis: 1).data == [5, 6])
        #expect(try m.reduce(.min, axis: 1).data == [-5, -6])
        #expect(try m.reduce(.max, axis: 1).data == [3, 4])
        #expect(try m.reduce(.max, axis: 1).shape == [2])
    }

    @Test func allNegativeMaxAndAllPositiveMin() throws {
        let n = Tensor(shape: [2, 2], data: [-3, -1, -7, -2])
        #expect(try n.reduce(.max, axis: 0).data == [-3, -1])
        #expect(try n.reduce(.max, axis: 1).data == [-1, -2])
        #expect(try n.reduce(.min, axis: 1).data == [-3, -7])
        let p = Tensor(shape: [2, 2], data: [3, 1, 7, 2])
        #expect(try p.reduce(.min, axis: 0).data == [3, 1])
    }

    @Test func errors() {
        #expect(throws: TensorError.self) { try Tensor(zeros: [4]).reduce(.sum, axis: 0) }
        #expect(throws: TensorError.self) { try Tensor(zeros: [2, 2, 2]).reduce(.max, axis: 1) }
        #expect(throws: TensorError.self) { try m.reduce(.sum, axis: 2) }
        #expect(throws: TensorError.self) { try m.reduce(.mean, axis: -1) }
    }
}

@Suite("Half precision")
struct HalfPrecisionTests {
    @Test func halfKnownBitPatterns() {
        #expect(HalfPrecision.halfBits(from: 1.0) == 0x3C00)
        #expect(HalfPrecision.halfBits(from: -2.0) == 0xC000)
        #expect(HalfPrecision.halfBits(from: 0.5) == 0x3800)
        #expect(HalfPrecision.halfBits(from: 0) == 0x0000)
        #expect(HalfPrecision.halfBits(from: -0.0) == 0x8000)
        #expect(HalfPrecision.halfBits(from: 65504) == 0x7BFF)  // largest finite half
        #expect(HalfPrecision.halfBits(from: 65519) == 0x7BFF)  // below the midpoint to 65536
        #expect(HalfPrecision.halfBits(from: 65520) == 0x7C00)  // tie rounds to even → +inf
        #expect(HalfPrecision.halfBits(from: 1e6) == 0x7C00)
        #expect(HalfPrecision.halfBits(from: -1e6) == 0xFC00)
        #expect(HalfPrecision.halfBits(from: 0x1p-24) == 0x0001)  // smallest subnormal
        #expect(HalfPrecision.halfBits(from: 0x1p-14) == 0x0400)  // smallest normal
        // 1 + 2^-11 is the midpoint of 1 (0x3C00) and 1 + 2^-10 (0x3C01): ties to even.
        #expect(HalfPrecision.halfBits(from: 1 + 0x1p-11) == 0x3C00)
        // 1 + 3·2^-11 is the midpoint of 0x3C01 and 0x3C02: ties to even (0x3C02).
        #expect(HalfPrecision.halfBits(from: 1 + 3 * 0x1p-11) == 0x3C02)
        #expect(HalfPrecision.float(fromHalfBits: HalfPrecision.halfBits(from: .nan)).isNaN)
    }

    @Test func halfToFloat() {
        #expect(HalfPrecision.float(fromHalfBits: 0x3C00) == 1)
        #expect(HalfPrecision.float(fromHalfBits: 0x7BFF) == 65504)
        #expect(HalfPrecision.float(fromHalfBits: 0xC000) == -2)
        #expect(HalfPrecision.float(fromHalfBits: 0x3555) == 0.333251953125)  // 1365/4096
        #expect(HalfPrecision.float(fromHalfBits: 0x0001) == 0x1p-24)
        #expect(HalfPrecision.float(fromHalfBits: 0x03FF) == 1023 * 0x1p-24)
        #expect(HalfPrecision.float(fromHalfBits: 0x7C00) == .infinity)
        #expect(HalfPrecision.float(fromHalfBits: 0xFC00) == -.infinity)
        #expect(HalfPrecision.float(fromHalfBits: 0x7E00).isNaN)
        // Every finite half round-trips exactly.
        var ok = true
        for b in 0...UInt16.max {
            let f = HalfPrecision.float(fromHalfBits: b)
            if f.isNaN { continue }
            if HalfPrecision.halfBits(from: f) != b { ok = false }
        }
        #expect(ok)
    }

    @Test func bfloat16KnownBitPatterns() {
        #expect(HalfPrecision.bfloat16Bits(from: 1.0) == 0x3F80)
        #expect(HalfPrecision.bfloat16Bits(from: -2.0) == 0xC000)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x3F80) == 1)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x4049) == 3.140625)
        // 1 + 2^-8 (bits 0x3F808000) is the midpoint of 0x3F80 and 0x3F81: ties to even → 0x3F80.
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        // 1 + 3·2^-8 (0x3F818000) is the midpoint of 0x3F81 and 0x3F82: ties to even → 0x3F82.
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        // Just above / below a tie rounds to nearest.
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F81_7FFF)) == 0x3F81)
        // Largest finite float rounds up to infinity (0x7F80); infinity stays infinity.
        #expect(HalfPrecision.bfloat16Bits(from: .greatestFiniteMagnitude) == 0x7F80)
        #expect(HalfPrecision.bfloat16Bits(from: .infinity) == 0x7F80)
        #expect(HalfPrecision.bfloat16Bits(from: -.infinity) == 0xFF80)
        // NaN stays NaN (including a NaN whose payload sits only in the low 16 bits).
        #expect(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: .nan)).isNaN)
        let lowPayloadNaN = Float(bitPattern: 0x7F80_0001)
        #expect(lowPayloadNaN.isNaN)
        #expect(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: lowPayloadNaN)).isNaN)
        // Every non-NaN bfloat16 round-trips exactly.
        var ok = true
        for b in 0...UInt16.max {
            let f = HalfPrecision.float(fromBFloat16Bits: b)
            if f.isNaN { continue }
            if HalfPrecision.bfloat16Bits(from: f) != b { ok = false }
        }
        #expect(ok)
    }

    @Test func tensorRounding() {
        let t = Tensor(shape: [3], data: [1 + 0x1p-11, 0.1, Float(bitPattern: 0x3F81_8000)])
        let h = t.roundedToHalf()
        #expect(h.data[0] == 1)
        #expect(h.data[1] == HalfPrecision.float(fromHalfBits: 0x2E66))  // 0.1 → 0x2E66 (0.0999755859375)
        #expect(h.data[1] == 0.0999755859375)
        let b = t.roundedToBFloat16()
        #expect(b.data[0] == 1)
        #expect(b.data[2] == 1 + 2 * 0x1p-7)
    }
}

@Suite("FastMath")
struct FastMathTests {
    @Test func expRelativeErrorOnGrid() {
        // A grid of 160,001 points on [-80, 80] (step 0.001), compared with the
        // double-precision exp of the same Float input.
        var worst = 0.0
        var worstAt: Float = 0
        for i in -80_000...80_000 {
            let x = Float(i) / 1000
            let ref = Foundation.exp(Double(x))
            let rel = abs(Double(FastMath.exp(x)) - ref) / ref
            if rel > worst { worst = rel; worstAt = x }
        }
        #expect(worst < 1e-6, "worst relative error \(worst) at x = \(worstAt)")
    }

    /// The clip search's |d|^p against Foundation's pow in Double: quantization errors span
    /// about 1e-8 … 10, the norms 0.5 … 4 (the default 2.4); a relative error of a few 1e-6
    /// does not change which clipping ratio wins but at near-ties.
    @Test func powRelativeErrorOnGrid() {
        var worst = 0.0, worstAt = (Float(0), Float(0))
        for p: Float in [0.5, 1, 1.5, 2.4, 3, 4] {
            for i in -8_000...1_000 {
                let x = Float(Foundation.pow(10.0, Double(i) / 1000))
                let ref = Foundation.pow(Double(x), Double(p))
                let rel = abs(Double(FastMath.pow(x, p)) - ref) / ref
                if rel > worst { worst = rel; worstAt = (x, p) }
            }
        }
        #expect(worst < 1e-5, "worst relative error \(worst) at x = \(worstAt.0), p = \(worstAt.1)")
        #expect(FastMath.pow(0, 2.4) == 0 && FastMath.pow(1e-31, 2.4) == 0)
        #expect(FastMath.pow(1, 2.4) == 1)
    }

    @Test func expSpecialPoints() {
        #expect(FastMath.exp(0) == 1)
        #expect(abs(FastMath.exp(1) - 2.7182817) <= 2.7182817 * 1e-6)
        #expect(abs(FastMath.exp(-1) - 0.36787944) <= 0.36787944 * 1e-6)
        // Up to the top of the accurate range (ln(Float.max) ≈ 88.72; the exponent trick reaches
        // 88.37) it stays finite and accurate.
        for x: Float in [80.5, 85, 88, 88.3, 88.37] {
            let ref = Foundation.exp(Double(x))
            #expect(abs(Double(FastMath.exp(x)) - ref) / ref < 1e-6, "exp(\(x))")
        }
        // Beyond, inputs are clamped: finite, never +inf or NaN.
        for x: Float in [88.5, 88.7, 88.72, 89, 100, 1000, .infinity] {
            let y = FastMath.exp(x)
            #expect(y.isFinite && y >= 2e38, "exp(\(x)) = \(y)")
        }
    }

    @Test func vectorHelpersMatchScalarExp() {
        // Causal softmax of a 3×3 matrix against the definition; SiLU·up against 1/(1+e^-x).
        var p: [Float] = [1, 9, 9, 0, 1, 9, 2, 0, -2]
        p.withUnsafeMutableBufferPointer { FastMath.causalSoftmax($0.baseAddress!, 3) }
        let e1 = Foundation.exp(1.0), e2 = Foundation.exp(2.0), em2 = Foundation.exp(-2.0)
        let want: [Double] = [1, 0, 0, 1 / (1 + e1), e1 / (1 + e1), 0, e2 / (e2 + 1 + em2), 1 / (e2 + 1 + em2), em2 / (e2 + 1 + em2)]
        for i in 0..<9 { #expect(abs(Double(p[i]) - want[i]) < 1e-6, "softmax[\(i)]") }
        var g: [Float] = [-3, 0, 0.5, 4]
        let u: [Float] = [2, 5, -1, 0.25]
        g.withUnsafeMutableBufferPointer { gp in u.withUnsafeBufferPointer { FastMath.swiglu(gp.baseAddress!, $0.baseAddress!, 4) } }
        for i in 0..<4 {
            let x = Double([-3, 0, 0.5, 4][i]), ref = x / (1 + Foundation.exp(-x)) * Double(u[i])
            #expect(abs(Double(g[i]) - ref) < 1e-6, "swiglu[\(i)]")
        }
        // max / sumExp / expInPlace on 37 values (a ragged tail after 8-wide steps), shift = max.
        var xs: [Float] = (0..<37).map { Float($0 % 7) - 3 }  // values −3…3, max 3
        xs[20] = 4.5
        let n = xs.count
        let m = xs.withUnsafeBufferPointer { FastMath.max($0.baseAddress!, n) }
        #expect(m == 4.5)
        let ref = xs.reduce(0.0) { $0 + Foundation.exp(Double($1) - 4.5) }
        let s = xs.withUnsafeBufferPointer { FastMath.sumExp($0.baseAddress!, n, shift: 4.5) }
        #expect(abs(s - ref) / ref < 1e-6)
        var ys = xs
        let s2 = ys.withUnsafeMutableBufferPointer { FastMath.expInPlace($0.baseAddress!, n, shift: 4.5) }
        #expect(abs(Double(s2) - ref) / ref < 1e-6)
        for i in 0..<n {
            let e = Foundation.exp(Double(xs[i]) - 4.5)
            #expect(abs(Double(ys[i]) - e) <= e * 1e-6)
        }
        #expect(ys[20] == 1)
        // 1000 values (several 256-blocks): Σ exp(0) = 1000.
        let ones = [Float](repeating: 2, count: 1000)
        #expect(ones.withUnsafeBufferPointer { FastMath.sumExp($0.baseAddress!, 1000, shift: 2) } == 1000)
        let empty: [Float] = [0]
        #expect(empty.withUnsafeBufferPointer { FastMath.max($0.baseAddress!, 0) } == -.infinity)
    }

    @Test func expUnderflowsToAboutZero() {
        for x: Float in [-88, -88.5, -90, -100, -1000, -1e30, -.infinity] {
            let y = FastMath.exp(x)
            #expect(y >= 0 && y < 2e-38, "exp(\(x)) = \(y)")
        }
    }
}
