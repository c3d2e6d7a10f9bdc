import AdaTensor
import Foundation

// MARK: - Loading
//
// Both loaders work in the same order, so that nothing read from a file sizes an allocation
// or a computation before it is checked: (1) the configuration, each value strictly typed and
// bounded (`LlamaConfig.validate`); (2) the number of tensors the configuration implies
// against the number the files hold; (3) every tensor's shape (from the file's header, not
// its data) against the configuration; (4) the tokenizer and the special token ids against
// the embedding's rows; only then (5) decoding, each tensor checked for NaN and ±∞.

extension LlamaBlock {
    /// A block from a function giving each of its weights.
    init(loading w: (BlockWeight) throws -> Tensor) throws {
        self.init(attnNorm: try w(.attnNorm).data, ffnNorm: try w(.ffnNorm).data,
                  q: try w(.linear(.q)), k: try w(.linear(.k)), v: try w(.linear(.v)), o: try w(.linear(.o)),
                  gate: try w(.linear(.gate)), up: try w(.linear(.up)), down: try w(.linear(.down)))
    }
}

/// Tensors per block (two norms, seven linear modules) and outside the blocks (embedding,
/// final norm).
private let tensorsPerBlock = 9, tensorsOutsideBlocks = 2

extension LlamaModel {
    /// Loads a model from a GGUF file, or from a directory holding `config.json`,
    /// `*.safetensors` and `tokenizer.json`.
    public static func load(path: String, options: LoadOptions = LoadOptions()) throws -> LlamaModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelFileError(file: path, field: "", "no such file or directory")
        }
        return isDir.boolValue ? try loadDirectory(path, options: options) : try loadGGUF(path, options: options)
    }

    static func ggufName(_ i: Int, _ w: BlockWeight) -> String {
        switch w {
        case .attnNorm: return "blk.\(i).attn_norm.weight"
        case .ffnNorm: return "blk.\(i).ffn_norm.weight"
        case .qNorm: return "blk.\(i).attn_q_norm.weight"
        case .kNorm: return "blk.\(i).attn_k_norm.weight"
        case .postAttnNorm: return "blk.\(i).post_attention_norm.weight"
        case .postFFNNorm: return "blk.\(i).post_ffw_norm.weight"
        case .linear(let k): return "blk.\(i).\(k.ggufName).weight"
        }
    }

    static func hfName(_ i: Int, _ w: BlockWeight) -> String {
        switch w {
        case .attnNorm: return "model.layers.\(i).input_layernorm.weight"
        case .ffnNorm: return "model.layers.\(i).post_attention_layernorm.weight"
        case .qNorm: return "model.layers.\(i).self_attn.q_norm.weight"
        case .kNorm: return "model.layers.\(i).self_attn.k_norm.weight"
        // HuggingFace directories of families with post-norms (Gemma 3) are not loaded yet:
        // their config.json gives the llama spec. In Gemma 3's HF naming the norm on the
        // attention output is `post_attention_layernorm` (LLaMA's name for the pre-MLP norm).
        case .postAttnNorm: return "model.layers.\(i).post_attention_layernorm.weight"
        case .postFFNNorm: return "model.layers.\(i).post_feedforward_layernorm.weight"
        case .linear(let k): return "model.layers.\(i).\(k.hfName).weight"
        }
    }

    /// Decoder families ada runs from GGUF files (`general.architecture`).
    public static let ggufArchitectures = ["llama", "gemma3"]

    public static func loadGGUF(_ path: String, options: LoadOptions = LoadOptions()) throws -> LlamaModel {
        let f = try GGUFFile(path: path)
        let field = "metadata 'general.architecture'", known = ggufArchitectures.map { "\"\($0)\"" }.joined(separator: " or ")
        guard let value = f.metadata["general.architecture"] else { throw ModelFileError(file: path, field: field, "missing (expected \(known))") }
        guard let arch = value.string, ggufArchitectures.contains(arch) else {
            throw ModelFileError(file: path, field: field, "expected \(known), got \(value)")
        }
        let tokenizer = try makeTokenizer(f)
        guard let emb = f.info("token_embd.weight") else {
            throw ModelFileError(file: path, field: "tensor 'token_embd.weight'", "not in file")
        }
        let cfg = try ggufConfig(f, embedding: emb, arch: arch)
        try checkTokenizerFits(tokenizer, cfg, file: path, field: "metadata 'tokenizer.ggml.tokens'")
        for key in f.metadataKeys where key.hasPrefix("tokenizer.ggml.") && key.hasSuffix("_token_id") {
            try checkTokenID(try f.requireInt(key), cfg, file: path, field: "metadata '\(key)'")
        }
        var plan = cfg.expectedTensors(block: ggufName, embedding: "token_embd.weight", outputNorm: "output_norm.weight")
        if f.info("output.weight") != nil { plan.append(("output.weight", [cfg.vocabSize, cfg.hiddenSize])) }
        for (name, shape) in plan {
            guard let info = f.info(name) else { throw ModelFileError(file: path, field: "tensor '\(name)'", "not in file") }
            guard info.shape == shape else {
                throw ModelFileError(file: path, field: "tensor '\(name)'", shapeMismatch(info.shape, shape, cfg))
            }
        }
        func tensor(_ name: String) throws -> Tensor {
            let t = try f.tensor(name)
            try checkFinite(t, file: path, name: name, options: options)
            return t
        }
        let embedding = try tensor("token_embd.weight")
        let out = f.info("output.weight") != nil ? try tensor("output.weight") : nil
        let norm = try tensor("output_norm.weight").data
        f.dropResidentPages()
        let source = BlockSource(file: f, count: cfg.numLayers, checkedFinite: !options.allowNonFinite,
                                 budget: options.blockBudget, extraNorms: cfg.arch.extraNorms, name: ggufName)
        try source.checkBlocks(options: options)
        return LlamaModel(config: cfg, tokenEmbedding: embedding, outputNorm: norm,
                          output: out, blocks: BlockStore(source: source), tokenizer: tokenizer, sourcePath: path, gguf: f)
    }

    /// The tokenizer a GGUF file names (`tokenizer.ggml.model`): GPT-2 byte-level BPE
    /// (`gpt2`) or SentencePiece-style BPE on scores (`llama`).
    static func makeTokenizer(_ f: GGUFFile) throws -> any TextTokenizer {
        switch f.metadata["tokenizer.ggml.model"]?.string {
        case "llama"?: return try SentencePieceTokenizer(gguf: f)
        default: return try BPETokenizer(gguf: f)
        }
    }

    /// The configuration in a GGUF file's `<arch>.*` metadata, checked against the token
    /// embedding's shape and the number of tensors in the file.
    static func ggufConfig(_ f: GGUFFile, embedding emb: GGUFTensorInfo, arch: String = "llama") throws -> LlamaConfig {
        let path = f.path, k = ConfigFields.gguf(arch)
        func key(_ s: String) -> String { "\(arch).\(s)" }
        let hidden = try f.requireInt(key("embedding_length"))
        let heads = try f.requireInt(key("attention.head_count"))
        let ffn = try f.requireInt(key("feed_forward_length"))
        let layers = try f.requireInt(key("block_count"))
        let headDim = try f.requireInt(key("attention.key_length"), default: hidden / max(heads, 1))
        var cfg = LlamaConfig(
            vocabSize: emb.shape.first ?? 0, hiddenSize: hidden, intermediateSize: ffn, numLayers: layers, numHeads: heads,
            numKVHeads: try f.requireInt(key("attention.head_count_kv"), default: heads), headDim: headDim,
            ropeTheta: Float(try f.requireNumber(key("rope.freq_base"), default: arch == "gemma3" ? 1_000_000 : 10000)),
            rmsNormEps: Float(try f.requireNumber(key("attention.layer_norm_rms_epsilon"), default: 1e-5)),
            contextLength: try f.requireInt(key("context_length"), default: 2048))
        if arch == "gemma3" {
            let window = try f.requireInt(key("attention.sliding_window"), default: 512)
            guard window > 0 && window < maxConfigSize else {
                throw ModelFileError(file: path, field: "metadata '\(key("attention.sliding_window"))'",
                                     "the sliding window must be a positive integer below \(maxConfigSize), got \(window)")
            }
            cfg.arch = .gemma3(hidden: hidden, headDim: headDim, window: window)
        }
        try cfg.validate(file: path, fields: k)
        guard emb.shape.count == 2, emb.shape[1] == hidden else {
            throw ModelFileError(file: path, field: k.vocab, "shape \(emb.shape) does not match hidden size \(hidden) ([vocab, hidden] expected)")
        }
        let valueLength = try f.requireInt(key("attention.value_length"), default: headDim)
        guard valueLength == headDim else {
            throw ModelFileError(file: path, field: "metadata '\(key("attention.value_length"))'",
                                 "\(valueLength) differs from the key length \(headDim) (ada needs them equal)")
        }
        let vocab = try f.requireInt(key("vocab_size"), default: cfg.vocabSize)
        guard vocab == cfg.vocabSize else {
            throw ModelFileError(file: path, field: "metadata '\(key("vocab_size"))'",
                                 "\(vocab) differs from the \(cfg.vocabSize) rows of tensor 'token_embd.weight'")
        }
        let perBlock = tensorsPerBlock + cfg.arch.extraNorms.count
        guard layers <= (f.tensors.count - tensorsOutsideBlocks) / perBlock else {
            let need = "\(layers) blocks need \(layers * perBlock + tensorsOutsideBlocks) tensors, the file has \(f.tensors.count)"
            // Name the first missing tensor when there is one among the blocks the file can hold.
            let weights = [BlockWeight.attnNorm, .ffnNorm] + cfg.arch.extraNorms + LinearKind.allCases.map { .linear($0) }
            for b in 0..<min(layers, f.tensors.count) {
                if let missing = weights.map({ ggufName(b, $0) }).first(where: { f.info($0) == nil }) {
                    throw ModelFileError(file: path, field: k.layers, "\(need); tensor '\(missing)' is not in the file")
                }
            }
            throw ModelFileError(file: path, field: k.layers, need)
        }
        try checkNoExtraBlocks(f.tensors.map(\.name), prefix: "blk.", layers: layers, file: path, field: k.layers)
        return cfg
    }

    /// Loads a HuggingFace LLaMA directory. Q and K rows are permuted from the half-split RoPE
    /// layout to the adjacent-pair layout used by the forward pass.
    public static func loadDirectory(_ dir: String, options: LoadOptions = LoadOptions()) throws -> LlamaModel {
        let cfgPath = (dir as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: cfgPath),
              let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelFileError(file: cfgPath, field: "", "missing or not a JSON object")
        }
        let json = JSONConfig(object: j, file: cfgPath)
        let cfg = try hfConfig(json)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw ModelFileError(file: dir, field: "", "no .safetensors files") }
        var where_: [String: SafetensorsFile] = [:]
        for name in files {
            let sf = try SafetensorsFile(path: (dir as NSString).appendingPathComponent(name))
            for k in sf.entries.keys.sorted() {
                if let other = where_[k] {
                    throw ModelFileError(file: sf.path, field: "tensor '\(k)'", "also in \(other.path)")
                }
                where_[k] = sf
            }
        }
        try checkDirectoryTensors(cfg, where_, dir: dir, cfgPath: cfgPath)
        let tokPath = (dir as NSString).appendingPathComponent("tokenizer.json")
        // EOS ends generated text (a malformed id is refused just below).
        let eos = Set(((try? json.tokenIDs("eos_token_id")) ?? []).compactMap { Int32(exactly: $0) })
        let tokenizer = try BPETokenizer(tokenizerJSON: tokPath, endIDs: eos)
        try checkTokenizerFits(tokenizer, cfg, file: tokPath, field: "model.vocab")
        for key in ["bos_token_id", "eos_token_id", "pad_token_id"] {
            for id in try json.tokenIDs(key) { try checkTokenID(id, cfg, file: cfgPath, field: key) }
        }
        func tensor(_ name: String) throws -> Tensor {
            let t = try where_[name]!.tensor(name)
            try checkFinite(t, file: where_[name]!.path, name: name, options: options)
            return t
        }
        let blocks = try (0..<cfg.numLayers).map { i in
            try LlamaBlock(loading: { w in
                let t = try tensor(hfName(i, w))
                switch w {
                case .linear(.q): return permuteHalfSplitToAdjacent(t, heads: cfg.numHeads, headDim: cfg.headDim)
                case .linear(.k): return permuteHalfSplitToAdjacent(t, heads: cfg.numKVHeads, headDim: cfg.headDim)
                default: return t
                }
            })
        }
        let emb = try tensor("model.embed_tokens.weight")
        let out = where_["lm_head.weight"] != nil ? try tensor("lm_head.weight") : nil
        return LlamaModel(config: cfg, tokenEmbedding: emb, outputNorm: try tensor("model.norm.weight").data,
                          output: out, blocks: blocks, tokenizer: tokenizer, sourcePath: dir)
    }

    /// The configuration in config.json, strictly typed and validated.
    static func hfConfig(_ j: JSONConfig) throws -> LlamaConfig {
        let heads = try j.int("num_attention_heads")
        let hidden = try j.int("hidden_size")
        let cfg = LlamaConfig(
            vocabSize: try j.int("vocab_size"), hiddenSize: hidden, intermediateSize: try j.int("intermediate_size"),
            numLayers: try j.int("num_hidden_layers"), numHeads: heads,
            numKVHeads: try j.int("num_key_value_heads", default: heads),
            headDim: try j.int("head_dim", default: hidden / max(heads, 1)),
            ropeTheta: Float(try j.number("rope_theta", default: 10000)),
            rmsNormEps: Float(try j.number("rms_norm_eps", default: 1e-5)),
            contextLength: try j.int("max_position_embeddings", default: 2048))
        try cfg.validate(file: j.file, fields: .hf)
        return cfg
    }

    /// Checks, from the safetensors headers alone, that the directory holds every tensor the
    /// configuration needs, as a floating-point type, in the configuration's shape, and no
    /// tensor of a block the configuration does not have.
    static func checkDirectoryTensors(_ cfg: LlamaConfig, _ where_: [String: SafetensorsFile], dir: String, cfgPath: String) throws {
        guard cfg.numLayers <= (where_.count - tensorsOutsideBlocks) / tensorsPerBlock else {
            throw ModelFileError(file: cfgPath, field: ConfigFields.hf.layers,
                                 "\(cfg.numLayers) blocks need \(cfg.numLayers * tensorsPerBlock + tensorsOutsideBlocks) tensors, the .safetensors files hold \(where_.count)")
        }
        try checkNoExtraBlocks(Array(where_.keys), prefix: "model.layers.", layers: cfg.numLayers, file: cfgPath,
                               field: ConfigFields.hf.layers)
        var plan = cfg.expectedTensors(block: hfName, embedding: "model.embed_tokens.weight", outputNorm: "model.norm.weight")
        if where_["lm_head.weight"] != nil { plan.append(("lm_head.weight", [cfg.vocabSize, cfg.hiddenSize])) }
        for (name, shape) in plan {
            guard let sf = where_[name], let e = sf.entries[name] else {
                throw ModelFileError(file: dir, field: "tensor '\(name)'", "not found")
            }
            guard ["F32", "F16", "BF16"].contains(e.dtype) else {
                throw ModelFileError(file: sf.path, field: "tensor '\(name)' dtype", "\(e.dtype) is not a floating-point type")
            }
            guard e.shape == shape else {
                throw ModelFileError(file: sf.path, field: "tensor '\(name)'", shapeMismatch(e.shape, shape, cfg))
            }
        }
    }
}
