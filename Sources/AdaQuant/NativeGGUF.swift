import AdaModel
import AdaTensor

/// A quantized layer in one of GGML's legacy block types, for a GGUF that llama.cpp runs
/// from its own kernels (`export … type=native`).
///
/// GGML blocks are 32 consecutive weights of one row sharing one fp16 scale `d` (and, for
/// Q4_1 and Q5_1, an fp16 offset `m`): exactly ada's per-OC grouping when the group size and
/// the row length are multiples of 32. Such a layer goes out as the smallest type that holds
/// its codes without re-rounding them:
/// - Q4_0 (4.5 bits per weight): integer zero points and every `code − zero` in −8…7,
///   stored as `q = code − zero + 8`, `d = scale`;
/// - Q4_1 (5.0): bits ≤ 4, `q = code`, `d = scale`, `m = −zero·scale`;
/// - Q5_0 (5.5): integer zero points and every `code − zero` in −16…15;
/// - Q5_1 (6.0): bits ≤ 5, as Q4_1;
/// - Q8_0 (8.5): integer zero points and every `code − zero` in −128…127 (`q = code − zero`).
/// The weights llama.cpp decodes then equal ada's `(code − zero)·scale` up to the fp16
/// rounding of `d` and `m`. Per-IC layers (one scale per group of rows of a column), groups
/// that are not a multiple of 32, and codes no type holds stay F16: GGML has no block along
/// the output dimension.
public struct NativeLayer: Sendable {
    public let type: GGMLType
    /// Why the layer gets its type (one line).
    public let reason: String
    /// Whether the blocks are written here (false: the caller writes the layer as F16/F32).
    public var encoded: Bool { type != .f16 && type != .f32 }
}

extension NativeLayer {
    /// The type `l` goes out as (see the type's description), without encoding it.
    public init(_ l: PackedLayer) {
        if let why = Self.unrepresentable(l) {
            self.init(type: .f16, reason: why)
            return
        }
        guard let type = Self.smallestType(bits: l.spec.bits, Self.codeRange(l, l.codes)) else {
            self.init(type: .f16, reason: "\(l.spec.bits)-bit codes minus zero points leave −128…127")
            return
        }
        if let why = Self.halfOverflow(l, type) {
            self.init(type: .f32, reason: why)
            return
        }
        let how = type == .q4_1 || type == .q5_1 ? "codes, d = scale, m = −zero·scale" : "code − zero, d = scale"
        self.init(type: type, reason: "per-OC w\(l.spec.bits) g\(l.groupSize) as \(how)")
    }

    /// `l`'s blocks in this type, and the largest |decoded − ada's weight| over the layer
    /// (decoded with the arithmetic of GGML's reference dequantization).
    public func encode(_ l: PackedLayer) -> (bytes: [UInt8], maxError: Float) {
        precondition(encoded, "\(type) is written by the caller")
        return Self.encode(l, l.codes, as: type)
    }

    /// The smallest legacy type holding codes of `bits` bits whose `code − zero` span `range`
    /// (nil: zero points that are not all integers).
    public static func smallestType(bits: Int, _ range: (Int, Int)?) -> GGMLType? {
        func fits(_ lo: Int, _ hi: Int) -> Bool { range.map { $0.0 >= lo && $0.1 <= hi } ?? false }
        if fits(-8, 7) { return .q4_0 }
        if bits <= 4 { return .q4_1 }
        if fits(-16, 15) { return .q5_0 }
        if bits <= 5 { return .q5_1 }
        if fits(-128, 127) { return .q8_0 }
        return nil
    }

    /// Why GGML's blocks cannot hold `l` (nil when they can).
    static func unrepresentable(_ l: PackedLayer) -> String? {
        if l.spec.dim == .ic { return "per-IC groups (GGML groups along the input only)" }
        if l.groupSize % 32 != 0 { return "group \(l.groupSize) is not a multiple of 32" }
        if l.cols % 32 != 0 { return "rows of \(l.cols) are not whole blocks of 32" }
        return nil
    }

    /// min and max of `code − zero` over the layer when every zero point is an integer.
    static func codeRange(_ l: PackedLayer, _ codes: [UInt8]) -> (Int, Int)? {
        let ng = l.scales.shape[1]
        var lo = Int.max, hi = Int.min
        for r in 0..<l.rows {
            for g in 0..<ng {
                let z = l.zeros.data[r * ng + g]
                guard z == z.rounded(), abs(z) < 1e6 else { return nil }
                let zi = Int(z)
                let start = r * l.cols + g * l.groupSize, end = r * l.cols + min((g + 1) * l.groupSize, l.cols)
                for i in start..<end {
                    let d = Int(codes[i]) - zi
                    lo = min(lo, d)
                    hi = max(hi, d)
                }
            }
        }
        return (lo, hi)
    }

    /// Why `d` or `m` would overflow fp16 (nil when both fit).
    static func halfOverflow(_ l: PackedLayer, _ type: GGMLType) -> String? {
        let offset = type == .q4_1 || type == .q5_1
        for i in 0..<l.scales.count {
            let s = l.scales.data[i], m = -l.zeros.data[i] * s
            if !(abs(s) <= 65504) || (offset && !(abs(m) <= 65504)) {
                return "a scale or offset (\(s), \(m)) is beyond fp16's range"
            }
        }
        return nil
    }

    /// The blocks of `l` in `type`, and the largest difference between what they decode to
    /// (the arithmetic of GGML's reference dequantization) and ada's weights.
    static func encode(_ l: PackedLayer, _ codes: [UInt8], as type: GGMLType) -> ([UInt8], Float) {
        let blocksPerRow = l.cols / 32, ng = l.scales.shape[1], bs = type.bytesPerBlock
        var out = [UInt8](repeating: 0, count: l.rows * blocksPerRow * bs)
        var maxErr: Float = 0
        codes.withUnsafeBufferPointer { c in
            out.withUnsafeMutableBytes { o in
                for r in 0..<l.rows {
                    for b in 0..<blocksPerRow {
                        let g = b * 32 / l.groupSize
                        let block = UnsafeBufferPointer(rebasing: c[(r * l.cols + b * 32)..<(r * l.cols + b * 32 + 32)])
                        let err = writeBlock(UnsafeMutableRawBufferPointer(rebasing: o[((r * blocksPerRow + b) * bs)..<((r * blocksPerRow + b + 1) * bs)]),
                                             type, codes: block, scale: l.scales.data[r * ng + g], zero: l.zeros.data[r * ng + g])
                        maxErr = max(maxErr, err)
                    }
                }
            }
        }
        return (out, maxErr)
    }

    /// Writes one block of `type` (its `bytesPerBlock` bytes); returns its largest decoding error.
    static func writeBlock(_ out: UnsafeMutableRawBufferPointer, _ type: GGMLType, codes c: UnsafeBufferPointer<UInt8>,
                           scale s: Float, zero z: Float) -> Float {
        func putHalf(_ v: Float, _ at: Int) -> Float {
            let h = HalfPrecision.halfBits(from: v)
            out[at] = UInt8(h & 0xFF)
            out[at + 1] = UInt8(h >> 8)
            return HalfPrecision.float(fromHalfBits: h)
        }
        let d = putHalf(s, 0)
        let offset = type == .q4_1 || type == .q5_1
        let m = offset ? putHalf(-z * s, 2) : 0
        let bias: Int = type == .q4_0 ? 8 : type == .q5_0 ? 16 : 0
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { q in
            // The stored integer of each value, and the largest error of its decoded weight.
            var err: Float = 0
            for j in 0..<32 {
                q[j] = offset ? Int(c[j]) : Int(c[j]) - Int(z) + bias
                let decoded = offset ? d * Float(q[j]) + m : d * Float(q[j] - bias)
                err = max(err, abs(decoded - (Float(c[j]) - z) * s))
            }
            let body = offset ? 4 : 2
            switch type {
            case .q8_0:
                for j in 0..<32 { out[2 + j] = UInt8(bitPattern: Int8(q[j])) }
            case .q4_0, .q4_1:
                for j in 0..<16 { out[body + j] = UInt8(q[j] & 0xF) | UInt8(q[j + 16] & 0xF) << 4 }
            default:  // Q5_0, Q5_1: the fifth bits as a little-endian u32, then nibbles as Q4.
                var high: UInt32 = 0
                for j in 0..<32 where q[j] & 0x10 != 0 { high |= 1 << UInt32(j) }
                for k in 0..<4 { out[body + k] = UInt8((high >> UInt32(8 * k)) & 0xFF) }
                for j in 0..<16 { out[body + 4 + j] = UInt8(q[j] & 0xF) | UInt8(q[j + 16] & 0xF) << 4 }
            }
            return err
        }
    }
}
