import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Testing

/// Native GGUF export: each quantized per-OC layer is written in the smallest GGML legacy
/// type that holds its codes, and GGML's reference decoding of those blocks (ada's reader,
/// checked against llama.cpp's own files in GGMLTypesTests) gives back ada's weights up to
/// the fp16 rounding of each block's `d` and `m`.
@Suite("Native GGUF layers")
struct NativeGGUFTests {
    /// GGML's decoding of `bytes` as `type`, `[rows, cols]`.
    func decode(_ bytes: [UInt8], _ type: GGMLType, rows: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: rows * cols)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { Dequantize.run(type, src, into: $0) } }
        return out
    }

    /// The largest error fp16 rounding of d and m allows at each weight: |code − zero|·|Δd|
    /// without an offset, code·|Δd| + |Δm| with one (half rounding is within 2^-11 relative for
    /// normal values), plus Float32 rounding of the products.
    func bound(_ p: PackedLayer, _ i: Int, offset: Bool) -> Float {
        let r = i / p.cols, c = i % p.cols
        let g = r * p.scales.shape[1] + c / p.groupSize
        let s = abs(p.scales.data[g]), z = p.zeros.data[g], code = Float(p.codes[i])
        let half: Float = 1.0 / 2048
        let e = offset ? half * (code * s + abs(z * s)) : half * abs(code - z) * s
        return e * 1.001 + 4e-7 * (code + abs(z)) * s
    }

    /// (bits, grid, group) → the type the layer must get.
    static let cases: [(Int, GridKind, Int, GGMLType)] = [
        (4, .symmetric, 32, .q4_0), (3, .symmetric, 64, .q4_0), (3, .reference, 32, .q4_0),
        (4, .minmax, 32, .q4_1), (4, .floatzero, 64, .q4_1), (2, .floatzero, 0, .q4_1), (4, .gptq, 0, .q4_1),
        (5, .symmetric, 32, .q5_0), (5, .minmax, 64, .q5_1), (5, .floatzero, 32, .q5_1),
        (8, .symmetric, 32, .q8_0), (6, .reference, 64, .q8_0), (7, .symmetric, 0, .q8_0),
    ]

    @Test(arguments: cases.indices)
    func blocksDecodeToAdasWeights(_ n: Int) throws {
        let (bits, grid, group, want) = Self.cases[n]
        var rng = TestRNG(seed: UInt64(500 + n))
        let w = randomMatrix(9, 128, &rng)
        let q = try quantizeRTN(w, QuantSpec(bits: bits, group: group, dim: .oc, grid: grid))
        let p = PackedLayer(q)
        let native = NativeLayer(p)
        #expect(native.type == want, "w\(bits) \(grid) g\(group): \(native.type) (\(native.reason))")
        guard native.encoded else { return }
        let (bytes, reported) = native.encode(p)
        #expect(bytes.count == 9 * 128 / 32 * want.bytesPerBlock)
        // The first block starts with fp16(scale of row 0, group 0).
        let h = HalfPrecision.halfBits(from: p.scales.data[0])
        #expect(bytes[0] == UInt8(h & 0xFF) && bytes[1] == UInt8(h >> 8))
        let decoded = decode(bytes, want, rows: 9, cols: 128)
        let ada = p.dequantized.data
        let offset = want == .q4_1 || want == .q5_1
        var worst: Float = 0
        for i in ada.indices {
            let e = abs(decoded[i] - ada[i])
            worst = max(worst, e)
            #expect(e <= bound(p, i, offset: offset), "element \(i): \(decoded[i]) vs \(ada[i])")
        }
        // The encoder's own error report is the measured one.
        #expect(reported == worst)
        // Scales that are fp16 numbers decode exactly: a check that the error is rounding only.
        #expect(worst < 1e-3 * maxAbs(ada))
    }

    @Test func layersGGMLCannotHoldStayF16() throws {
        var rng = TestRNG(seed: 77)
        let w = randomMatrix(64, 96, &rng)
        let perIC = PackedLayer(try quantizeRTN(w, QuantSpec(bits: 4, group: 32, dim: .ic)))
        #expect(NativeLayer(perIC).type == .f16 && NativeLayer(perIC).reason.contains("per-IC"))
        let g48 = PackedLayer(try quantizeRTN(w, QuantSpec(bits: 4, group: 48, dim: .oc)))
        #expect(NativeLayer(g48).type == .f16 && NativeLayer(g48).reason.contains("48"))
        // 8-bit codes on a real-valued zero point: no integer type holds code − zero.
        let f8 = PackedLayer(try quantizeRTN(w, QuantSpec(bits: 8, group: 32, dim: .oc, grid: .floatzero)))
        #expect(NativeLayer(f8).type == .f16)
        // Rows of 20 are not whole blocks even per-channel.
        let narrow = PackedLayer(try quantizeRTN(randomMatrix(4, 20, &rng), QuantSpec(bits: 4, group: 0, dim: .oc)))
        #expect(NativeLayer(narrow).type == .f16)
    }

    @Test func smallestTypeFollowsTheCodeRange() {
        // Hand-chosen ranges of code − zero (nil: zero points not all integers).
        #expect(NativeLayer.smallestType(bits: 3, (-4, 3)) == .q4_0)
        #expect(NativeLayer.smallestType(bits: 4, (-9, 6)) == .q4_1)
        #expect(NativeLayer.smallestType(bits: 4, nil) == .q4_1)
        #expect(NativeLayer.smallestType(bits: 5, (-16, 15)) == .q5_0)
        #expect(NativeLayer.smallestType(bits: 5, (-17, 14)) == .q5_1)
        #expect(NativeLayer.smallestType(bits: 8, (-128, 127)) == .q8_0)
        #expect(NativeLayer.smallestType(bits: 8, (-100, 155)) == nil)
        #expect(NativeLayer.smallestType(bits: 6, nil) == nil)
    }
}
