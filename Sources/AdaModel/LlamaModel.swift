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

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int,
                numKVHeads: Int, headDim: Int? = nil, ropeTheta: Float = 10000, rmsNormEps: Float = 1e-5,
                contextLength: Int = 2048) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.headDim = headDim ?? hiddenSize / numHeads
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.contextLength = contextLength
    }

    /// Checks the shape is one the forward pass can run.
    func validate(file: String) throws {
        func bad(_ f: String, _ m: String) -> ModelFileError { ModelFileError(file: file, field: f, m) }
        for (name, v) in [("vocab size", vocabSize), ("hidden size", hiddenSize), ("intermediate size", intermediateSize),
                          ("layers", numLayers), ("heads", numHeads), ("kv heads", numKVHeads), ("head dim", headDim)] {
            guard v > 0 && v < 1 << 24 else { throw bad(name, "must be positive and sane, got \(v)") }
        }
        guard numHeads % numKVHeads == 0 else { throw bad("kv heads", "\(numHeads) heads not divisible by \(numKVHeads) kv heads") }
        guard headDim % 2 == 0 else { throw bad("head dim", "must be even for RoPE, got \(headDim)") }
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
        guard parts.count == 2, let b = Int(parts[0]), let k = LinearKind(name: parts[1]) else { return nil }
        block = b
        kind = k
    }
}

/// One decoder block's weights. Linear weights are `[out, in]` row-major.
public struct LlamaBlock: Sendable {
    public var attnNorm: [Float]
    public var ffnNorm: [Float]
    public var q, k, v, o, gate, up, down: Tensor

    public init(attnNorm: [Float], ffnNorm: [Float], q: Tensor, k: Tensor, v: Tensor, o: Tensor,
                gate: Tensor, up: Tensor, down: Tensor) {
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
    public var blocks: [LlamaBlock]
    public let tokenizer: BPETokenizer
    /// Where the weights came from (a GGUF file or a model directory).
    public let sourcePath: String
    /// The GGUF file it was loaded from, for export with the original metadata.
    public let gguf: GGUFFile?

    public init(config: LlamaConfig, tokenEmbedding: Tensor, outputNorm: [Float], output: Tensor?, blocks: [LlamaBlock],
                tokenizer: BPETokenizer, sourcePath: String, gguf: GGUFFile? = nil) {
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
        get { blocks[id.block][id.kind] }
        set { blocks[id.block][id.kind] = newValue }
    }

    public var linearIDs: [LinearID] {
        (0..<blocks.count).flatMap { b in LinearKind.allCases.map { LinearID(block: b, kind: $0) } }
    }

    /// Number of weights in the linear layers of all blocks plus the output head.
    public var linearParameterCount: Int {
        blocks.reduce(0) { acc, b in acc + LinearKind.allCases.reduce(0) { $0 + b[$1].count } } + head.count
    }
}

// MARK: - Loading

extension LlamaModel {
    /// Loads a model from a GGUF file, or from a directory holding `config.json`,
    /// `*.safetensors` and `tokenizer.json`.
    public static func load(path: String) throws -> LlamaModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelFileError(file: path, field: "", "no such file or directory")
        }
        return isDir.boolValue ? try loadDirectory(path) : try loadGGUF(path)
    }

    public static func loadGGUF(_ path: String) throws -> LlamaModel {
        let f = try GGUFFile(path: path)
        let arch = f.string("general.architecture") ?? ""
        guard arch == "llama" else {
            throw ModelFileError(file: path, field: "metadata 'general.architecture'", "expected \"llama\", got \"\(arch)\"")
        }
        func need(_ key: String) throws -> Int {
            guard let v = f.int(key) else {
                throw ModelFileError(file: path, field: "metadata '\(key)'", "missing or not an integer")
            }
            return v
        }
        let tokenizer = try BPETokenizer(gguf: f)
        let emb = try f.tensor("token_embd.weight")
        let hidden = try need("llama.embedding_length")
        let heads = try need("llama.attention.head_count")
        var cfg = LlamaConfig(
            vocabSize: emb.shape[0], hiddenSize: hidden,
            intermediateSize: try need("llama.feed_forward_length"),
            numLayers: try need("llama.block_count"), numHeads: heads,
            numKVHeads: f.int("llama.attention.head_count_kv") ?? heads,
            headDim: f.int("llama.attention.key_length") ?? hidden / max(heads, 1),
            ropeTheta: Float(f.double("llama.rope.freq_base") ?? 10000),
            rmsNormEps: Float(f.double("llama.attention.layer_norm_rms_epsilon") ?? 1e-5),
            contextLength: f.int("llama.context_length") ?? 2048)
        if emb.shape.count != 2 || emb.shape[1] != hidden {
            throw ModelFileError(file: path, field: "tensor 'token_embd.weight'", "shape \(emb.shape) does not match hidden size \(hidden)")
        }
        cfg.vocabSize = emb.shape[0]
        try cfg.validate(file: path)
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            let t = try f.tensor(name)
            guard t.shape == shape else {
                throw ModelFileError(file: path, field: "tensor '\(name)'", "shape \(t.shape), expected \(shape)")
            }
            return t
        }
        var blocks: [LlamaBlock] = []
        let d = cfg.hiddenSize, qd = cfg.numHeads * cfg.headDim, kvd = cfg.numKVHeads * cfg.headDim, ff = cfg.intermediateSize
        for i in 0..<cfg.numLayers {
            let p = "blk.\(i)."
            blocks.append(LlamaBlock(
                attnNorm: try tensor(p + "attn_norm.weight", [d]).data,
                ffnNorm: try tensor(p + "ffn_norm.weight", [d]).data,
                q: try tensor(p + "attn_q.weight", [qd, d]), k: try tensor(p + "attn_k.weight", [kvd, d]),
                v: try tensor(p + "attn_v.weight", [kvd, d]), o: try tensor(p + "attn_output.weight", [d, qd]),
                gate: try tensor(p + "ffn_gate.weight", [ff, d]), up: try tensor(p + "ffn_up.weight", [ff, d]),
                down: try tensor(p + "ffn_down.weight", [d, ff])))
        }
        let out = f.info("output.weight") != nil ? try tensor("output.weight", [cfg.vocabSize, d]) : nil
        let norm = try tensor("output_norm.weight", [d]).data
        f.dropResidentPages()
        return LlamaModel(config: cfg, tokenEmbedding: emb, outputNorm: norm,
                          output: out, blocks: blocks, tokenizer: tokenizer, sourcePath: path, gguf: f)
    }

    /// Loads a HuggingFace LLaMA directory. Q and K rows are permuted from the half-split RoPE
    /// layout to the adjacent-pair layout used by the forward pass.
    public static func loadDirectory(_ dir: String) throws -> LlamaModel {
        let cfgPath = (dir as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: cfgPath),
              let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelFileError(file: cfgPath, field: "", "missing or not a JSON object")
        }
        func int(_ k: String) throws -> Int {
            guard let v = (j[k] as? NSNumber)?.intValue else {
                throw ModelFileError(file: cfgPath, field: k, "missing or not an integer")
            }
            return v
        }
        let heads = try int("num_attention_heads")
        let hidden = try int("hidden_size")
        let cfg = LlamaConfig(
            vocabSize: try int("vocab_size"), hiddenSize: hidden, intermediateSize: try int("intermediate_size"),
            numLayers: try int("num_hidden_layers"), numHeads: heads,
            numKVHeads: (j["num_key_value_heads"] as? NSNumber)?.intValue ?? heads,
            headDim: (j["head_dim"] as? NSNumber)?.intValue ?? hidden / max(heads, 1),
            ropeTheta: (j["rope_theta"] as? NSNumber)?.floatValue ?? 10000,
            rmsNormEps: (j["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-5,
            contextLength: (j["max_position_embeddings"] as? NSNumber)?.intValue ?? 2048)
        try cfg.validate(file: cfgPath)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw ModelFileError(file: dir, field: "", "no .safetensors files") }
        var where_: [String: SafetensorsFile] = [:]
        for name in files {
            let sf = try SafetensorsFile(path: (dir as NSString).appendingPathComponent(name))
            for k in sf.entries.keys { where_[k] = sf }
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let sf = where_[name] else { throw ModelFileError(file: dir, field: "tensor '\(name)'", "not found") }
            let t = try sf.tensor(name)
            guard t.shape == shape else {
                throw ModelFileError(file: sf.path, field: "tensor '\(name)'", "shape \(t.shape), expected \(shape)")
            }
            return t
        }
        let d = cfg.hiddenSize, hd = cfg.headDim, qd = cfg.numHeads * hd, kvd = cfg.numKVHeads * hd, ff = cfg.intermediateSize
        var blocks: [LlamaBlock] = []
        for i in 0..<cfg.numLayers {
            let p = "model.layers.\(i)."
            blocks.append(LlamaBlock(
                attnNorm: try tensor(p + "input_layernorm.weight", [d]).data,
                ffnNorm: try tensor(p + "post_attention_layernorm.weight", [d]).data,
                q: permuteHalfSplitToAdjacent(try tensor(p + "self_attn.q_proj.weight", [qd, d]), heads: cfg.numHeads, headDim: hd),
                k: permuteHalfSplitToAdjacent(try tensor(p + "self_attn.k_proj.weight", [kvd, d]), heads: cfg.numKVHeads, headDim: hd),
                v: try tensor(p + "self_attn.v_proj.weight", [kvd, d]),
                o: try tensor(p + "self_attn.o_proj.weight", [d, qd]),
                gate: try tensor(p + "mlp.gate_proj.weight", [ff, d]), up: try tensor(p + "mlp.up_proj.weight", [ff, d]),
                down: try tensor(p + "mlp.down_proj.weight", [d, ff])))
        }
        let emb = try tensor("model.embed_tokens.weight", [cfg.vocabSize, d])
        let out = where_["lm_head.weight"] != nil ? try tensor("lm_head.weight", [cfg.vocabSize, d]) : nil
        let tokPath = (dir as NSString).appendingPathComponent("tokenizer.json")
        return LlamaModel(config: cfg, tokenEmbedding: emb, outputNorm: try tensor("model.norm.weight", [d]).data,
                          output: out, blocks: blocks, tokenizer: try BPETokenizer(tokenizerJSON: tokPath), sourcePath: dir)
    }

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
