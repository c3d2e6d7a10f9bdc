import Foundation

// HuggingFace Gemma 3 directories (`model_type` `gemma3_text`, `Gemma3ForCausalLM`): the spec
// from config.json, the HF tensor names, Gemma's norm convention and the SentencePiece
// tokenizer. HF Gemma's RMSNorm multiplies by (1 + weight) and stores `weight`; GGUF files and
// ada's forward pass hold the factor itself, so loading adds 1 to every norm weight (and the
// HF export subtracts it). HF's q and k rows are already in the half-split (NEOX) layout
// Gemma's RoPE uses: they are not permuted, unlike LLaMA's.

extension JSONConfig {
    /// A string value, nil when absent or null; an error when present but not a string.
    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let s = object[key] as? String else { throw ModelFileError(file: file, field: key, "not a string: \(object[key]!)") }
        return s
    }

    /// A list of strings, nil when absent or null.
    func strings(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        guard let l = object[key] as? [Any] else { throw ModelFileError(file: file, field: key, "not a list of strings") }
        return try l.enumerated().map { i, v in
            guard let s = v as? String else { throw ModelFileError(file: file, field: "\(key)[\(i)]", "not a string: \(v)") }
            return s
        }
    }

    /// A boolean value; `fallback` when absent or null.
    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard has(key) else { return fallback }
        guard Self.isBool(object[key]!), let b = object[key] as? Bool else {
            throw ModelFileError(file: file, field: key, "not a boolean: \(object[key]!)")
        }
        return b
    }

    /// Whether the configuration describes a Gemma 3 text model.
    var isGemma3: Bool {
        if let t = object["model_type"] as? String, t == "gemma3_text" { return true }
        return (object["architectures"] as? [Any])?.contains { ($0 as? String) == "Gemma3ForCausalLM" } ?? false
    }
}

extension LlamaModel {
    /// A Gemma 3 config.json: sizes as for LLaMA (head_dim required: Gemma's is not
    /// hidden/heads), `query_pre_attn_scalar` for the attention scale, `rope_theta` (global
    /// layers) and `rope_local_base_freq` (sliding layers), `sliding_window`, and the layer
    /// pattern from `layer_types` (or `sliding_window_pattern`); what ada's spec cannot run
    /// (logit soft-capping, RoPE scaling, another activation) is refused by name.
    static func hfGemma3Config(_ j: JSONConfig) throws -> LlamaConfig {
        let heads = try j.int("num_attention_heads")
        let hidden = try j.int("hidden_size")
        let layers = try j.int("num_hidden_layers")
        var cfg = LlamaConfig(
            vocabSize: try j.int("vocab_size"), hiddenSize: hidden, intermediateSize: try j.int("intermediate_size"),
            numLayers: layers, numHeads: heads, numKVHeads: try j.int("num_key_value_heads", default: heads),
            headDim: try j.int("head_dim"),
            ropeTheta: Float(try j.number("rope_theta", default: 1_000_000)),
            rmsNormEps: Float(try j.number("rms_norm_eps", default: 1e-6)),
            contextLength: try j.int("max_position_embeddings", default: 32768))
        try cfg.validate(file: j.file, fields: .hf)
        func bad(_ field: String, _ m: String) -> ModelFileError { ModelFileError(file: j.file, field: field, m) }
        for key in ["final_logit_softcapping", "attn_logit_softcapping", "rope_scaling"] where j.has(key) {
            throw bad(key, "is \(j.object[key]!); ada's Gemma 3 spec has none (it must be null or absent)")
        }
        let act = try j.string("hidden_activation") ?? "gelu_pytorch_tanh"
        guard ["gelu_pytorch_tanh", "gelu_tanh"].contains(act) else {
            throw bad("hidden_activation", "'\(act)' is not supported (Gemma 3 uses gelu_pytorch_tanh)")
        }
        let window = try j.int("sliding_window", default: 4096)
        guard window > 0 && window < maxConfigSize else {
            throw bad("sliding_window", "the sliding window must be a positive integer below \(maxConfigSize), got \(window)")
        }
        let scalar = try j.number("query_pre_attn_scalar", default: Double(cfg.headDim))
        guard scalar.isFinite, scalar > 0 else { throw bad("query_pre_attn_scalar", "must be a finite number above 0, got \(scalar)") }
        let local = try j.number("rope_local_base_freq", default: 10_000)
        guard local.isFinite, local > 0 else { throw bad("rope_local_base_freq", "must be a finite number above 0, got \(local)") }
        cfg.arch = .gemma3(hidden: hidden, headDim: cfg.headDim, window: window, queryScalar: Float(scalar),
                           localRopeTheta: Float(local), pattern: try gemma3Pattern(j, layers: layers))
        return cfg
    }

    /// The sliding-window pattern: one global (`full_attention`) layer every N, the last of
    /// each N, as ada's spec runs it; `layer_types` must follow it.
    static func gemma3Pattern(_ j: JSONConfig, layers: Int) throws -> Int {
        let pattern = try j.int("sliding_window_pattern", default: try j.int("_sliding_window_pattern", default: 6))
        guard let types = try j.strings("layer_types") else {
            guard pattern >= 1 && pattern <= layers else {
                throw ModelFileError(file: j.file, field: "sliding_window_pattern", "must be between 1 and \(layers), got \(pattern)")
            }
            return pattern
        }
        guard types.count == layers else {
            throw ModelFileError(file: j.file, field: "layer_types", "has \(types.count) entries for \(layers) layers (num_hidden_layers)")
        }
        if let i = types.firstIndex(where: { $0 != "sliding_attention" && $0 != "full_attention" }) {
            throw ModelFileError(file: j.file, field: "layer_types[\(i)]", "'\(types[i])' is neither sliding_attention nor full_attention")
        }
        let p = (types.firstIndex(of: "full_attention") ?? (layers - 1)) + 1
        for (l, t) in types.enumerated() where (t == "full_attention") != (l % p == p - 1) {
            throw ModelFileError(file: j.file, field: "layer_types[\(l)]",
                                 "'\(t)' breaks the pattern of one full_attention layer every \(p) (the last of each \(p)), which is what ada runs")
        }
        return p
    }

    /// The tokenizer of a Gemma directory: `tokenizer.model` (SentencePiece), with BOS and EOS
    /// added as `tokenizer_config.json` says (BOS yes, EOS no when it is absent).
    static func hfSentencePieceTokenizer(_ dir: String) throws -> SentencePieceTokenizer {
        let path = (dir as NSString).appendingPathComponent("tokenizer.model")
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelFileError(file: path, field: "", "missing: a Gemma 3 directory needs its SentencePiece tokenizer.model")
        }
        var addBOS = true, addEOS = false
        let tcPath = (dir as NSString).appendingPathComponent("tokenizer_config.json")
        if let data = FileManager.default.contents(atPath: tcPath) {
            guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelFileError(file: tcPath, field: "", "not a JSON object")
            }
            let tc = JSONConfig(object: o, file: tcPath)
            addBOS = try tc.bool("add_bos_token", default: true)
            addEOS = try tc.bool("add_eos_token", default: false)
        }
        return try SentencePieceModel.tokenizer(path, addBOS: addBOS, addEOS: addEOS)
    }
}
