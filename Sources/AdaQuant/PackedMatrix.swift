import _CKernels
import AdaModel
import AdaTensor

/// A quantized layer in the packed kernels' layout (`_CKernels/packed.c`): codes in blocks of
/// 32 at 2, 3, 4 or 8 bits per code (5–7-bit codes are kept one per byte), with the layer's
/// Float32 scales and zeros, multiplied without making a Float32 copy of the weights. Both
/// groupings run on the same code·input dot products: per-OC subtracts `zero × Σx` per
/// group, per-IC scales the input by the column's scale once per group of rows. The result
/// equals `x · dequantized(W)ᵀ` up to Float32 summation order; with `.int8` activations, that
/// of the input rounded to int8 per block of 32.
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

    public convenience init(_ layer: PackedLayer) {
        self.init(codes: layer.codes, rows: layer.rows, cols: layer.cols, bits: layer.spec.bits, dim: layer.spec.dim,
                  groupSize: layer.groupSize, scales: layer.scales.data, zeros: layer.zeros.data)
    }

    /// From codes one per byte (`[rows, cols]`, each below 2^bits) and the grouping's scales
    /// and zeros (`[rows, ⌈cols/g⌉]` per-OC, `[⌈rows/g⌉, cols]` per-IC).
    init(codes plain: [UInt8], rows: Int, cols: Int, bits: Int, dim: QuantDim, groupSize: Int,
         scales s: [Float], zeros z: [Float]) {
        self.rows = rows
        self.cols = cols
        self.bits = bits
        let l = [2, 3, 4].contains(bits) ? bits : 8
        layout = l
        self.dim = dim
        let g = max(1, groupSize)
        self.groupSize = g
        precondition(plain.count == rows * cols && s.count == z.count
                     && s.count == (dim == .oc ? rows * ((cols + g - 1) / g) : ((rows + g - 1) / g) * cols),
                     "PackedMatrix: \(plain.count) codes, \(s.count) scales for [\(rows), \(cols)] g\(g) \(dim)")
        rowBytes = ada_packed_row_bytes(Int32(cols), Int32(l))
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, rows * rowBytes))
        plain.withUnsafeBufferPointer { src in
            ada_packed_layout(src.baseAddress, Int32(rows), Int32(cols), Int32(l), buffer.baseAddress)
        }
        codes = buffer
        scales = .allocate(capacity: max(1, s.count))
        _ = scales.initialize(from: s)
        zeros = .allocate(capacity: max(1, z.count))
        _ = zeros.initialize(from: z)
    }

    /// `w` as 8-bit symmetric codes in per-OC groups of 32 (`w = (code − 128)·d`, `d` the
    /// group's max |w| / 127: GGML's Q8_0), when that represents every element exactly — as
    /// for a tensor stored as Q8_0 in its file. Nil when any element would change, so a
    /// product with the result equals one with `w` up to summation order.
    public static func exactInt8(_ w: Tensor) -> PackedMatrix? {
        guard w.rank == 2, w.shape[1] % 32 == 0 else { return nil }
        let rows = w.shape[0], cols = w.shape[1], groups = cols / 32
        var codes = [UInt8](repeating: 0, count: rows * cols)
        var scales = [Float](repeating: 0, count: rows * groups)
        let exact: Bool = w.data.withUnsafeBufferPointer { x in
            for r in 0..<rows {
                for g in 0..<groups {
                    let base = r * cols + g * 32
                    var amax: Float = 0
                    for i in 0..<32 { amax = max(amax, abs(x[base + i])) }
                    let d = amax / 127
                    scales[r * groups + g] = d
                    for i in 0..<32 {
                        let q = d == 0 ? 0 : (x[base + i] / d).rounded(.toNearestOrEven)
                        guard abs(q) <= 127, (q + 128 - 128) * d == x[base + i] else { return false }
                        codes[base + i] = UInt8(q + 128)
                    }
                }
            }
            return true
        }
        guard exact else { return nil }
        return PackedMatrix(codes: codes, rows: rows, cols: cols, bits: 8, dim: .oc, groupSize: 32,
                            scales: scales, zeros: [Float](repeating: 128, count: rows * groups))
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

    /// Whether `.int8` activations take effect on this CPU (AVX-512 with VNNI); elsewhere they
    /// fall back to `.float32`.
    public static var int8Available: Bool { ada_packed_int8_available() != 0 }

    /// `x · Wᵀ` for `x` of shape `[n, cols]`: `[n, rows]`.
    public func multiply(_ x: Tensor, activations: PackedActivations = .float32) throws -> Tensor {
        try PackedMatrix.multiply([self], x, activations: activations)[0]
    }

    /// `x · Wₖᵀ` for several matrices of the same input width in one call on the thread pool
    /// (q, k and v; gate and up), so the pool is woken once. `x` is `[n, cols]`; the caller
    /// checks the shapes (a mismatch is a programming error). Throws when the kernels' work
    /// buffers cannot be allocated.
    public static func multiply(_ ms: [PackedMatrix], _ x: Tensor, activations: PackedActivations = .float32) throws -> [Tensor] {
        guard let first = ms.first else { return [] }
        precondition(x.rank == 2 && x.shape[1] == first.cols && ms.allSatisfy { $0.cols == first.cols },
                     "packed multiply: input \(x.shape), weights \(first.shape)")
        let n = x.shape[0]
        if n >= panelInputRows { return ms.map { $0.multiplyByPanels(x) } }
        let outs = ms.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, n * $0.rows)) }
        defer { outs.forEach { $0.deallocate() } }
        let status: Int32 = withExtendedLifetime(ms) {
            var descs = ms.map(\.descriptor)
            return descs.withUnsafeMutableBufferPointer { d in
                let ptrs = (0..<ms.count).map { Optional(UnsafePointer(d.baseAddress! + $0)) }
                let ys = outs.map { Optional($0.baseAddress!) }
                return x.data.withUnsafeBufferPointer { xp in
                    ada_packed_matmul(ptrs, Int32(ms.count), xp.baseAddress, Int32(n), first.cols, ys,
                                      activations == .int8 ? ADA_PACKED_INT8 : 0)
                }
            }
        }
        guard status == 0 else {
            throw QuantError("packed multiply: out of memory for the work buffers of a [\(n), \(first.cols)] input times \(ms.count) matri\(ms.count == 1 ? "x" : "ces")",
                             origin: .tensor)
        }
        return ms.indices.map { k in Tensor(shape: [n, ms[k].rows], data: Array(outs[k].prefix(n * ms[k].rows))) }
    }
}

extension PackedMatrix {
    /// Inputs of at least this many rows (a prompt's pass) are multiplied by panels: a panel
    /// of rows dequantized to Float32 (`ada_packed_dequantize`), then sgemm, which reuses each
    /// weight across the input's rows where the packed kernels unpack it once per row. The
    /// result equals the dense product with the dequantized weights up to summation order,
    /// with Float32 inputs whatever the `activations` (docs/architecture.md, "Packed kernels").
    public static let panelInputRows = 32

    /// Weights dequantized at a time: about 4 MiB of Float32 (a SmolLM2 layer whole), at least
    /// 16 rows.
    var panelRows: Int { max(16, min(rows, (1 << 20) / max(1, cols))) }

    /// `x · Wᵀ` by panels of `rowsPerPanel` rows (default `panelRows`): `[n, rows]`.
    public func multiplyByPanels(_ x: Tensor, rowsPerPanel: Int? = nil) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == cols, "packed multiply: input \(x.shape), weights \(shape)")
        let n = x.shape[0], p = max(1, rowsPerPanel ?? panelRows)
        var y = [Float](repeating: 0, count: n * rows)
        var panel = [Float](repeating: 0, count: p * cols)
        withExtendedLifetime(self) {
            var d = descriptor
            x.data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    panel.withUnsafeMutableBufferPointer { wp in
                        for r0 in stride(from: 0, to: rows, by: p) {
                            let r1 = min(rows, r0 + p)
                            ada_packed_dequantize(&d, Int32(r0), Int32(r1), wp.baseAddress)
                            sgemm(transA: false, transB: true, m: n, n: r1 - r0, k: cols, alpha: 1,
                                  a: xp.baseAddress!, lda: cols, b: wp.baseAddress!, ldb: cols,
                                  beta: 0, c: yp.baseAddress! + r0, ldc: rows)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, rows], data: y)
    }
}

/// The input of a packed product: Float32 as given, or rounded to int8 per block of 32
/// (scale `max|x|/127`) for integer dot products (AVX-512 VNNI; Float32 on other CPUs). The
/// int8 result is the exact product of the dequantized weights with the rounded input: its
/// error is at most `Σ_c |ŵ[r,c]| · d_b(c) / 2` for output `r`, `d_b(c)` the scale of the
/// block holding column `c` (per-IC: of the block of `s[G,:]·x`, the bound then over
/// `|code − zero|`).
public enum PackedActivations: String, Sendable, CaseIterable {
    case float32
    case int8
}
