import AdaTensor

/// Which dimension a quantization group runs along.
public enum QuantDim: String, Sendable, CaseIterable, Codable {
    /// per-OC: `g` consecutive input columns of one output row (the usual grouping).
    case oc
    /// per-IC: `g` consecutive output rows of one input column.
    case ic
}

/// How a group's scale and zero point are chosen from its values.
public enum GridKind: String, Sendable, CaseIterable, Codable {
    /// Asymmetric min/max with an integer zero point that may lie outside `[0, 2^b − 1]`, so a
    /// group whose values are all positive (or all negative) still spans its own range.
    case minmax
    /// The reference recipe: as `minmax` but the zero point is clamped to `[0, 2^b − 1]`,
    /// which collapses all-positive or all-negative groups (kept for comparison).
    case reference
    /// GPTQ's grid: the range is widened to include 0 before min/max, zero clamped by construction.
    case gptq
    /// Symmetric around 0: `scale = 2·absmax / (2^b − 1)`, zero at the middle code.
    case symmetric
    /// min/max with a real-valued zero point (`ŵ = minv + q·scale`): the grid of GGML's Q4_1,
    /// so it reproduces weights that already sit on such a grid exactly.
    case floatzero = "float-zero"
}

/// A quantization recipe for one weight matrix.
public struct QuantSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    public var bits: Int
    /// Group size; 0 means one group per whole row (per-OC) or column (per-IC): per-channel.
    public var group: Int
    public var dim: QuantDim
    public var grid: GridKind
    /// The range search per group (none: each group's own min and max).
    public var clip: ClipSearch

    public init(bits: Int, group: Int, dim: QuantDim, grid: GridKind = .minmax, clip: ClipSearch = .none) {
        self.bits = bits
        self.group = group
        self.dim = dim
        self.grid = grid
        self.clip = clip
    }

    public var maxq: Float { Float((1 << bits) - 1) }

    public var description: String {
        "w\(bits) \(group == 0 ? "per-channel" : "g\(group)") \(dim.rawValue)\(grid == .minmax ? "" : " \(grid.rawValue)")"
            + (clip.isOn ? " \(clip)" : "")
    }

    /// Checks the spec against a `[out, in]` weight; returns the effective group size.
    public func validate(rows: Int, cols: Int) throws -> Int {
        guard (2...8).contains(bits) else { throw QuantError("bits must be 2…8, got \(bits)", origin: .bits) }
        try clip.validate()
        let along = dim == .oc ? cols : rows
        if group == 0 { return along }
        guard group > 0 else { throw QuantError("group size must be positive (or 0 for per-channel), got \(group)", origin: .group) }
        guard group <= along else {
            throw QuantError("group size \(group) is larger than the grouped dimension (\(dim == .oc ? "input" : "output") size \(along))", origin: .group)
        }
        return group
    }
}

/// Scale and zero point of one group.
public struct GroupParams: Sendable, Equatable {
    public var scale: Float
    public var zero: Float
    /// Integer zero points round `w/scale` first (the reference recipe); a real-valued zero
    /// point rounds `w/scale + zero`.
    public var integerZero: Bool = true

    public init(scale: Float, zero: Float, integerZero: Bool = true) {
        self.scale = scale
        self.zero = zero
        self.integerZero = integerZero
    }

    /// Fits the grid to the values' range.
    @inline(__always)
    public static func fit(min mn: Float, max mx: Float, bits: Int, grid: GridKind) -> GroupParams {
        let maxq = Float((1 << bits) - 1)
        switch grid {
        case .floatzero:
            let scale = Swift.max(mx - mn, 1e-5) / maxq
            return GroupParams(scale: scale, zero: -mn / scale, integerZero: false)
        case .minmax, .reference:
            let scale = Swift.max(mx - mn, 1e-5) / maxq
            var zero = (-mn / scale).rounded(.toNearestOrEven)
            if grid == .reference { zero = Swift.min(Swift.max(zero, 0), maxq) }
            return GroupParams(scale: scale, zero: zero)
        case .gptq:
            var lo = Swift.min(mn, 0), hi = Swift.max(mx, 0)
            if lo == 0 && hi == 0 { lo = -1; hi = 1 }
            let scale = (hi - lo) / maxq
            return GroupParams(scale: scale, zero: (-lo / scale).rounded(.toNearestOrEven))
        case .symmetric:
            let a = Swift.max(abs(mn), abs(mx))
            var scale = 2 * a / maxq
            if scale == 0 { scale = 1e-5 }
            return GroupParams(scale: scale, zero: ((maxq + 1) / 2).rounded(.toNearestOrEven))
        }
    }

    /// The integer code of `w`.
    @inline(__always)
    public func code(_ w: Float, maxq: Float) -> Float {
        integerZero ? Swift.min(Swift.max((w / scale).rounded(.toNearestOrEven) + zero, 0), maxq)
            : Swift.min(Swift.max((w / scale + zero).rounded(.toNearestOrEven), 0), maxq)
    }

    /// `(q − zero)·scale`.
    @inline(__always)
    public func dequant(_ q: Float) -> Float { (q - zero) * scale }

    @inline(__always)
    public func roundTrip(_ w: Float, maxq: Float) -> Float { dequant(code(w, maxq: maxq)) }

    public static func fit(_ values: UnsafeBufferPointer<Float>, bits: Int, grid: GridKind) -> GroupParams {
        var mn = Float.infinity, mx = -Float.infinity
        for v in values { mn = Swift.min(mn, v); mx = Swift.max(mx, v) }
        return fit(min: mn, max: mx, bits: bits, grid: grid)
    }
}

/// A quantized weight matrix: codes, per-group scales and zero points, and the dequantized values.
public struct QuantizedTensor: Sendable {
    public let spec: QuantSpec
    /// Effective group size (the whole dimension for per-channel).
    public let groupSize: Int
    /// Integer codes, `[out, in]`, each in `0…2^b − 1`.
    public var codes: [UInt8]
    /// Per-group scales: `[out, ⌈in/g⌉]` for per-OC, `[⌈out/g⌉, in]` for per-IC.
    public var scales: Tensor
    /// Per-group zero points, same shape as `scales`.
    public var zeros: Tensor
    /// `(codes − zero)·scale`, `[out, in]`.
    public var dequantized: Tensor
    /// True when the group size does not divide the grouped dimension (last group shorter).
    public var ragged: Bool

    public var shape: [Int] { dequantized.shape }

    /// The groups' parameter index of element `(r, c)`.
    @inline(__always)
    public func groupIndex(row r: Int, col c: Int) -> (Int, Int) {
        spec.dim == .oc ? (r, c / groupSize) : (r / groupSize, c)
    }

    /// Rebuilds the dequantized values from codes, scales and zeros.
    public static func dequantize(codes: [UInt8], scales: Tensor, zeros: Tensor, rows: Int, cols: Int,
                                  dim: QuantDim, groupSize: Int) -> Tensor {
        var out = [Float](repeating: 0, count: rows * cols)
        let sc = scales.cols
        for r in 0..<rows {
            for c in 0..<cols {
                let (gr, gc) = dim == .oc ? (r, c / groupSize) : (r / groupSize, c)
                let s = scales.data[gr * sc + gc], z = zeros.data[gr * sc + gc]
                out[r * cols + c] = (Float(codes[r * cols + c]) - z) * s
            }
        }
        return Tensor(shape: [rows, cols], data: out)
    }
}
