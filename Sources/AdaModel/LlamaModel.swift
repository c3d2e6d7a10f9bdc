import AdaTensor
import Foundation

/// Shape and hyper-parameters of a LLaMA-family decoder.
public struct LlamaConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float
    public var contextLength: Int
    /// The decoder family's choices (norms, activation, RoPE layout, attention window).
    public var arch: ArchSpec

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int,
                numKVHeads: Int, headDim: Int? = nil, ropeTheta: Float = 10000, rmsNormEps: Float = 1e-5,
                contextLength: Int = 2048, arch: ArchSpec = .llama) {
        self.arch = arch
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.headDim = headDim ?? hiddenSize / Swift.max(numHeads, 1)
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.contextLength = contextLength
    }
}

extension LlamaConfig {
    /// `[out, in]` of the linear layers of kind `kind`.
    public func shape(_ kind: LinearKind) -> [Int] {
        let d = hiddenSize, qd = numHeads * headDim, kvd = numKVHeads * headDim, ff = intermediateSize
        switch kind {
        case .q: return [qd, d]
        case .k, .v: return [kvd, d]
        case .o: return [d, qd]
        case .gate, .up: return [ff, d]
        case .down: return [d, ff]
        }
    }
}

/// The seven linear modules of a LLaMA block, in the block's computation order.
public enum LinearKind: String, Sendable, CaseIterable, Codable {
    case q, k, v, o, gate, up, down

    /// GGUF tensor name suffix (`blk.N.<suffix>.weight`).
    public var ggufName: String {
        switch self {
        case .q: return "attn_q"
        case .k: return "attn_k"
        case .v: return "attn_v"
        case .o: return "attn_output"
        case .gate: return "ffn_gate"
        case .up: return "ffn_up"
        case .down: return "ffn_down"
        }
    }

    /// HuggingFace name (`model.layers.N.<name>.weight`).
    public var hfName: String {
        switch self {
        case .q: return "self_attn.q_proj"
        case .k: return "self_attn.k_proj"
        case .v: return "self_attn.v_proj"
        case .o: return "self_attn.o_proj"
        case .gate: return "mlp.gate_proj"
        case .up: return "mlp.up_proj"
        case .down: return "mlp.down_proj"
        }
    }

    public init?(name: String) {
        if let k = LinearKind(rawValue: name) { self = k; return }
        if let k = LinearKind.allCases.first(where: { $0.ggufName == name }) { self = k; return }
        return nil
    }
}

/// Identifies one linear layer of a model.
public struct LinearID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let block: Int
    public let kind: LinearKind
    public init(block: Int, kind: LinearKind) { self.block = block; self.kind = kind }
    public var description: String { "blk.\(block).\(kind.ggufName)" }

    public static func < (a: LinearID, b: LinearID) -> Bool {
        if a.block != b.block { return a.block < b.block }
        return LinearKind.allCases.firstIndex(of: a.kind)! < LinearKind.allCases.firstIndex(of: b.kind)!
    }

    /// Parses `blk.3.ffn_down`, `blk.3.ffn_down.weight` or `3.down`.
    public init?(_ text: String) {
        var parts = text.split(separator: ".").map(String.init)
        if parts.last == "weight" { parts.removeLast() }
        if parts.first == "blk" { parts.removeFirst() }
        guard parts.count == 2, let b = Int(parts[0]), b >= 0, let k = LinearKind(name: parts[1]) else { return nil }
        block = b
        kind = k
    }
}

/// One decoder block's weights. Linear weights are `[out, in]` row-major.
public struct LlamaBlock: Sendable {
    public var attnNorm: [Float]
    public var ffnNorm: [Float]
    public var q, k, v, o, gate, up, down: Tensor
    /// Per-head RMSNorm weights of q and k (`[headDim]`; families with QK-norm).
    public var qNorm, kNorm: [Float]?
    /// RMSNorm weights on the attention and MLP outputs (families with post-norms).
    public var postAttnNorm, postFFNNorm: [Float]?
    /// The block's position in the model (per-layer RoPE base and attention window).
    public var index: Int

    public init(attnNorm: [Float], ffnNorm: [Float], q: Tensor, k: Tensor, v: Tensor, o: Tensor,
                gate: Tensor, up: Tensor, down: Tensor, qNorm: [Float]? = nil, kNorm: [Float]? = nil,
                postAttnNorm: [Float]? = nil, postFFNNorm: [Float]? = nil, index: Int = 0) {
        self.qNorm = qNorm
        self.kNorm = kNorm
        self.postAttnNorm = postAttnNorm
        self.postFFNNorm = postFFNNorm
        self.index = index
        self.attnNorm = attnNorm
        self.ffnNorm = ffnNorm
        self.q = q
        self.k = k
        self.v = v
        self.o = o
        self.gate = gate
        self.up = up
        self.down = down
    }

    public subscript(kind: LinearKind) -> Tensor {
        get {
            switch kind {
            case .q: return q
            case .k: return k
            case .v: return v
            case .o: return o
            case .gate: return gate
            case .up: return up
            case .down: return down
            }
        }
        set {
            switch kind {
            case .q: q = newValue
            case .k: k = newValue
            case .v: v = newValue
            case .o: o = newValue
            case .gate: gate = newValue
            case .up: up = newValue
            case .down: down = newValue
            }
        }
    }
}

/// A LLaMA-family model with Float32 weights, ready to run.
public struct LlamaModel: Sendable {
    public var config: LlamaConfig
    public var tokenEmbedding: Tensor
    public var outputNorm: [Float]
    /// Output head `[vocab, hidden]`; nil when tied to the token embedding.
    public var output: Tensor?
    /// The decoder blocks: read on demand from the mapped file, or held in memory.
    public var blocks: BlockStore
    public let tokenizer: any TextTokenizer
    /// Where the weights came from (a GGUF file or a model directory).
    public let sourcePath: String
    /// The GGUF file it was loaded from, for export with the original metadata.
    public let gguf: GGUFFile?

    public init(config: LlamaConfig, tokenEmbedding: Tensor, outputNorm: [Float], output: Tensor?, blocks: [LlamaBlock],
                tokenizer: any TextTokenizer, sourcePath: String, gguf: GGUFFile? = nil) {
        self.init(config: config, tokenEmbedding: tokenEmbedding, outputNorm: outputNorm, output: output,
                  blocks: BlockStore(blocks), tokenizer: tokenizer, sourcePath: sourcePath, gguf: gguf)
    }

    public init(config: LlamaConfig, tokenEmbedding: Tensor, outputNorm: [Float], output: Tensor?, blocks: BlockStore,
                tokenizer: any TextTokenizer, sourcePath: String, gguf: GGUFFile? = nil) {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.outputNorm = outputNorm
        self.output = output
        self.blocks = blocks
        self.tokenizer = tokenizer
        self.sourcePath = sourcePath
        self.gguf = gguf
    }

    public var head: Tensor { output ?? tokenEmbedding }

    public subscript(id: LinearID) -> Tensor {
        get { blocks.linear(id) }
        set { blocks[id.block][id.kind] = newValue }
    }

    public var linearIDs: [LinearID] {
        (0..<blocks.count).flatMap { b in LinearKind.allCases.map { LinearID(block: b, kind: $0) } }
    }

    /// `[out, in]` of layer kind `kind` (the same in every block), from the configuration.
    public func shape(_ kind: LinearKind) -> [Int] { config.shape(kind) }

    /// Number of weights in the linear layers of all blocks plus the output head.
    public var linearParameterCount: Int {
        blocks.count * LinearKind.allCases.reduce(0) { $0 + config.shape($1).reduce(1, *) } + head.count
    }
}

// MARK: - Layout

extension LlamaModel {
    /// HF stores each head's rows as [first halves…, second halves…]; the adjacent-pair
    /// layout interleaves them: adjacent row `2i + c` comes from half-split row `c·hd/2 + i`.
    public static func permuteHalfSplitToAdjacent(_ w: Tensor, heads: Int, headDim: Int) -> Tensor {
        let cols = w.shape[1]
        var out = w
        for h in 0..<heads {
            for i in 0..<(headDim / 2) {
                for c in 0..<2 {
                    let dst = h * headDim + 2 * i + c
                    let src = h * headDim + c * headDim / 2 + i
                    for j in 0..<cols { out.data[dst * cols + j] = w.data[src * cols + j] }
                }
            }
        }
        return out
    }
}
