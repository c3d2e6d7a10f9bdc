import AdaModel
import AdaTensor

/// A quantized linear layer as a model view keeps it: the integer codes bit-packed at the
/// layer's bit width (code `i` in bits `i·b … i·b+b−1`, the packed file's layout), with the
/// per-group scales and zeros. It is dequantized on use — `(code − zero)·scale`, the same
/// arithmetic the quantizers use, so `dequantized` equals the quantizer's own Float32
/// result bit for bit.
public struct PackedLayer: LayerOverlay {
    public let spec: QuantSpec
    /// Effective group size (the whole dimension for per-channel).
    public let groupSize: Int
    public let rows: Int, cols: Int
    /// Bit-packed codes, `⌈rows·cols·bits / 8⌉` bytes.
    public let packed: [UInt8]
    /// Per-group scales: `[out, ⌈in/g⌉]` for per-OC, `[⌈out/g⌉, in]` for per-IC.
    public let scales: Tensor
    /// Per-group zero points, same shape as `scales`.
    public let zeros: Tensor
    /// True when the group size does not divide the grouped dimension.
    public let ragged: Bool

    public init(_ q: QuantizedTensor) {
        spec = q.spec
        groupSize = q.groupSize
        rows = q.shape[0]
        cols = q.shape[1]
        packed = PackedFormat.pack(q.codes, bits: q.spec.bits)
        scales = q.scales
        zeros = q.zeros
        ragged = q.ragged
    }

    public var shape: [Int] { [rows, cols] }
    public var storedBytes: Int { packed.count + (scales.count + zeros.count) * MemoryLayout<Float>.size }

    /// The integer codes, one per byte, `[out, in]` row-major.
    public var codes: [UInt8] {
        packed.withUnsafeBytes { PackedFormat.unpack($0, count: rows * cols, bits: spec.bits) }
    }

    /// `(code − zero)·scale` for every element.
    public var dequantized: Tensor {
        QuantizedTensor.dequantize(codes: codes, scales: scales, zeros: zeros, rows: rows, cols: cols,
                                   dim: spec.dim, groupSize: groupSize)
    }

    public func materialize() -> Tensor { dequantized }

    /// Bits per weight of the stored layer: the codes, plus a 16-bit scale and a 16-bit zero
    /// per group (the storage a serving format would use; ada keeps them as Float32).
    public var bitsPerWeight: Double {
        Double(spec.bits) + 32 * Double(scales.count) / Double(max(rows * cols, 1))
    }
}
