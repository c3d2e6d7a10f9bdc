import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Testing

/// The packed kernels against dequantize-then-multiply, computed here in Float64 from the
/// packed layer's own Float32 result: every width, both dimensions, groups that are and are
/// not multiples of 32, ragged groups, per-channel, odd sizes, one and several inputs.
@Suite("Packed kernels", .serialized)
struct PackedMatrixTests {
    /// x · Ŵᵀ in Float64, and Σ|ŵ||x| per output (the scale of its rounding error).
    static func reference(_ w: Tensor, _ x: Tensor) -> (value: [Double], magnitude: [Double]) {
        let rows = w.shape[0], cols = w.shape[1], n = x.shape[0]
        var value = [Double](repeating: 0, count: n * rows), mag = value
        for t in 0..<n {
            for r in 0..<rows {
                var s = 0.0, m = 0.0
                for c in 0..<cols {
                    let p = Double(w.data[r * cols + c]) * Double(x.data[t * cols + c])
                    s += p
                    m += abs(p)
                }
                value[t * rows + r] = s
                mag[t * rows + r] = m
            }
        }
        return (value, mag)
    }

    static let shapes: [(rows: Int, cols: Int)] = [(37, 50), (64, 96), (130, 161), (33, 256)]

    @Test(arguments: [2, 3, 4, 5, 6, 7, 8])
    func packedProductEqualsDequantizeThenMultiply(bits: Int) throws {
        var rng = TestRNG(seed: UInt64(900 + bits))
        for (rows, cols) in Self.shapes {
            let w = randomMatrix(rows, cols, &rng)
            for dim in QuantDim.allCases {
                for group in [32, 64, 20, 0] where group <= (dim == .oc ? cols : rows) {
                    let q = try quantizeRTN(w, QuantSpec(bits: bits, group: group, dim: dim))
                    let layer = PackedLayer(q)
                    let m = PackedMatrix(layer)
                    let what = "w\(bits) \(dim) g\(group) \(rows)×\(cols)"
                    #expect(m.unpackedCodes == layer.codes, "codes round trip \(what)")
                    // 1 and 3 rows: the packed kernels; panelInputRows and more: dequantized
                    // panels and sgemm (one panel, and panels of 16 rows with a ragged last).
                    for n in [1, 3, PackedMatrix.panelInputRows + 5] {
                        let x = randomMatrix(n, cols, &rng)
                        let ys = try [m.multiply(x)] + (n >= PackedMatrix.panelInputRows ? [m.multiplyByPanels(x, rowsPerPanel: 16)] : [])
                        let ref = Self.reference(layer.dequantized, x)
                        // One panel is the dense product with the dequantized weights, bit for bit.
                        if n >= PackedMatrix.panelInputRows { #expect(ys[0] == Forward.linear(x, layer.dequantized), "\(what): one panel") }
                        for (k, y) in ys.enumerated() {
                            #expect(y.shape == [n, rows])
                            var worst = 0.0
                            for i in 0..<(n * rows) {
                                worst = max(worst, abs(Double(y.data[i]) - ref.value[i]) / (ref.magnitude[i] + 1e-30))
                            }
                            // Float32 accumulation of up to 256 products, reordered: a few ulps of Σ|ŵx|.
                            #expect(worst < 2e-6, "\(what) n=\(n) \(k == 0 ? "" : "16-row panels"): worst error \(worst) of Σ|ŵx|")
                        }
                    }
                }
            }
        }
    }

    /// Several matrices in one call give what each gives alone, and the pool's split of the
    /// rows does not change any row (each row is one task's work, in the same order).
    @Test func fusedAndThreadedProductsEqualSingleOnes() throws {
        var rng = TestRNG(seed: 77)
        let cols = 576
        let specs = [QuantSpec(bits: 4, group: 128, dim: .oc), QuantSpec(bits: 3, group: 128, dim: .ic),
                     QuantSpec(bits: 2, group: 64, dim: .oc)]
        let ms = try specs.enumerated().map { k, spec in
            PackedMatrix(PackedLayer(try quantizeRTN(randomMatrix(192 + 64 * k, cols, &rng), spec)))
        }
        let x = randomMatrix(2, cols, &rng)
        let fused = try PackedMatrix.multiply(ms, x)
        let before = PackedMatrix.threads
        PackedMatrix.threads = 1
        let alone = try ms.map { try $0.multiply(x) }
        PackedMatrix.threads = before
        for k in ms.indices { #expect(fused[k] == alone[k], "matrix \(k)") }
    }

    /// The error bound of the int8 path for output (t, r): the kernel multiplies Ŵ by the input
    /// rounded per block of 32, x̂ = d_b·round(x/d_b) with d_b = max_b |x| / 127, so
    /// |y − x·Ŵᵀ| = |Σ_c ŵ[r,c]·(x̂[c] − x[c])| ≤ Σ_c |ŵ[r,c]|·d_b(c)/2. Per-IC rounds
    /// v = s[G,:]·x instead: the bound is Σ_c |code − zero|·e_b(c)/2, e_b = max_b |v| / 127.
    static func int8Bound(_ layer: PackedLayer, _ x: Tensor) -> [Double] {
        let rows = layer.rows, cols = layer.cols, n = x.shape[0], g = layer.groupSize
        let w = layer.dequantized, codes = layer.codes
        var bound = [Double](repeating: 0, count: n * rows)
        for t in 0..<n {
            let xt = (0..<cols).map { Double(x.data[t * cols + $0]) }
            func blockMax(_ v: [Double], _ c: Int) -> Double {
                let b = c / 32 * 32
                return v[b..<min(b + 32, cols)].reduce(0) { max($0, abs($1)) }
            }
            for r in 0..<rows {
                var e = 0.0
                if layer.spec.dim == .oc {
                    for c in 0..<cols { e += abs(Double(w.data[r * cols + c])) * blockMax(xt, c) / 127 / 2 }
                } else {
                    let grp = r / g
                    let v = (0..<cols).map { xt[$0] * Double(layer.scales.data[grp * cols + $0]) }
                    for c in 0..<cols {
                        let q = Double(codes[r * cols + c]) - Double(layer.zeros.data[grp * cols + c])
                        e += abs(q) * blockMax(v, c) / 127 / 2
                    }
                }
                bound[t * rows + r] = e
            }
        }
        return bound
    }

    /// int8 activations: within the rounding bound above (plus the Float32 summation noise of
    /// the exact path), on every width and grouping the int8 kernels take (per-OC groups that
    /// are multiples of 32, any per-IC group); and not equal to the Float32 path, so the
    /// integer kernels did run (on a CPU with AVX-512 VNNI).
    @Test(arguments: [2, 3, 4, 5, 8])
    func int8ActivationsStayWithinTheirRoundingBound(bits: Int) throws {
        var rng = TestRNG(seed: UInt64(1900 + bits))
        for (rows, cols) in Self.shapes + [(70, 576)] {
            let w = randomMatrix(rows, cols, &rng)
            for dim in QuantDim.allCases {
                for group in [32, 64, 96, 128, 20, 0] where group <= (dim == .oc ? cols : rows) {
                    let layer = PackedLayer(try quantizeRTN(w, QuantSpec(bits: bits, group: group, dim: dim)))
                    let m = PackedMatrix(layer)
                    for n in [1, 2] {
                        let x = randomMatrix(n, cols, &rng)
                        let y = try m.multiply(x, activations: .int8), exact = try m.multiply(x)
                        let ref = Self.reference(layer.dequantized, x), bound = Self.int8Bound(layer, x)
                        var worst = 0.0
                        for i in 0..<(n * rows) {
                            let err = abs(Double(y.data[i]) - ref.value[i])
                            worst = max(worst, err / (bound[i] + 2e-6 * ref.magnitude[i] + 1e-30))
                        }
                        let what = "w\(bits) \(dim) g\(group) \(rows)×\(cols) n=\(n)"
                        #expect(worst <= 1, "\(what): error \(worst) of the int8 rounding bound")
                        let int8Kernels = PackedMatrix.int8Available && (dim == .ic || m.groupSize % 32 == 0)
                        if int8Kernels { #expect(y != exact, "\(what): the int8 path gave the Float32 result") }
                        else { #expect(y == exact, "\(what): without int8 kernels the Float32 path runs") }
                    }
                }
            }
        }
    }

    /// The int8 path's rows do not depend on the pool's split either.
    @Test func int8ProductsDoNotDependOnThreads() throws {
        var rng = TestRNG(seed: 78)
        let specs = [QuantSpec(bits: 4, group: 128, dim: .oc), QuantSpec(bits: 4, group: 128, dim: .ic),
                     QuantSpec(bits: 8, group: 32, dim: .oc)]
        let ms = try specs.map { PackedMatrix(PackedLayer(try quantizeRTN(randomMatrix(1000, 576, &rng), $0))) }
        let x = randomMatrix(1, 576, &rng)
        let fused = try PackedMatrix.multiply(ms, x, activations: .int8)
        let before = PackedMatrix.threads
        PackedMatrix.threads = 1
        let alone = try ms.map { try $0.multiply(x, activations: .int8) }
        PackedMatrix.threads = before
        for k in ms.indices { #expect(fused[k] == alone[k], "matrix \(k)") }
    }
}
