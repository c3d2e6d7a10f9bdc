import _CBLAS
import _CKernels

/// Errors raised by tensor operations on mismatched shapes or bad arguments.
public struct TensorError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A dense, row-major Float32 tensor with value semantics (copy-on-write storage).
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor filled by a closure of the flat index.
    public init(shape: [Int], _ fill: (Int) -> Float) {
        let n = shape.reduce(1, *)
        self.init(shape: shape, data: (0..<n).map(fill))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    public var rows: Int { shape.count >= 1 ? shape[0] : 1 }
    /// Length of the last dimension (1 for a scalar).
    public var cols: Int { shape.count >= 2 ? shape[shape.count - 1] : (shape.count == 1 ? shape[0] : 1) }

    /// A 2-D view: leading dimensions flattened.
    public var matrixShape: (rows: Int, cols: Int) {
        if shape.count == 0 { return (1, 1) }
        let c = shape[shape.count - 1]
        return (c == 0 ? 0 : data.count / c, c)
    }

    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, data.count % known == 0 else {
                throw TensorError("cannot reshape \(shape) to \(newShape)")
            }
            s[i] = data.count / known
        }
        guard s.allSatisfy({ $0 >= 0 }), s.reduce(1, *) == data.count else {
            throw TensorError("cannot reshape \(shape) to \(newShape)")
        }
        return Tensor(shape: s, data: data)
    }

    public subscript(_ i: Int, _ j: Int) -> Float {
        get { data[i * shape[1] + j] }
        set { data[i * shape[1] + j] = newValue }
    }

    /// Row `i` of a 2-D tensor, as a slice of the storage (no copy).
    public func row(_ i: Int) -> ArraySlice<Float> {
        let c = cols
        return data[(i * c)..<((i + 1) * c)]
    }

    /// Rows `range` of a 2-D (or higher) tensor along the first axis.
    public func rows(_ range: Range<Int>) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = range.count
        return Tensor(shape: s, data: Array(data[(range.lowerBound * inner)..<(range.upperBound * inner)]))
    }

    /// Column `j` of a 2-D tensor (a copy: columns are strided).
    public func column(_ j: Int) -> [Float] {
        let (r, c) = (shape[0], shape[1])
        return (0..<r).map { data[$0 * c + j] }
    }

    /// Columns `range` of a 2-D tensor.
    public func columns(_ range: Range<Int>) -> Tensor {
        let (r, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: r * range.count)
        for i in 0..<r {
            for (k, j) in range.enumerated() { out[i * range.count + k] = data[i * c + j] }
        }
        return Tensor(shape: [r, range.count], data: out)
    }

    /// The transpose of a 2-D tensor.
    public func transposed() -> Tensor {
        precondition(shape.count == 2, "transpose needs a 2-D tensor, got \(shape)")
        let (r, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: r * c)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Blocked transpose for cache friendliness.
                let b = 32
                var i0 = 0
                while i0 < r {
                    var j0 = 0
                    let i1 = Swift.min(i0 + b, r)
                    while j0 < c {
                        let j1 = Swift.min(j0 + b, c)
                        for i in i0..<i1 {
                            for j in j0..<j1 { dst[j * r + i] = src[i * c + j] }
                        }
                        j0 += b
                    }
                    i0 += b
                }
            }
        }
        return Tensor(shape: [c, r], data: out)
    }
}

// MARK: - Element-wise arithmetic

extension Tensor {
    @inline(__always)
    func zipped(_ other: Tensor, _ op: (Float, Float) -> Float) throws -> Tensor {
        guard shape == other.shape else {
            throw TensorError("shape mismatch: \(shape) vs \(other.shape)")
        }
        var out = data
        other.data.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<o.count { o[i] = op(o[i], b[i]) }
            }
        }
        return Tensor(shape: shape, data: out)
    }

    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, data: data.map(f))
    }

    public func adding(_ o: Tensor) throws -> Tensor { try zipped(o, +) }
    public func subtracting(_ o: Tensor) throws -> Tensor { try zipped(o, -) }
    public func multiplying(_ o: Tensor) throws -> Tensor { try zipped(o, *) }
    public func dividing(_ o: Tensor) throws -> Tensor { try zipped(o, /) }
    public func scaled(by s: Float) -> Tensor { map { $0 * s } }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.adding(b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.subtracting(b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.multiplying(b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.dividing(b) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.scaled(by: s) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }

    /// In-place `self += other` (same shape).
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "shape mismatch: \(shape) vs \(other.shape)")
        other.data.withUnsafeBufferPointer { b in
            data.withUnsafeMutableBufferPointer { o in
                for i in 0..<o.count { o[i] += b[i] }
            }
        }
    }
}

// MARK: - Reductions

/// What a reduction computes.
public enum Reduction: String, Sendable, CaseIterable {
    case sum, mean, absmax, min, max
}

extension Tensor {
    public func sum() -> Double { data.reduce(0.0) { $0 + Double($1) } }
    public func mean() -> Double { data.isEmpty ? .nan : sum() / Double(data.count) }
    public func absmax() -> Float { data.reduce(0) { Swift.max($0, abs($1)) } }
    public func min() -> Float { data.min() ?? .nan }
    public func max() -> Float { data.max() ?? .nan }

    /// Reduces a 2-D tensor along `axis` (0: over rows, giving one value per column;
    /// 1: over columns, giving one value per row).
    public func reduce(_ r: Reduction, axis: Int) throws -> Tensor {
        guard shape.count == 2 else { throw TensorError("reduce along an axis needs a 2-D tensor, got \(shape)") }
        guard axis == 0 || axis == 1 else { throw TensorError("axis must be 0 or 1, got \(axis)") }
        let (nr, nc) = (shape[0], shape[1])
        let outCount = axis == 0 ? nc : nr
        let n = axis == 0 ? nr : nc
        var acc = [Double](repeating: 0, count: outCount)
        var initial: Double
        switch r {
        case .sum, .mean, .absmax: initial = 0
        case .min: initial = .infinity
        case .max: initial = -.infinity
        }
        for k in 0..<outCount { acc[k] = initial }
        data.withUnsafeBufferPointer { p in
            for i in 0..<nr {
                for j in 0..<nc {
                    let v = Double(p[i * nc + j])
                    let k = axis == 0 ? j : i
                    switch r {
                    case .sum, .mean: acc[k] += v
                    case .absmax: acc[k] = Swift.max(acc[k], abs(v))
                    case .min: acc[k] = Swift.min(acc[k], v)
                    case .max: acc[k] = Swift.max(acc[k], v)
                    }
                }
            }
        }
        if r == .mean { for k in 0..<outCount { acc[k] /= Double(n) } }
        return Tensor(shape: [outCount], data: acc.map { Float($0) })
    }
}

// MARK: - Matrix products (BLAS)

extension Tensor {
    /// `a · b` (or with either side transposed) through `cblas_sgemm`. Both must be 2-D.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else {
            throw TensorError("matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        }
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        guard k == kb else {
            throw TensorError("matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        }
        var out = Tensor(zeros: [m, n])
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                          alpha: 1, a: pa.baseAddress!, lda: a.shape[1],
                          b: pb.baseAddress!, ldb: b.shape[1], beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}

/// Thin wrapper over `cblas_sgemm` for row-major data: `C = alpha·op(A)·op(B) + beta·C`.
@inline(__always)
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                beta, c, blasint(ldc))
}

/// Thin wrapper over `cblas_sgemv` for a row-major `m × n` matrix: `y = alpha·A·x + beta·y`
/// (`trans`: `Aᵀ·x`, then `x` has `m` entries and `y` has `n`).
@inline(__always)
public func sgemv(trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                  x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
    if m == 0 || n == 0 { return }
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), alpha, a, blasint(lda),
                x, 1, beta, y, 1)
}

/// `y = W·x` for a row-major `rows × cols` matrix and one vector, on the kernels' thread pool
/// (`_CKernels/matvec.c`): a decoding step's products, memory-bound, where OpenBLAS's sgemv
/// loses to its threading overhead on small matrices.
@inline(__always)
public func matvec(rows: Int, cols: Int, w: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    ada_matvec(w, Int32(rows), Int32(cols), x, y)
}

/// Double-precision `C = alpha·op(A)·op(B) + beta·C`, row-major.
@inline(__always)
public func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                  a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                  beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                beta, c, blasint(ldc))
}

/// The number of threads OpenBLAS uses.
public var blasThreads: Int { Int(openblas_get_num_threads()) }
