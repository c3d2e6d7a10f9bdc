/// Conversions between Float32 and the 16-bit formats found in model files.
public enum HalfPrecision {
    /// IEEE-754 binary16 bits to Float (exact).
    @inline(__always)
    public static func float(fromHalfBits bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// Float to IEEE-754 binary16 bits (round to nearest even; overflow to ±inf).
    @inline(__always)
    public static func halfBits(from value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// bfloat16 bits to Float (exact: the upper half of a binary32).
    @inline(__always)
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float to bfloat16 bits, round to nearest even; NaN stays NaN.
    @inline(__always)
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let u = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
        let rounding = UInt32(0x7FFF) + ((u >> 16) & 1)
        return UInt16(truncatingIfNeeded: (u &+ rounding) >> 16)
    }
}

extension Tensor {
    /// The tensor's values rounded to binary16 and back.
    public func roundedToHalf() -> Tensor { map { Float(Float16($0)) } }
    /// The tensor's values rounded to bfloat16 and back.
    public func roundedToBFloat16() -> Tensor {
        map { HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: $0)) }
    }
}
