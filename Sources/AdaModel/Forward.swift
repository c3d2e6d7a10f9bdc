import AdaTensor
import Foundation

/// A raw pointer handed to concurrent workers that touch disjoint parts of its memory.
struct UnsafeMutableSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
}

/// cos/sin of RoPE angles for positions 0..<T: pair i of a head rotates by `p · θ^(−2i/d)`.
/// Families with a second base for their sliding-window layers keep its angles too
/// (`table(forLayer:_:)` picks one).
public struct RoPETable: Sendable {
    public let positions: Int
    public let half: Int
    /// `cos[p · half + i]`, `sin[p · half + i]`: the angle of pair `i` at position `p`.
    public let cos: [Float]
    public let sin: [Float]
    /// The angles for the local layers' base, when it differs.
    let local: (cos: [Float], sin: [Float])?

    public init(positions: Int, headDim: Int, theta: Float, localTheta: Float? = nil) {
        self.positions = positions
        half = headDim / 2
        (cos, sin) = Self.angles(positions: positions, headDim: headDim, theta: theta)
        local = localTheta.map { Self.angles(positions: positions, headDim: headDim, theta: $0) }
    }

    private init(positions: Int, half: Int, cos: [Float], sin: [Float]) {
        (self.positions, self.half, self.cos, self.sin, local) = (positions, half, cos, sin, nil)
    }

    static func angles(positions: Int, headDim: Int, theta: Float) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: positions * half)
        var s = c
        for i in 0..<half {
            let inv = pow(Double(theta), -2.0 * Double(i) / Double(headDim))
            for p in 0..<positions {
                let a = Double(p) * inv
                c[p * half + i] = Float(Foundation.cos(a))
                s[p * half + i] = Float(Foundation.sin(a))
            }
        }
        return (c, s)
    }

    /// The table of layer `l`: the local base's angles for a sliding-window layer.
    public func table(forLayer l: Int, _ arch: ArchSpec) -> RoPETable {
        guard let local, !arch.isGlobal(l) else { return self }
        return RoPETable(positions: positions, half: half, cos: local.cos, sin: local.sin)
    }
}

/// Intermediate activations of one block on one window: the inputs of its linear modules.
public struct BlockTrace: Sendable {
    /// RMS-normed block input: the input of q, k and v. `[T, hidden]`
    public var attnIn: Tensor
    /// Attention context before the output projection: the input of o. `[T, heads·headDim]`
    public var attnContext: Tensor
    /// RMS-normed residual after attention: the input of gate and up. `[T, hidden]`
    public var mlpIn: Tensor
    /// `silu(gate) ⊙ up`: the input of down. `[T, intermediate]`
    public var mlpAct: Tensor

    /// The input activations of a given linear module.
    public func input(of kind: LinearKind) -> Tensor {
        switch kind {
        case .q, .k, .v: return attnIn
        case .o: return attnContext
        case .gate, .up: return mlpIn
        case .down: return mlpAct
        }
    }
}

/// The building blocks of the LLaMA forward pass. All activations are `[T, features]`
/// row-major so that every linear layer is one GEMM.
public enum Forward {
    /// `x · Wᵀ` for `x: [T, in]`, `W: [out, in]`. One row (a decoding step) is a
    /// matrix-vector product (`matvec` on the kernels' pool: a GEMM of one row would pack the
    /// whole weight first, and OpenBLAS's sgemv is slower on a decoder's small matrices).
    public static func linear(_ x: Tensor, _ w: Tensor) -> Tensor {
        let (t, n) = x.matrixShape
        precondition(w.shape[1] == n, "linear: input has \(n) features, weight is \(w.shape)")
        var out = Tensor(zeros: [t, w.shape[0]])
        x.data.withUnsafeBufferPointer { px in
            w.data.withUnsafeBufferPointer { pw in
                out.data.withUnsafeMutableBufferPointer { po in
                    if t == 1 {
                        matvec(rows: w.shape[0], cols: n, w: pw.baseAddress!, x: px.baseAddress!, y: po.baseAddress!)
                        return
                    }
                    sgemm(transA: false, transB: true, m: t, n: w.shape[0], k: n, alpha: 1,
                          a: px.baseAddress!, lda: n, b: pw.baseAddress!, ldb: n, beta: 0,
                          c: po.baseAddress!, ldc: w.shape[0])
                }
            }
        }
        return out
    }

    public static func rmsNorm(_ x: Tensor, weight: [Float], eps: Float) -> Tensor {
        let (t, d) = x.matrixShape
        var out = x
        out.data.withUnsafeMutableBufferPointer { o in
            weight.withUnsafeBufferPointer { w in
                for r in 0..<t {
                    var ss: Float = 0
                    for j in 0..<d { let v = o[r * d + j]; ss += v * v }
                    let inv = 1 / (ss / Float(d) + eps).squareRoot()
                    for j in 0..<d { o[r * d + j] = o[r * d + j] * inv * w[j] }
                }
            }
        }
        return out
    }

    /// Rotates each head of `x: [T, heads·headDim]` in place; row `r` is at position `r`, or at
    /// `positions[r]` when given (packed segments restart their positions).
    /// `layout` pairs dimensions `(2i, 2i+1)` (adjacent) or `(i, i + headDim/2)` (NEOX).
    public static func applyRoPE(_ x: inout Tensor, heads: Int, headDim: Int, table: RoPETable, positions: [Int]? = nil,
                                 layout: ArchSpec.RoPELayout = .adjacent) {
        let (t, width) = x.matrixShape
        if let positions {
            precondition(positions.count == t && positions.allSatisfy { $0 >= 0 && $0 < table.positions },
                         "RoPE positions must be one per row, below \(table.positions)")
        } else {
            precondition(t <= table.positions, "RoPE table has \(table.positions) positions, need \(t)")
        }
        let half = headDim / 2
        // Offsets of the two members of pair i.
        let (stride, second) = layout == .adjacent ? (2, 1) : (1, half)
        x.data.withUnsafeMutableBufferPointer { p in
            table.cos.withUnsafeBufferPointer { c in
                table.sin.withUnsafeBufferPointer { s in
                    for r in 0..<t {
                        let pos = positions?[r] ?? r
                        for h in 0..<heads {
                            let base = r * width + h * headDim
                            for i in 0..<half {
                                let cs = c[pos * half + i], sn = s[pos * half + i]
                                let ia = base + stride * i, ib = ia + second
                                let a = p[ia], b = p[ib]
                                p[ia] = a * cs - b * sn
                                p[ib] = a * sn + b * cs
                            }
                        }
                    }
                }
            }
        }
    }

    /// Causal grouped-query attention. `q: [T, H·hd]`, `k, v: [T, KV·hd]` → `[T, H·hd]`.
    /// Scores of all heads are computed first, the softmax runs on all cores across heads,
    /// then the values are applied. Both GEMMs run on blocks of `attentionRowBlock` query
    /// rows and only over the keys a block can see (rows `r0..<r1` need keys `0..<r1`), so
    /// the masked upper triangle is mostly never computed (about 5/8 of the full work at
    /// T = 512); the softmax writes the masked entries as zeros.
    /// With `window`, query `r` sees keys `r − window + 1 … r` only (sliding-window layers);
    /// `scale` multiplies q·k (default 1/√headDim).
    public static func attention(q: Tensor, k: Tensor, v: Tensor, heads: Int, kvHeads: Int, headDim: Int,
                                 window: Int? = nil, scale: Float? = nil) -> Tensor {
        let t = q.shape[0]
        let qw = heads * headDim, kw = kvHeads * headDim
        let group = heads / kvHeads
        var out = Tensor(zeros: [t, qw])
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: heads * t * t)
        defer { scores.deallocate() }
        let scale = scale ?? 1 / Float(headDim).squareRoot()
        let win = Int32(min(window ?? t, t))
        let blocks = stride(from: 0, to: t, by: attentionRowBlock).map { ($0, min(t, $0 + attentionRowBlock)) }
        q.data.withUnsafeBufferPointer { pq in
            k.data.withUnsafeBufferPointer { pk in
                v.data.withUnsafeBufferPointer { pv in
                    out.data.withUnsafeMutableBufferPointer { po in
                        for h in 0..<heads {
                            let g = h / group
                            for (r0, r1) in blocks {
                                sgemm(transA: false, transB: true, m: r1 - r0, n: r1, k: headDim, alpha: scale,
                                      a: pq.baseAddress! + r0 * qw + h * headDim, lda: qw,
                                      b: pk.baseAddress! + g * headDim, ldb: kw, beta: 0,
                                      c: scores + h * t * t + r0 * t, ldc: t)
                            }
                        }
                        let sp = UnsafeMutableSendablePointer(scores)
                        DispatchQueue.concurrentPerform(iterations: heads) { h in
                            if win < t {
                                FastMath.windowSoftmax(sp.pointer + h * t * t, t, Int(win))
                            } else {
                                FastMath.causalSoftmax(sp.pointer + h * t * t, t)
                            }
                        }
                        for h in 0..<heads {
                            let g = h / group
                            for (r0, r1) in blocks {
                                sgemm(transA: false, transB: false, m: r1 - r0, n: headDim, k: r1, alpha: 1,
                                      a: scores + h * t * t + r0 * t, lda: t, b: pv.baseAddress! + g * headDim, ldb: kw,
                                      beta: 0, c: po.baseAddress! + r0 * qw + h * headDim, ldc: qw)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Query rows per GEMM in `attention` (smaller blocks skip more of the masked triangle but
    /// make narrower GEMMs).
    public static let attentionRowBlock = 128

    /// `silu(gate) ⊙ up`, in place into `gate`.
    public static func swiglu(_ gate: inout Tensor, _ up: Tensor) {
        gate.data.withUnsafeMutableBufferPointer { g in
            up.data.withUnsafeBufferPointer { u in
                FastMath.swiglu(g.baseAddress!, u.baseAddress!, g.count)
            }
        }
    }
}

extension LlamaModel {
    public func ropeTable(positions: Int) -> RoPETable {
        RoPETable(positions: positions, headDim: config.headDim, theta: config.ropeTheta, localTheta: config.arch.localRopeTheta)
    }

    /// The attention context (input of o) for normed block input `xn`, with `weights`' q, k, v
    /// (and the block's QK-norm, RoPE base and window).
    public func attentionContext(_ weights: LlamaBlock, _ xn: Tensor, rope: RoPETable) -> Tensor {
        let q = rotated(.q, xn, weights.q, block: weights, rope: rope)
        let k = rotated(.k, xn, weights.k, block: weights, rope: rope)
        return attend(q, k, Forward.linear(xn, weights.v), layer: weights.index)
    }

    /// Causal attention of projected (and rotated) q, k, v of layer `layer`: the context fed to o.
    public func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, layer: Int) -> Tensor {
        let c = config
        return Forward.attention(q: q, k: k, v: v, heads: c.numHeads, kvHeads: c.numKVHeads, headDim: c.headDim,
                                 window: c.arch.window(layer), scale: c.arch.attentionScale)
    }

    /// Runs one decoder block on `x: [T, hidden]` with the given weights, returning the block
    /// output; `trace` receives the inputs of each linear module.
    public func runBlock(_ weights: LlamaBlock, _ x: Tensor, rope: RoPETable, trace: ((BlockTrace) -> Void)? = nil) -> Tensor {
        let eps = config.rmsNormEps
        let attnIn = Forward.rmsNorm(x, weight: weights.attnNorm, eps: eps)
        let ctx = attentionContext(weights, attnIn, rope: rope)
        let h = residual(x, Forward.linear(ctx, weights.o), postNorm: weights.postAttnNorm)
        let mlpIn = Forward.rmsNorm(h, weight: weights.ffnNorm, eps: eps)
        let act = mlpActivation(weights, mlpIn)
        let out = residual(h, Forward.linear(act, weights.down), postNorm: weights.postFFNNorm)
        trace?(BlockTrace(attnIn: attnIn, attnContext: ctx, mlpIn: mlpIn, mlpAct: act))
        return out
    }

    /// Final hidden state `[T, hidden]` of a window (before the final norm).
    public func finalHidden(_ tokens: [Int32]) -> Tensor {
        let rope = ropeTable(positions: tokens.count)
        var x = embed(tokens)
        for b in blocks { x = runBlock(b, x, rope: rope) }
        return x
    }

    /// Final norm and output head: logits `[T, vocab]`.
    public func logits(_ hidden: Tensor) -> Tensor {
        Forward.linear(Forward.rmsNorm(hidden, weight: outputNorm, eps: config.rmsNormEps), head)
    }

    /// Full forward pass over one window of tokens: logits `[T, vocab]`.
    public func forward(_ tokens: [Int32]) -> Tensor {
        logits(finalHidden(tokens))
    }
}

/// Streams calibration windows through a model block by block, so that a consumer sees the
/// inputs of every linear module of block `l` for all windows before block `l+1` is computed.
/// Memory holds one hidden state per window (`windows × T × hidden` floats), never all layers.
public final class BlockStream {
    public let model: LlamaModel
    public private(set) var block = 0
    /// Hidden state entering `block`, one `[T, hidden]` tensor per window.
    public private(set) var hidden: [Tensor]
    public let rope: RoPETable

    public init(model: LlamaModel, windows: [[Int32]]) {
        self.model = model
        let t = windows.map(\.count).max() ?? 0
        rope = model.ropeTable(positions: t)
        hidden = windows.map { model.embed($0) }
    }

    public var isFinished: Bool { block >= model.blocks.count }

    /// Runs the current block with `weights` (default: the model's own) on every window,
    /// calling `body(window, trace, output)`; does not advance.
    public func trace(weights: LlamaBlock? = nil, _ body: (Int, BlockTrace, Tensor) throws -> Void) rethrows {
        let w = weights ?? model.blocks[block]
        for (i, x) in hidden.enumerated() {
            var tr: BlockTrace?
            let out = model.runBlock(w, x, rope: rope) { tr = $0 }
            try body(i, tr!, out)
        }
    }

    /// Moves every window through the current block with `weights` (default: the model's own
    /// full-precision block; pass a quantized block to feed later blocks quantized inputs).
    public func advance(weights: LlamaBlock? = nil) {
        let w = weights ?? model.blocks[block]
        for i in hidden.indices { Self.overwrite(&hidden[i], with: model.runBlock(w, hidden[i], rope: rope)) }
        block += 1
    }

    /// Runs the current block with `weights` (default: the model's own) on every window, calls
    /// `body(window, trace)`, and replaces each window's hidden state by the block output as
    /// it goes (no second copy of the hidden states), then advances.
    public func traceAndAdvance(weights: LlamaBlock? = nil, _ body: (Int, BlockTrace) throws -> Void) rethrows {
        let w = weights ?? model.blocks[block]
        for i in hidden.indices {
            var tr: BlockTrace?
            let out = model.runBlock(w, hidden[i], rope: rope) { tr = $0 }
            try body(i, tr!)
            Self.overwrite(&hidden[i], with: out)
        }
        block += 1
    }

    /// Copies `new` into the storage of `old` (same shape): the hidden states keep the buffers
    /// they got first instead of taking each block output's buffer, so these long-lived
    /// buffers do not move between the block's temporaries.
    static func overwrite(_ old: inout Tensor, with new: Tensor) {
        precondition(old.shape == new.shape)
        old.data.withUnsafeMutableBufferPointer { d in
            new.data.withUnsafeBufferPointer { s in d.baseAddress!.update(from: s.baseAddress!, count: s.count) }
        }
    }

    /// Replaces the hidden states (e.g. with outputs already computed by `trace`) and advances.
    public func advance(outputs: [Tensor]) {
        precondition(outputs.count == hidden.count)
        hidden = outputs
        block += 1
    }
}
