import AdaTensor
import Foundation

/// What distinguishes one decoder family from another, as data: the forward pass, the
/// loaders, quantization and evaluation read these fields instead of branching on a name.
/// A new family that differs from LLaMA only in these choices is a new spec (and its
/// metadata keys in `ArchSpec.named`), not a fork of the forward pass (docs/architecture.md,
/// "Adding an architecture").
public struct ArchSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Activation: String, Sendable { case silu, geluTanh = "gelu_tanh" }
    /// How RoPE pairs the dimensions of a head: adjacent `(x[2i], x[2i+1])`, or NEOX's
    /// half-split `(x[i], x[i + d/2])`.
    public enum RoPELayout: String, Sendable { case adjacent, neox }

    /// The GGUF `general.architecture` name (and metadata key prefix).
    public var name: String
    /// Factor applied to the token embeddings (Gemma: √hidden); nil for none.
    public var embeddingScale: Float?
    /// RMSNorm on each head of q and k before RoPE (`attn_q_norm`, `attn_k_norm`, `[headDim]`).
    public var qkNorm: Bool
    /// RMSNorm on the attention output and the MLP output before each residual add
    /// (`post_attention_norm`, `post_ffw_norm`).
    public var postNorms: Bool
    /// The gate's activation in `act(gate) ⊙ up`.
    public var activation: Activation
    public var ropeLayout: RoPELayout
    /// RoPE base of the sliding-window (local) layers when it differs from the global one.
    public var localRopeTheta: Float?
    /// Attention window of the local layers (nil: every layer attends to the whole prefix).
    public var slidingWindow: Int?
    /// With a sliding window: layer `l` is global when `l % pattern == pattern − 1`.
    public var slidingPattern: Int
    /// Factor on q·k (nil: 1/√headDim).
    public var attentionScale: Float?

    public static let llama = ArchSpec(name: "llama", embeddingScale: nil, qkNorm: false, postNorms: false,
                                       activation: .silu, ropeLayout: .adjacent, localRopeTheta: nil,
                                       slidingWindow: nil, slidingPattern: 1, attentionScale: nil)

    /// Gemma 3 (llama.cpp's `gemma3` graph): √d embeddings, QK-norm, post-norms, GeGLU,
    /// NEOX RoPE, five sliding-window layers (window 512, base 10,000) for each global one.
    /// A HuggingFace config.json may set the attention scale (`query_pre_attn_scalar`:
    /// q × 1/√scalar; default the head dim), the local RoPE base and the pattern.
    public static func gemma3(hidden: Int, headDim: Int, window: Int, queryScalar: Float? = nil,
                              localRopeTheta: Float = 10_000, pattern: Int = 6) -> ArchSpec {
        ArchSpec(name: "gemma3", embeddingScale: Float(hidden).squareRoot(), qkNorm: true, postNorms: true,
                 activation: .geluTanh, ropeLayout: .neox, localRopeTheta: localRopeTheta, slidingWindow: window,
                 slidingPattern: pattern, attentionScale: 1 / (queryScalar ?? Float(headDim)).squareRoot())
    }

    /// Whether layer `l` attends globally (always, without a sliding window).
    public func isGlobal(_ l: Int) -> Bool {
        guard slidingWindow != nil, slidingPattern > 1 else { return true }
        return l % slidingPattern == slidingPattern - 1
    }

    /// The attention window of layer `l` (nil: unlimited).
    public func window(_ l: Int) -> Int? { isGlobal(l) ? nil : slidingWindow }

    /// The norm weights a block of this family holds besides `attn_norm` and `ffn_norm`.
    var extraNorms: [BlockWeight] { (qkNorm ? [.qNorm, .kNorm] : []) + (postNorms ? [.postAttnNorm, .postFFNNorm] : []) }

    public var description: String {
        var parts = [name]
        if let s = embeddingScale { parts.append("embeddings × \(String(format: "%.4g", s))") }
        if qkNorm { parts.append("QK-norm") }
        if postNorms { parts.append("post-norms") }
        parts.append(activation == .silu ? "SwiGLU" : "GeGLU")
        parts.append("RoPE \(ropeLayout.rawValue)")
        if let w = slidingWindow { parts.append("sliding window \(w) (1 global in \(slidingPattern))") }
        return parts.joined(separator: ", ")
    }
}

extension LlamaBlock {
    /// Weight `bw` as a tensor (norms as vectors); nil when the block has no such norm.
    func tensor(_ bw: BlockWeight) -> Tensor? {
        func vec(_ v: [Float]?) -> Tensor? { v.map { Tensor(shape: [$0.count], data: $0) } }
        switch bw {
        case .attnNorm: return vec(attnNorm)
        case .ffnNorm: return vec(ffnNorm)
        case .qNorm: return vec(qNorm)
        case .kNorm: return vec(kNorm)
        case .postAttnNorm: return vec(postAttnNorm)
        case .postFFNNorm: return vec(postFFNNorm)
        case .linear(let k): return self[k]
        }
    }
}

// MARK: - The spec's pieces of the forward pass

extension LlamaModel {
    /// Token embeddings `[T, hidden]`, scaled when the family scales them.
    public func embed(_ tokens: [Int32]) -> Tensor {
        let d = config.hiddenSize
        var out = [Float](repeating: 0, count: tokens.count * d)
        let scale = config.arch.embeddingScale
        tokenEmbedding.data.withUnsafeBufferPointer { e in
            for (i, t) in tokens.enumerated() {
                let id = Int(t)
                precondition(id >= 0 && id < config.vocabSize, "token id \(id) outside the vocabulary")
                if let scale {
                    for j in 0..<d { out[i * d + j] = e[id * d + j] * scale }
                } else {
                    for j in 0..<d { out[i * d + j] = e[id * d + j] }
                }
            }
        }
        return Tensor(shape: [tokens.count, d], data: out)
    }

    /// q or k of normed block input `xn` with weight `w` (a quantized candidate or the
    /// block's own): the projection, the per-head QK-norm of the family (norm weights from
    /// `block`), then RoPE with layer `block.index`'s base. `positions` as in `applyRoPE`.
    public func rotated(_ kind: LinearKind, _ xn: Tensor, _ w: Tensor, block: LlamaBlock, rope: RoPETable,
                        positions: [Int]? = nil) -> Tensor {
        precondition(kind == .q || kind == .k, "rotated: only q and k are rotated")
        return rotate(kind, Forward.linear(xn, w), block: block, rope: rope, positions: positions)
    }

    /// QK-norm (when the family has it) and RoPE on a q or k projection `y` already computed.
    public func rotate(_ kind: LinearKind, _ projection: Tensor, block: LlamaBlock, rope: RoPETable,
                       positions: [Int]? = nil) -> Tensor {
        precondition(kind == .q || kind == .k, "rotate: only q and k are rotated")
        let c = config
        let heads = kind == .q ? c.numHeads : c.numKVHeads
        var y = projection
        if c.arch.qkNorm, let norm = kind == .q ? block.qNorm : block.kNorm {
            y = Forward.headNorm(y, heads: heads, weight: norm, eps: c.rmsNormEps)
        }
        Forward.applyRoPE(&y, heads: heads, headDim: c.headDim, table: rope.table(forLayer: block.index, c.arch),
                          positions: positions, layout: c.arch.ropeLayout)
        return y
    }

    /// The residual stream after a sub-layer: `x + out`, or `x + norm(out)` with post-norms.
    public func residual(_ x: Tensor, _ out: Tensor, postNorm: [Float]?) -> Tensor {
        var o = out
        if config.arch.postNorms, let w = postNorm { o = Forward.rmsNorm(o, weight: w, eps: config.rmsNormEps) }
        o.add(x)
        return o
    }

    /// `act(gate) ⊙ up` (input of down) for normed input `xn`.
    public func mlpActivation(_ weights: LlamaBlock, _ xn: Tensor) -> Tensor {
        activate(Forward.linear(xn, weights.gate), Forward.linear(xn, weights.up))
    }

    /// `act(g) ⊙ u` with the family's activation.
    public func activate(_ g: Tensor, _ u: Tensor) -> Tensor {
        var a = g
        switch config.arch.activation {
        case .silu: Forward.swiglu(&a, u)
        case .geluTanh: Forward.geglu(&a, u)
        }
        return a
    }
}

extension Forward {
    /// RMSNorm of each head (`headDim` features) of `x: [T, heads·headDim]` with one shared
    /// `[headDim]` weight.
    public static func headNorm(_ x: Tensor, heads: Int, weight: [Float], eps: Float) -> Tensor {
        let (t, width) = x.matrixShape
        let hd = width / heads
        precondition(weight.count == hd, "head norm: weight has \(weight.count) entries, heads have \(hd)")
        let rows = Tensor(shape: [t * heads, hd], data: x.data)
        return Tensor(shape: [t, width], data: rmsNorm(rows, weight: weight, eps: eps).data)
    }

    /// `gelu_tanh(gate) ⊙ up`, in place into `gate`.
    public static func geglu(_ gate: inout Tensor, _ up: Tensor) {
        gate.data.withUnsafeMutableBufferPointer { g in
            up.data.withUnsafeBufferPointer { u in FastMath.geglu(g.baseAddress!, u.baseAddress!, g.count) }
        }
    }
}
