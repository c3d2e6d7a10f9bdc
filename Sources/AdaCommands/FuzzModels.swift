import AdaLibrary
import AdaModel
import AdaTensor
import Foundation

/// A tiny LLaMA for the fuzzers, described field by field so that a mutator can change any
/// one of them (a size, a hyperparameter, a tensor's shape or values, the vocabulary) and
/// write the file again: 2 blocks, hidden 8, 2 heads (head dim 4), 1 KV head, FFN 16, a
/// 40-token byte-level vocabulary with a few merges.
struct FuzzModel {
    var meta: [(String, GGUFValue)] = []
    var tensors: [(String, Tensor)] = []
    var tokens: [String] = []
    var merges: [String] = []

    static let hidden = 8, ffn = 16, heads = 2, kvHeads = 1, headDim = 4, blocks = 2

    init(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        func u(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(rng.uniform()) }
        func t(_ shape: [Int], _ scale: Float = 0.5) -> Tensor { Tensor(shape: shape) { _ in u(-scale, scale) } }
        let letters = "abcdefghijklmnopqrstuvwxyz .,;'".map(String.init)
        tokens = letters + ["th", "he", "the", "an", "in", "er", "Ġt", "<|end|>", "<|start|>"]
        merges = ["t h", "h e", "th e", "a n", "i n", "e r"]
        let d = Self.hidden, q = Self.heads * Self.headDim, kv = Self.kvHeads * Self.headDim
        meta = [("general.architecture", .string("llama")), ("general.name", .string("fuzz")),
                ("llama.block_count", .uint32(UInt32(Self.blocks))), ("llama.context_length", .uint32(64)),
                ("llama.embedding_length", .uint32(UInt32(d))), ("llama.feed_forward_length", .uint32(UInt32(Self.ffn))),
                ("llama.attention.head_count", .uint32(UInt32(Self.heads))),
                ("llama.attention.head_count_kv", .uint32(UInt32(Self.kvHeads))),
                ("llama.rope.freq_base", .float32(10000)), ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
                ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.bos_token_id", .uint32(UInt32(tokens.count - 1))),
                ("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens.count - 2)))]
        tensors.append(("token_embd.weight", t([tokens.count, d], 1)))
        for b in 0..<Self.blocks {
            let p = "blk.\(b)."
            tensors += [(p + "attn_norm.weight", Tensor(shape: [d]) { _ in u(0.7, 1.3) }),
                        (p + "attn_q.weight", t([q, d])), (p + "attn_k.weight", t([kv, d])), (p + "attn_v.weight", t([kv, d])),
                        (p + "attn_output.weight", t([d, q])),
                        (p + "ffn_norm.weight", Tensor(shape: [d]) { _ in u(0.7, 1.3) }),
                        (p + "ffn_gate.weight", t([Self.ffn, d])), (p + "ffn_up.weight", t([Self.ffn, d])),
                        (p + "ffn_down.weight", t([d, Self.ffn]))]
        }
        tensors += [("output_norm.weight", Tensor(shape: [d]) { _ in 1 }), ("output.weight", t([tokens.count, d]))]
    }

    func gguf() -> [UInt8] {
        var g = GGUFWriter()
        for (k, v) in meta { g.set(k, v) }
        g.set("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
        g.set("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 >= tokens.count - 2 ? 3 : 1) }))
        g.set("tokenizer.ggml.merges", .array(merges.map { .string($0) }))
        for (n, t) in tensors { g.add(n, .f32(t)) }
        return g.bytes()
    }

    /// The HuggingFace names of the tensors (q and k as GGUF stores them: the loader's
    /// permutation is a bijection, so mutants stay well-formed).
    static func hfName(_ n: String) -> String {
        if n == "token_embd.weight" { return "model.embed_tokens.weight" }
        if n == "output_norm.weight" { return "model.norm.weight" }
        if n == "output.weight" { return "lm_head.weight" }
        let parts = n.split(separator: ".")
        guard parts.count == 4 else { return n }
        let map = ["attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
                   "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
                   "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"]
        return "model.layers.\(parts[1]).\(map[String(parts[2])] ?? String(parts[2])).weight"
    }

    /// config.json of the same model, as a JSON object.
    func config() -> [String: Any] {
        func int(_ k: String) -> Any { meta.first { $0.0 == k }.map { v -> Any in v.1.int ?? "\(v.1)" } ?? NSNull() }
        return ["architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": tokens.count,
                "hidden_size": int("llama.embedding_length"), "intermediate_size": int("llama.feed_forward_length"),
                "num_hidden_layers": int("llama.block_count"), "num_attention_heads": int("llama.attention.head_count"),
                "num_key_value_heads": int("llama.attention.head_count_kv"), "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
                "max_position_embeddings": 64, "tie_word_embeddings": false]
    }

    /// tokenizer.json of the same vocabulary, as a JSON object.
    func tokenizer() -> [String: Any] {
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where i < tokens.count - 2 { vocab[t] = i }
        return ["version": "1.0",
                "added_tokens": [["id": tokens.count - 2, "content": tokens[tokens.count - 2], "special": true],
                                 ["id": tokens.count - 1, "content": tokens[tokens.count - 1], "special": true]],
                "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
                "model": ["type": "BPE", "vocab": vocab, "merges": merges]]
    }

    func safetensors() -> [UInt8] {
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt"]
        for (n, t) in tensors { w.add(Self.hfName(n), f32: t) }
        return (try? w.bytes()) ?? []
    }
}
