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
                    for n in [1, 3] {
                        let x = randomMatrix(n, cols, &rng)
                        let y = m.multiply(x)
                        #expect(y.shape == [n, rows])
                        let ref = Self.reference(layer.dequantized, x)
                        var worst = 0.0
                        for i in 0..<(n * rows) {
                            worst = max(worst, abs(Double(y.data[i]) - ref.value[i]) / (ref.magnitude[i] + 1e-30))
                        }
                        // Float32 accumulation of up to 256 products, reordered: a few ulps of Σ|ŵx|.
                        #expect(worst < 2e-6, "\(what) n=\(n): worst error \(worst) of Σ|ŵx|")
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
        let fused = PackedMatrix.multiply(ms, x)
        let before = PackedMatrix.threads
        PackedMatrix.threads = 1
        let alone = ms.map { $0.multiply(x) }
        PackedMatrix.threads = before
        for k in ms.indices { #expect(fused[k] == alone[k], "matrix \(k)") }
    }
}
