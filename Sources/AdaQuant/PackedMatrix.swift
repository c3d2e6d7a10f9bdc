import _CKernels
import AdaModel
import AdaTensor

/// A quantized layer in the packed kernels' layout (`_CKernels/packed.c`): codes in blocks of
/// 32 at 2, 3, 4 or 8 bits per code (5–7-bit codes are kept one per byte), with the layer's
/// Float32 scales and zeros, multiplied without making a Float32 copy of the weights. Both
/// groupings run on the same code·input dot products: per-OC subtracts `zero × Σx` per
/// group, per-IC scales the input by the column's scale once per group of rows. The result
/// equals `x · dequantized(W)ᵀ` up to Float32 summation order.
public final class PackedMatrix: @unchecked Sendable {
    public let rows: Int, cols: Int
    public let bits: Int
    /// Bits per code in the kernel layout (2, 3, 4 or 8).
    public let layout: Int
    public let dim: QuantDim
    public let groupSize: Int
    // Owned buffers (freed in deinit), so the C descriptors may point into them.
    private let codes: UnsafeMutableBufferPointer<UInt8>
    private let scales: UnsafeMutableBufferPointer<Float>, zeros: UnsafeMutableBufferPointer<Float>
    private let rowBytes: Int

    public init(_ layer: PackedLayer) {
        rows = layer.rows
        cols = layer.cols
        bits = layer.spec.bits
        layout = [2, 3, 4].contains(bits) ? bits : 8
        dim = layer.spec.dim
        groupSize = max(1, layer.groupSize)
        let (r, c, l) = (layer.rows, layer.cols, layout)
        rowBytes = ada_packed_row_bytes(Int32(c), Int32(l))
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, r * rowBytes))
        layer.codes.withUnsafeBufferPointer { src in
            ada_packed_layout(src.baseAddress, Int32(r), Int32(c), Int32(l), buffer.baseAddress)
        }
        codes = buffer
        scales = .allocate(capacity: max(1, layer.scales.count))
        _ = scales.initialize(from: layer.scales.data)
        zeros = .allocate(capacity: max(1, layer.zeros.count))
        _ = zeros.initialize(from: layer.zeros.data)
    }

    deinit {
        codes.deallocate()
        scales.deallocate()
        zeros.deallocate()
    }

    var descriptor: ada_packed_matrix {
        ada_packed_matrix(rows: Int32(rows), cols: Int32(cols), layout: Int32(layout), dim: dim == .oc ? 0 : 1,
                          group: Int32(groupSize), row_bytes: rowBytes, codes: codes.baseAddress,
                          scales: scales.baseAddress, zeros: zeros.baseAddress)
    }

    public var shape: [Int] { [rows, cols] }
    /// Bytes read per product: the codes and the Float32 scales and zeros.
    public var storedBytes: Int { codes.count + (scales.count + zeros.count) * MemoryLayout<Float>.size }

    /// The codes back from the kernel layout, one per byte, `[rows, cols]` row-major.
    public var unpackedCodes: [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows {
                ada_packed_unpack_row(codes.baseAddress! + r * rowBytes, Int32(cols), Int32(layout),
                                      dst.baseAddress! + r * cols)
            }
        }
        return out
    }

    /// Threads of the kernels' pool, the caller included (`ADA_THREADS`, else the processor
    /// count); 1 runs every product in the caller.
    public static var threads: Int {
        get { Int(ada_threads()) }
        set { ada_set_threads(Int32(newValue)) }
    }

    /// `x · Wᵀ` for `x` of shape `[n, cols]`: `[n, rows]`.
    public func multiply(_ x: Tensor) -> Tensor {
        PackedMatrix.multiply([self], x)[0]
    }

    /// `x · Wₖᵀ` for several matrices of the same input width in one call on the thread pool
    /// (q, k and v; gate and up), so the pool is woken once. `x` is `[n, cols]`; the caller
    /// checks the shapes (a mismatch is a programming error).
    public static func multiply(_ ms: [PackedMatrix], _ x: Tensor) -> [Tensor] {
        guard let first = ms.first else { return [] }
        precondition(x.rank == 2 && x.shape[1] == first.cols && ms.allSatisfy { $0.cols == first.cols },
                     "packed multiply: input \(x.shape), weights \(first.shape)")
        let n = x.shape[0]
        let outs = ms.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, n * $0.rows)) }
        defer { outs.forEach { $0.deallocate() } }
        withExtendedLifetime(ms) {
            var descs = ms.map(\.descriptor)
            descs.withUnsafeMutableBufferPointer { d in
                let ptrs = (0..<ms.count).map { Optional(UnsafePointer(d.baseAddress! + $0)) }
                let ys = outs.map { Optional($0.baseAddress!) }
                x.data.withUnsafeBufferPointer { xp in
                    ada_packed_matmul(ptrs, Int32(ms.count), xp.baseAddress, Int32(n), first.cols, ys)
                }
            }
        }
        return ms.indices.map { k in Tensor(shape: [n, ms[k].rows], data: Array(outs[k].prefix(n * ms[k].rows))) }
    }
}
