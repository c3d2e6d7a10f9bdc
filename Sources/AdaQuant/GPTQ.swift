import _CBLAS
import AdaTensor

/// Running sum of `x xᵀ` over calibration tokens for one linear layer's inputs.
public struct Hessian: Sendable {
    public let size: Int
    /// `Σ xᵀx` (not yet scaled), row-major `[size, size]`.
    public private(set) var sum: [Float]
    public private(set) var tokens: Int = 0

    public init(size: Int) {
        self.size = size
        sum = [Float](repeating: 0, count: size * size)
    }

    /// Adds the rows of `x: [T, size]`.
    public mutating func add(_ x: Tensor) {
        let (t, n) = x.matrixShape
        precondition(n == size, "Hessian of size \(size) fed \(n) features")
        x.data.withUnsafeBufferPointer { px in
            sum.withUnsafeMutableBufferPointer { ps in
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(n), blasint(t), 1,
                            px.baseAddress!, blasint(n), 1, ps.baseAddress!, blasint(n))
            }
        }
        tokens += t
    }

    /// `H = (2/N)·Σ x xᵀ` in double precision, both triangles filled.
    public func matrix() -> [Double] {
        let n = size
        var h = [Double](repeating: 0, count: n * n)
        let s = tokens > 0 ? 2.0 / Double(tokens) : 0
        for i in 0..<n {
            for j in i..<n {
                let v = Double(sum[i * n + j]) * s
                h[i * n + j] = v
                h[j * n + i] = v
            }
        }
        return h
    }

    /// Diagonal of `H`.
    public func diagonal() -> [Double] {
        let s = tokens > 0 ? 2.0 / Double(tokens) : 0
        return (0..<size).map { Double(sum[$0 * size + $0]) * s }
    }
}

public struct GPTQOptions: Sendable, Equatable {
    /// Damping added to the diagonal, as a fraction of its mean.
    public var damp: Double = 0.01
    /// Columns per lazy-batch block.
    public var blockSize: Int = 128
    /// Quantize columns in order of descending `diag(H)`.
    public var actOrder: Bool = true
    public init(damp: Double = 0.01, blockSize: Int = 128, actOrder: Bool = true) {
        self.damp = damp
        self.blockSize = blockSize
        self.actOrder = actOrder
    }
}

/// The upper Cholesky factor `U` of `H⁻¹` (`H⁻¹ = UᵀU`), row-major, in place of the symmetric
/// positive definite `a` (row-major, `n × n`): one `n²` buffer, no copy. LAPACK's Fortran
/// routines run on the column-major view, where the row-major upper triangle is the lower one.
/// On a failure `a` is left partly factored.
func upperCholeskyOfInverse(_ a: inout [Double], n: Int) throws {
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var lower = Int8(UInt8(ascii: "L"))
    dpotrf_(&lower, &nn, &a, &lda, &info)
    guard info == 0 else { throw QuantError("Hessian is not positive definite (Cholesky failed at column \(info))", origin: .hessian) }
    dpotri_(&lower, &nn, &a, &lda, &info)
    guard info == 0 else { throw QuantError("Hessian inverse failed (info \(info))", origin: .hessian) }
    // Column-major lower == row-major upper is valid; the Cholesky below reads only that part.
    dpotrf_(&lower, &nn, &a, &lda, &info)
    guard info == 0 else { throw QuantError("Cholesky of the inverse Hessian failed at column \(info)", origin: .hessian) }
    for r in 0..<n { for c in 0..<r { a[r * n + c] = 0 } }
}

/// GPTQ on one weight matrix `w: [out, in]` with the Hessian of its inputs.
///
/// per-OC: static groups (parameters from the original weights, before act-order reordering)
/// on GPTQ's grid (range widened to include 0) unless the spec names another grid than `minmax`.
/// per-IC: when a column is quantized, its `out/g` group parameters are fitted to the
/// error-updated column with the spec's grid.
/// A clip search (`spec.clip`) chooses each group's range where the group is fitted: per-OC on
/// the original weights (static groups), per-IC on the error-updated column; `weighted`
/// weights each element by its input column's Hessian diagonal.
/// Weights or a Hessian holding NaN or ±∞ are refused (origins `.tensor` and `.calibration`, naming `name`).
public func quantizeGPTQ(_ w: Tensor, hessian: Hessian, spec: QuantSpec, options: GPTQOptions = GPTQOptions(),
                         name: String = "the weight", shouldStop: (() -> Bool)? = nil) throws -> QuantizedTensor {
    guard w.rank == 2 else { throw QuantError("weights must be 2-D [out, in], got \(w.shape)", origin: .tensor) }
    let (rows, cols) = (w.shape[0], w.shape[1])
    guard hessian.size == cols else { throw QuantError("Hessian is \(hessian.size)×\(hessian.size), weight has \(cols) inputs", origin: .calibration) }
    guard hessian.tokens > 0 else { throw QuantError("Hessian has no calibration tokens", origin: .calibration) }
    let g = try spec.validate(rows: rows, cols: cols)
    try requireFiniteWeights(w, name)
    try hessian.requireFinite(name)
    var wd = w.data
    // Dead inputs: H[i,i] = 1 and the weight column zeroed.
    var diag = hessian.diagonal()
    for i in 0..<cols where diag[i] == 0 {
        diag[i] = 1
        for r in 0..<rows { wd[r * cols + i] = 0 }
    }
    var sweep = GPTQSweep(rows: rows, cols: cols, groupSize: g, spec: spec)
    if spec.clip.mode == .weighted { sweep.importance = diag.map { Float($0) } }
    if spec.dim == .oc { sweep.fitStaticGroups(wd) }
    // Act-order permutation (stable: ties keep column order).
    if options.actOrder {
        sweep.perm.sort { diag[$0] != diag[$1] ? diag[$0] > diag[$1] : $0 < $1 }
    }
    let u = try dampedUpperCholeskyOfInverse(hessian, deadDiagonal: diag, perm: sweep.perm, damp: options.damp)
    try sweep.run(wd, u: u.map { Float($0) }, blockSize: max(1, options.blockSize), shouldStop: shouldStop)
    let effSpec = QuantSpec(bits: spec.bits, group: spec.group, dim: spec.dim, grid: spec.dim == .oc ? sweep.ocGrid : spec.grid,
                            clip: spec.clip)
    let along = spec.dim == .oc ? cols : rows
    let q = QuantizedTensor(spec: effSpec, groupSize: g, codes: sweep.codes, scales: sweep.scales, zeros: sweep.zeros,
                            dequantized: Tensor(shape: [rows, cols], data: sweep.deq), ragged: along % g != 0)
    try requireFiniteResult(q, name)
    return q
}

/// `upperCholeskyOfInverse` of `H` (`hessian.matrix()`, its diagonal replaced by `diagonal`, which
/// sets dead inputs to 1) permuted by `perm` (`hp[i, j] = H[perm[i], perm[j]]`) with `damp ×` its
/// mean diagonal added to the diagonal; when the factorization fails the damping grows
/// tenfold, up to six times. One `n²` double buffer, filled from the Hessian's Float sums
/// (again after a failure): for `down`'s 11008 inputs that is 0.97 GB, not four of them.
func dampedUpperCholeskyOfInverse(_ hessian: Hessian, deadDiagonal diagonal: [Double], perm: [Int], damp fraction: Double) throws -> [Double] {
    let cols = perm.count
    let s = hessian.tokens > 0 ? 2.0 / Double(hessian.tokens) : 0
    var hp = [Double](repeating: 0, count: cols * cols)
    func fill(damp: Double) {
        hessian.sum.withUnsafeBufferPointer { sum in
            hp.withUnsafeMutableBufferPointer { out in
                for i in 0..<cols {
                    let pi = perm[i]
                    for j in 0..<cols {
                        let pj = perm[j]
                        out[i * cols + j] = Double(sum[min(pi, pj) * cols + max(pi, pj)]) * s
                    }
                    out[i * cols + i] = diagonal[pi] + damp
                }
            }
        }
    }
    let meanDiag = (0..<cols).reduce(0.0) { $0 + diagonal[perm[$1]] } / Double(cols)
    var damp = fraction * meanDiag
    var attempt = 0
    while true {
        fill(damp: damp)
        do {
            try upperCholeskyOfInverse(&hp, n: cols)
            return hp
        } catch {
            attempt += 1
            if attempt > 6 { throw error }
            damp = max(damp * 10, 1e-8)
        }
    }
}

/// The state of one GPTQ pass over a weight: the column order, the group parameters, and the
/// codes and dequantized values as they are decided.
struct GPTQSweep {
    let rows: Int, cols: Int, g: Int
    let spec: QuantSpec
    let nGroups: Int
    /// The grid of per-OC static groups: GPTQ's own unless the spec names another than `minmax`.
    let ocGrid: GridKind
    /// Column order: `perm[k]` is the original index of the `k`-th column quantized.
    var perm: [Int]
    var scales: Tensor, zeros: Tensor
    var codes: [UInt8]
    var deq: [Float]
    /// Per input column (original order) error weights of `clip=weighted`: the Hessian diagonal.
    var importance: [Float]?

    init(rows: Int, cols: Int, groupSize g: Int, spec: QuantSpec) {
        (self.rows, self.cols, self.g, self.spec) = (rows, cols, g, spec)
        nGroups = spec.dim == .oc ? (cols + g - 1) / g : (rows + g - 1) / g
        let pshape = spec.dim == .oc ? [rows, nGroups] : [nGroups, cols]
        scales = Tensor(zeros: pshape)
        zeros = Tensor(zeros: pshape)
        ocGrid = spec.grid == .minmax ? .gptq : spec.grid
        perm = Array(0..<cols)
        codes = [UInt8](repeating: 0, count: rows * cols)
        deq = [Float](repeating: 0, count: rows * cols)
    }

    /// per-OC static groups from the (dead-zeroed) original weights `wd`.
    mutating func fitStaticGroups(_ wd: [Float]) {
        let imp = importance ?? []
        for r in 0..<rows {
            for gi in 0..<nGroups {
                let c0 = gi * g, c1 = min((gi + 1) * g, cols)
                let gp = wd.withUnsafeBufferPointer { p in
                    imp.withUnsafeBufferPointer { pi in
                        spec.clip.fit(UnsafeBufferPointer(rebasing: p[(r * cols + c0)..<(r * cols + c1)]),
                                      weights: importance == nil ? nil : UnsafeBufferPointer(rebasing: pi[c0..<c1]),
                                      bits: spec.bits, grid: ocGrid)
                    }
                }
                scales.data[r * nGroups + gi] = gp.scale
                zeros.data[r * nGroups + gi] = gp.zero
            }
        }
    }

    /// Quantizes the columns of `wd` in `perm` order, spreading each column's error over the
    /// later columns with the rows of `u` (the upper Cholesky factor of the permuted `H⁻¹`):
    /// inside a block of `blockSize` columns one column at a time, then the rest in one GEMM.
    mutating func run(_ wd: [Float], u uf: [Float], blockSize bs: Int, shouldStop: (() -> Bool)?) throws {
        let (rows, cols) = (self.rows, self.cols)
        // Work on Wᵀ in permuted order: row k of `wt` is column perm[k] of W (contiguous).
        var wt = [Float](repeating: 0, count: cols * rows)
        for k in 0..<cols { for r in 0..<rows { wt[k * rows + r] = wd[r * cols + perm[k]] } }
        var errBlock = [Float](repeating: 0, count: bs * rows)
        var colParams = [GroupParams](repeating: GroupParams(scale: 1, zero: 0), count: nGroups)
        try wt.withUnsafeMutableBufferPointer { pw in
            try uf.withUnsafeBufferPointer { pu in
                try errBlock.withUnsafeMutableBufferPointer { pe in
                    var i1 = 0
                    while i1 < cols {
                        if shouldStop?() == true { throw CancellationError() }
                        let i2 = min(i1 + bs, cols)
                        for k in i1..<i2 {
                            let col = pw.baseAddress! + k * rows
                            let err = pe.baseAddress! + (k - i1) * rows
                            quantizeColumn(k, col, err: err, d: pu[k * cols + k], colParams: &colParams)
                            // Propagate inside the block.
                            for j in (k + 1)..<i2 {
                                let f = pu[k * cols + j]
                                if f == 0 { continue }
                                let cj = pw.baseAddress! + j * rows
                                for r in 0..<rows { cj[r] -= f * err[r] }
                            }
                        }
                        // Lazy batch update of the remaining columns: W[i2:] -= U[i1:i2, i2:]ᵀ · Err.
                        if i2 < cols {
                            sgemm(transA: true, transB: false, m: cols - i2, n: rows, k: i2 - i1, alpha: -1,
                                  a: pu.baseAddress! + i1 * cols + i2, lda: cols,
                                  b: UnsafePointer(pe.baseAddress!), ldb: rows, beta: 1,
                                  c: pw.baseAddress! + i2 * rows, ldc: rows)
                        }
                        i1 = i2
                    }
                }
            }
        }
    }

    /// Quantizes the `k`-th column in order (`col`, error-updated), writing its codes and
    /// values and its scaled error `(w − ŵ)/d` into `err`. per-IC fits the column's groups first.
    @inline(__always)
    mutating func quantizeColumn(_ k: Int, _ col: UnsafeMutablePointer<Float>, err: UnsafeMutablePointer<Float>, d: Float,
                                 colParams: inout [GroupParams]) {
        let orig = perm[k]
        let maxq = spec.maxq
        if spec.dim == .ic {
            for gi in 0..<nGroups {
                let lo = gi * g, hi = min((gi + 1) * g, rows)
                // One input column: its weight is the same for every element, so `weighted`
                // chooses as `mse` does (the constant factor does not move the minimum).
                let gp = spec.clip.fit(UnsafeBufferPointer(start: col + lo, count: hi - lo), weights: nil, bits: spec.bits, grid: spec.grid)
                colParams[gi] = gp
                scales.data[gi * cols + orig] = gp.scale
                zeros.data[gi * cols + orig] = gp.zero
            }
        }
        for r in 0..<rows {
            let gp: GroupParams
            if spec.dim == .ic {
                gp = colParams[r / g]
            } else {
                let gi = orig / g
                gp = GroupParams(scale: scales.data[r * nGroups + gi], zero: zeros.data[r * nGroups + gi], integerZero: ocGrid != .floatzero)
            }
            let q = gp.code(col[r], maxq: maxq)
            let v = gp.dequant(q)
            codes[r * cols + orig] = codeByte(q)
            deq[r * cols + orig] = v
            err[r] = (col[r] - v) / d
        }
    }
}
