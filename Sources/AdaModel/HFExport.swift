import AdaTensor
import Foundation

extension LlamaModel {
    /// Writes a Gemma 3 model as a HuggingFace directory: `config.json` (`gemma3_text`,
    /// `Gemma3ForCausalLM`), `model.safetensors` (F32, HF names, norm weights stored as
    /// weight − 1, Gemma's HF convention, and the head tied unless the model has its own),
    /// `tokenizer.model` (SentencePiece) and `tokenizer_config.json` (BOS/EOS flags).
    /// `loadDirectory` reads it back to the same weights, up to the rounding of `w − 1 + 1`
    /// in Float32. Only the gemma3 spec is written (LLaMA directories need a GPT-2 tokenizer.json).
    public func writeHFDirectory(_ dir: String) throws {
        guard config.arch.name == "gemma3", let tok = tokenizer as? SentencePieceTokenizer else {
            throw ModelFileError(file: dir, field: "", "HuggingFace export writes Gemma 3 models (a SentencePiece tokenizer) only; this is \(config.arch.name)")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ModelFileError(file: dir, field: "", "no such folder")
        }
        func file(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt"]
        func norm(_ v: [Float]) -> Tensor { Tensor(shape: [v.count], data: v.map { $0 - 1 }) }
        for i in 0..<config.numLayers {
            let b = blocks[i]
            for bw in [BlockWeight.attnNorm, .ffnNorm] + config.arch.extraNorms {
                guard let t = b.tensor(bw) else { continue }
                w.add(Self.hfName(i, bw, postNorms: true), f32: norm(t.data))
            }
            for k in LinearKind.allCases { w.add(Self.hfName(i, .linear(k), postNorms: true), f32: b[k]) }
        }
        w.add("model.embed_tokens.weight", f32: tokenEmbedding)
        w.add("model.norm.weight", f32: norm(outputNorm))
        if let output { w.add("lm_head.weight", f32: output) }
        try AtomicFile.write(Data(try w.bytes()), to: file("model.safetensors"))
        try AtomicFile.write(Data(SentencePieceModel.serialize(SentencePieceModel.contents(of: tok))), to: file("tokenizer.model"))
        let tc: [String: Any] = ["add_bos_token": tok.addBOS, "add_eos_token": tok.addEOS]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: tc, options: [.sortedKeys, .prettyPrinted]),
                             to: file("tokenizer_config.json"))
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: hfGemma3ConfigJSON(tok), options: [.sortedKeys, .prettyPrinted]),
                             to: file("config.json"))
    }

    /// config.json for `writeHFDirectory`.
    func hfGemma3ConfigJSON(_ tok: SentencePieceTokenizer) -> [String: Any] {
        let c = config, a = c.arch
        let scale = a.attentionScale ?? 1 / Float(c.headDim).squareRoot()
        var j: [String: Any] = [
            "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text",
            "vocab_size": c.vocabSize, "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize,
            "num_hidden_layers": c.numLayers, "num_attention_heads": c.numHeads, "num_key_value_heads": c.numKVHeads,
            "head_dim": c.headDim, "rope_theta": Double(c.ropeTheta), "rms_norm_eps": Double(c.rmsNormEps),
            "max_position_embeddings": c.contextLength, "hidden_activation": "gelu_pytorch_tanh",
            "query_pre_attn_scalar": (1 / (Double(scale) * Double(scale))).rounded(),
            "rope_local_base_freq": Double(a.localRopeTheta ?? c.ropeTheta),
            "sliding_window": a.slidingWindow ?? c.contextLength,
            "layer_types": (0..<c.numLayers).map { a.isGlobal($0) ? "full_attention" : "sliding_attention" },
            "tie_word_embeddings": output == nil, "torch_dtype": "float32",
        ]
        if let b = tok.bos { j["bos_token_id"] = Int(b) }
        if let e = tok.eos { j["eos_token_id"] = Int(e) }
        return j
    }
}
