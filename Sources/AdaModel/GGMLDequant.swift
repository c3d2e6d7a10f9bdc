import AdaTensor

/// Dequantization kernels for the GGML block formats.
///
/// Each kernel reads `dst.count / type.blockSize` whole blocks of `type.bytesPerBlock` bytes
/// (the GGUF reader refuses rows that are not whole blocks, so nothing is left over) and writes
/// Float32 values in file order. The arithmetic follows llama.cpp's reference
/// `dequantize_row_*` step by step (each scale multiplied out first, then the quant), so the
/// results are the same floats, not merely close ones.
///
/// Block layouts (byte offsets; fp16 fields little-endian; "value i" counts from 0 within the
/// block):
/// - Q4_0 (18): d, qs[16]. Low nibble of qs[j] is value j, high nibble value j + 16;
///   value = d·(q − 8).
/// - Q4_1 (20): d, m, qs[16] (nibbles as Q4_0); value = d·q + m.
/// - Q5_0 (22): d, qh[4], qs[16]. Nibbles as Q4_0; bit i of the little-endian u32 qh is the
///   fifth bit of value i; value = d·(q − 16).
/// - Q5_1 (24): d, m, qh[4], qs[16] (as Q5_0); value = d·q + m.
/// - Q8_0 (34): d, 32 × int8; value = d·q.
/// - IQ4_NL (18): d, qs[16] (nibbles as Q4_0); value = d·`iq4nlLevels`[q].
/// - k-quants (256 values) are described at each kernel below.
public enum Dequantize {
    @inline(__always)
    static func half(_ p: UnsafeRawBufferPointer, _ o: Int) -> Float {
        HalfPrecision.float(fromHalfBits: p.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian)
    }

    /// The 16 levels of IQ4_NL, a non-uniform 4-bit grid (llama.cpp `kvalues_iq4nl`).
    static let iq4nlLevels: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    public static func run(_ type: GGMLType, _ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>) {
        let nBlocks = dst.count / type.blockSize
        switch type {
        case .f32:
            for i in 0..<dst.count { dst[i] = Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
        case .f16:
            for i in 0..<dst.count { dst[i] = half(src, 2 * i) }
        case .bf16:
            for i in 0..<dst.count {
                dst[i] = HalfPrecision.float(fromBFloat16Bits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
            }
        case .q4_0, .q4_1, .iq4_nl: nibbles(type, src, into: dst, blocks: nBlocks)
        case .q5_0, .q5_1: fiveBit(type, src, into: dst, blocks: nBlocks)
        case .q8_0:
            for b in 0..<nBlocks {
                let o = b * 34
                let d = half(src, o)
                for j in 0..<32 { dst[b * 32 + j] = d * Float(Int8(bitPattern: src[o + 2 + j])) }
            }
        case .q2_K: q2K(src, into: dst, blocks: nBlocks)
        case .q3_K: q3K(src, into: dst, blocks: nBlocks)
        case .q4_K: q4K(src, into: dst, blocks: nBlocks)
        case .q5_K: q5K(src, into: dst, blocks: nBlocks)
        case .q6_K: q6K(src, into: dst, blocks: nBlocks)
        }
    }

    /// Q4_0, Q4_1 and IQ4_NL: 32 values of 4 bits (byte j holds values j and j + 16).
    static func nibbles(_ type: GGMLType, _ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>,
                        blocks nBlocks: Int) {
        let bs = type.bytesPerBlock
        for b in 0..<nBlocks {
            let o = b * bs, y = b * 32
            let d = half(src, o)
            switch type {
            case .q4_0:
                for j in 0..<16 {
                    let q = src[o + 2 + j]
                    dst[y + j] = d * Float(Int(q & 0xF) - 8)
                    dst[y + j + 16] = d * Float(Int(q >> 4) - 8)
                }
            case .q4_1:
                let m = half(src, o + 2)
                for j in 0..<16 {
                    let q = src[o + 4 + j]
                    dst[y + j] = d * Float(q & 0xF) + m
                    dst[y + j + 16] = d * Float(q >> 4) + m
                }
            default:
                iq4nlLevels.withUnsafeBufferPointer { levels in
                    for j in 0..<16 {
                        let q = src[o + 2 + j]
                        dst[y + j] = d * levels[Int(q & 0xF)]
                        dst[y + j + 16] = d * levels[Int(q >> 4)]
                    }
                }
            }
        }
    }

    /// Q5_0 and Q5_1: 32 values of 5 bits, the low 4 as in Q4_0, the fifth from the u32 `qh`.
    static func fiveBit(_ type: GGMLType, _ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>,
                        blocks nBlocks: Int) {
        let bs = type.bytesPerBlock
        let hasMin = type == .q5_1
        let qhAt = hasMin ? 4 : 2
        for b in 0..<nBlocks {
            let o = b * bs, y = b * 32
            let d = half(src, o)
            let m = hasMin ? half(src, o + 2) : 0
            let qh = src.loadUnaligned(fromByteOffset: o + qhAt, as: UInt32.self).littleEndian
            let qs = o + qhAt + 4
            for j in 0..<16 {
                let lo = Int(src[qs + j] & 0xF) | Int((qh >> UInt32(j)) & 1) << 4
                let hi = Int(src[qs + j] >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                if hasMin {
                    dst[y + j] = d * Float(lo) + m
                    dst[y + j + 16] = d * Float(hi) + m
                } else {
                    dst[y + j] = d * Float(lo - 16)
                    dst[y + j + 16] = d * Float(hi - 16)
                }
            }
        }
    }

    /// Q2_K (84 bytes): scales[16], qs[64], fp16 d, fp16 dmin. 16 sub-blocks of 16 values;
    /// scales[s] holds the 4-bit scale (low nibble) and min (high nibble) of sub-block s.
    /// Value i, in half h = i / 128 at r = i % 128, is 2 bits at shift 2·(r / 32) of
    /// qs[32h + r % 32]; value = d·scale·q − dmin·min.
    static func q2K(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>, blocks nBlocks: Int) {
        for b in 0..<nBlocks {
            let o = b * GGMLType.q2_K.bytesPerBlock
            let d = half(src, o + 80), dmin = half(src, o + 82)
            for s in 0..<16 {
                let sc = src[o + s]
                let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                let q = o + 16 + 32 * (s / 8) + 16 * (s % 2)
                let shift = UInt8(2 * ((s % 8) / 2))
                let y = b * 256 + 16 * s
                for l in 0..<16 { dst[y + l] = dl * Float((src[q + l] >> shift) & 3) - ml }
            }
        }
    }

    /// Q3_K (110 bytes): hmask[32], qs[64], scales[12], fp16 d. 16 sub-blocks of 16 values with
    /// signed 6-bit scales. Value i takes its low 2 bits as Q2_K does, and its high bit from bit
    /// i / 32 of hmask[i % 32]; the 3-bit quant is (low 2 bits) − 4 when that bit is clear.
    /// value = d·scale·q.
    static func q3K(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>, blocks nBlocks: Int) {
        for b in 0..<nBlocks {
            let o = b * GGMLType.q3_K.bytesPerBlock
            let d = half(src, o + 108)
            for s in 0..<16 {
                let dl = d * Float(scaleK3(src, o + 96, s))
                let q = o + 32 + 32 * (s / 8) + 16 * (s % 2)
                let hm = 16 * (s % 2)
                let shift = UInt8(2 * ((s % 8) / 2))
                let bit = UInt8(s / 2)
                let y = b * 256 + 16 * s
                for l in 0..<16 {
                    let low = Int((src[q + l] >> shift) & 3)
                    let high = (src[o + hm + l] >> bit) & 1
                    dst[y + l] = dl * Float(high == 0 ? low - 4 : low)
                }
            }
        }
    }

    /// The signed scale of sub-block `s` of a Q3_K block (12 packed bytes at `o`): the low 4
    /// bits are nibble s / 8 of byte s % 8, the high 2 bits are bits 2·(s / 4) of byte
    /// 8 + s % 4; stored with an offset of 32.
    @inline(__always)
    static func scaleK3(_ p: UnsafeRawBufferPointer, _ o: Int, _ s: Int) -> Int {
        let low = s < 8 ? p[o + s] & 0xF : p[o + s - 8] >> 4
        let high = (p[o + 8 + s % 4] >> UInt8(2 * (s / 4))) & 3
        return Int(low | high << 4) - 32
    }

    /// Q4_K (144 bytes): fp16 d, fp16 dmin, scales[12], qs[128]. 8 sub-blocks of 32 values, each
    /// with a 6-bit scale and min (`scaleMinK4`). Value i, in chunk c = i / 64 at r = i % 64, is
    /// the low (r < 32) or high nibble of qs[32c + r % 32]; value = d·scale·q − dmin·min.
    static func q4K(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>, blocks nBlocks: Int) {
        let bs = GGMLType.q4_K.bytesPerBlock
        for b in 0..<nBlocks {
            let o = b * bs
            let d = half(src, o), dmin = half(src, o + 2)
            let sc = o + 4, qs = o + 16
            var y = b * 256
            var q = qs
            for j in stride(from: 0, to: 256, by: 64) {
                let isb = j / 32
                let (s1, m1) = scaleMinK4(src, sc, isb)
                let (s2, m2) = scaleMinK4(src, sc, isb + 1)
                let d1 = d * Float(s1), mm1 = dmin * Float(m1)
                let d2 = d * Float(s2), mm2 = dmin * Float(m2)
                for l in 0..<32 { dst[y + l] = d1 * Float(src[q + l] & 0xF) - mm1 }
                for l in 0..<32 { dst[y + 32 + l] = d2 * Float(src[q + l] >> 4) - mm2 }
                q += 32
                y += 64
            }
        }
    }

    /// Q5_K (176 bytes): fp16 d, fp16 dmin, scales[12] (as Q4_K), qh[32], qs[128]. The low 4 bits
    /// of value i are as in Q4_K; the fifth is bit i / 32 of qh[i % 32].
    /// value = d·scale·q − dmin·min.
    static func q5K(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>, blocks nBlocks: Int) {
        for b in 0..<nBlocks {
            let o = b * GGMLType.q5_K.bytesPerBlock
            let d = half(src, o), dmin = half(src, o + 2)
            let qh = o + 16, qs = o + 48
            for s in 0..<8 {
                let (sc, mn) = scaleMinK4(src, o + 4, s)
                let dl = d * Float(sc), ml = dmin * Float(mn)
                let q = qs + 32 * (s / 2)
                let shift = UInt8(4 * (s % 2))
                let bit = UInt8(s)
                let y = b * 256 + 32 * s
                for l in 0..<32 {
                    let v = Int((src[q + l] >> shift) & 0xF) | Int((src[qh + l] >> bit) & 1) << 4
                    dst[y + l] = dl * Float(v) - ml
                }
            }
        }
    }

    /// Q6_K (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), 16 int8 scales, fp16 d.
    /// Value i = d·scale[i / 16]·(q − 32) with q a 6-bit quant.
    static func q6K(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>, blocks nBlocks: Int) {
        let bs = GGMLType.q6_K.bytesPerBlock
        for b in 0..<nBlocks {
            let o = b * bs
            let d = half(src, o + 208)
            var ql = o, qh = o + 128, sc = o + 192
            var y = b * 256
            for _ in 0..<2 {
                for l in 0..<32 {
                    let isx = l / 16
                    let h = src[qh + l]
                    let q1 = Int((src[ql + l] & 0xF) | ((h & 3) << 4)) - 32
                    let q2 = Int((src[ql + l + 32] & 0xF) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = Int((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = Int((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32
                    let s = { (k: Int) in Float(Int8(bitPattern: src[sc + isx + k])) }
                    dst[y + l] = d * s(0) * Float(q1)
                    dst[y + l + 32] = d * s(2) * Float(q2)
                    dst[y + l + 64] = d * s(4) * Float(q3)
                    dst[y + l + 96] = d * s(6) * Float(q4)
                }
                y += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }

    /// The 6-bit scale and min of sub-block `j` of a Q4_K or Q5_K block (12 packed bytes at `o`).
    @inline(__always)
    static func scaleMinK4(_ p: UnsafeRawBufferPointer, _ o: Int, _ j: Int) -> (UInt8, UInt8) {
        if j < 4 {
            return (p[o + j] & 63, p[o + j + 4] & 63)
        }
        let s = (p[o + j + 4] & 0xF) | ((p[o + j - 4] >> 6) << 4)
        let m = (p[o + j + 4] >> 4) | ((p[o + j] >> 6) << 4)
        return (s, m)
    }
}
