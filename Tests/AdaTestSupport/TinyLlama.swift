import AdaModel
import AdaTensor
import Foundation

/// GPT-2's byte ↔ unicode table, written out independently of the library: printable bytes
/// 33–126, 161–172, 174–255 map to themselves, the other 68 bytes in order to U+0100…U+0143.
public enum ByteLevel {
    public static let table: [String] = {
        let keep = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var out = [String](repeating: "", count: 256)
        var n = 0
        for b in 0..<256 {
            if keep.contains(b) {
                out[b] = String(Character(Unicode.Scalar(UInt32(b))!))
            } else {
                out[b] = String(Character(Unicode.Scalar(UInt32(256 + n))!))
                n += 1
            }
        }
        return out
    }()

    public static func encode(_ s: String) -> String { s.utf8.map { table[Int($0)] }.joined() }
}

/// A tiny LLaMA: 2 layers, hidden 16, 4 heads (head dim 4), 2 KV heads, FFN 24, and a
/// 263-token byte-level BPE vocabulary (256 byte tokens, 6 merges, 1 control token).
public struct TinyLlama {
    public static let layers = 2, hidden = 16, heads = 4, kvHeads = 2, headDim = 4, ffn = 24
    public static let ropeTheta: Float = 10000, eps: Float = 1e-5

    /// Merges in rank order, and the tokens they create (ids 256…261).
    public static let merges = ["h e", "l l", "he ll", "Ġ w", "o r", "Ġw or"]
    public static let mergedTokens = ["he", "ll", "hell", "Ġw", "or", "Ġwor"]
    public static let control = "<|end|>"
    public static let tokens: [String] = ByteLevel.table + mergedTokens + [control]
    public static var vocab: Int { tokens.count }

    /// Weights in the library's (GGUF, adjacent-pair RoPE) layout, by HF name.
    public var weights: [String: Tensor] = [:]

    public init(seed: UInt64) {
        var rng = TestRNG(seed: seed)
        func rand(_ shape: [Int], _ scale: Float) -> Tensor {
            Tensor(shape: shape) { _ in rng.uniform(-scale, scale) }
        }
        func norm(_ n: Int) -> Tensor { Tensor(shape: [n]) { _ in rng.uniform(0.6, 1.4) } }
        let d = Self.hidden, qd = Self.heads * Self.headDim, kvd = Self.kvHeads * Self.headDim, f = Self.ffn
        weights["model.embed_tokens.weight"] = rand([Self.vocab, d], 1)
        for l in 0..<Self.layers {
            let p = "model.layers.\(l)."
            weights[p + "input_layernorm.weight"] = norm(d)
            weights[p + "post_attention_layernorm.weight"] = norm(d)
            weights[p + "self_attn.q_proj.weight"] = rand([qd, d], 0.6)
            weights[p + "self_attn.k_proj.weight"] = rand([kvd, d], 0.6)
            weights[p + "self_attn.v_proj.weight"] = rand([kvd, d], 0.4)
            weights[p + "self_attn.o_proj.weight"] = rand([d, qd], 0.4)
            weights[p + "mlp.gate_proj.weight"] = rand([f, d], 0.4)
            weights[p + "mlp.up_proj.weight"] = rand([f, d], 0.4)
            weights[p + "mlp.down_proj.weight"] = rand([d, f], 0.3)
        }
        weights["model.norm.weight"] = norm(d)
        weights["lm_head.weight"] = rand([Self.vocab, d], 0.5)
    }

    /// Inverse of `permuteHalfSplitToAdjacent`: adjacent row `h·hd + 2i + c` goes to half-split
    /// row `h·hd + c·hd/2 + i` (llama.cpp's convert script applies the forward direction).
    public static func adjacentToHalfSplit(_ w: Tensor, heads: Int, headDim: Int) -> Tensor {
        let cols = w.shape[1]
        var out = w
        for h in 0..<heads {
            for i in 0..<(headDim / 2) {
                for c in 0..<2 {
                    let src = h * headDim + 2 * i + c
                    let dst = h * headDim + c * headDim / 2 + i
                    for j in 0..<cols { out.data[dst * cols + j] = w.data[src * cols + j] }
                }
            }
        }
        return out
    }

    /// Weights as HuggingFace stores them: q/k rows in the half-split RoPE layout.
    public var hfWeights: [String: Tensor] {
        var w = weights
        for l in 0..<Self.layers {
            let p = "model.layers.\(l).self_attn."
            w[p + "q_proj.weight"] = Self.adjacentToHalfSplit(weights[p + "q_proj.weight"]!, heads: Self.heads, headDim: Self.headDim)
            w[p + "k_proj.weight"] = Self.adjacentToHalfSplit(weights[p + "k_proj.weight"]!, heads: Self.kvHeads, headDim: Self.headDim)
        }
        return w
    }

    public static var configJSON: [String: Any] {
        ["architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab,
         "hidden_size": hidden, "intermediate_size": ffn, "num_hidden_layers": layers,
         "num_attention_heads": heads, "num_key_value_heads": kvHeads, "rope_theta": Double(ropeTheta),
         "rms_norm_eps": Double(eps), "max_position_embeddings": 64, "tie_word_embeddings": false]
    }

    public static var tokenizerJSON: [String: Any] {
        var vocabDict: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where i < tokens.count - 1 { vocabDict[t] = i }
        return [
            "version": "1.0",
            "added_tokens": [["id": vocab - 1, "content": control, "special": true]],
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            ]],
            "model": ["type": "BPE", "vocab": vocabDict, "merges": merges],
        ]
    }

    /// Writes config.json, model.safetensors (HF layout) and tokenizer.json into `dir`.
    public func writeDirectory(_ dir: String, hfLayout: Bool = true, tied: Bool = false) throws {
        let cfg = try JSONSerialization.data(withJSONObject: Self.configJSON, options: [.sortedKeys])
        try cfg.write(to: URL(fileURLWithPath: dir + "/config.json"))
        let tok = try JSONSerialization.data(withJSONObject: Self.tokenizerJSON, options: [.sortedKeys])
        try tok.write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt"]
        for (name, t) in (hfLayout ? hfWeights : weights).sorted(by: { $0.key < $1.key }) {
            if tied && name == "lm_head.weight" { continue }
            w.add(name, f32: t)
        }
        try w.write(to: dir + "/model.safetensors")
    }

    /// The same model as a GGUF file with llama metadata (adjacent-pair layout).
    public func ggufBytes(tied: Bool = false) -> [UInt8] {
        var g = GGUFWriter()
        g.set("general.architecture", .string("llama"))
        g.set("general.name", .string("tiny"))
        g.set("llama.block_count", .uint32(UInt32(Self.layers)))
        g.set("llama.context_length", .uint32(64))
        g.set("llama.embedding_length", .uint32(UInt32(Self.hidden)))
        g.set("llama.feed_forward_length", .uint32(UInt32(Self.ffn)))
        g.set("llama.attention.head_count", .uint32(UInt32(Self.heads)))
        g.set("llama.attention.head_count_kv", .uint32(UInt32(Self.kvHeads)))
        g.set("llama.rope.freq_base", .float32(Self.ropeTheta))
        g.set("llama.attention.layer_norm_rms_epsilon", .float32(Self.eps))
        g.set("tokenizer.ggml.model", .string("gpt2"))
        g.set("tokenizer.ggml.pre", .string("smollm"))
        g.set("tokenizer.ggml.tokens", .array(Self.tokens.map { .string($0) }))
        g.set("tokenizer.ggml.token_type", .array(Self.tokens.indices.map { .int32($0 == Self.vocab - 1 ? 3 : 1) }))
        g.set("tokenizer.ggml.merges", .array(Self.merges.map { .string($0) }))
        g.add("token_embd.weight", .f32(weights["model.embed_tokens.weight"]!))
        let names: [(String, String)] = [
            ("attn_norm", "input_layernorm"), ("ffn_norm", "post_attention_layernorm"),
            ("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"),
            ("attn_output", "self_attn.o_proj"), ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"),
            ("ffn_down", "mlp.down_proj"),
        ]
        for l in 0..<Self.layers {
            for (gn, hn) in names {
                g.add("blk.\(l).\(gn).weight", .f32(weights["model.layers.\(l).\(hn).weight"]!))
            }
        }
        g.add("output_norm.weight", .f32(weights["model.norm.weight"]!))
        if !tied { g.add("output.weight", .f32(weights["lm_head.weight"]!)) }
        return g.bytes()
    }

    /// A straightforward double-precision LLaMA forward pass in HuggingFace's convention
    /// (half-split `rotate_half` RoPE on HF-layout weights, `repeat_kv` grouping), written from
    /// the HF modeling code, independent of the library's forward pass. Logits `[T][vocab]`.
    public static func referenceLogits(hf w: [String: Tensor], tokens: [Int32], tied: Bool = false) -> [[Double]] {
        let hd = headDim, T = tokens.count
        func mat(_ name: String) -> [[Double]] {
            let t = w[name]!
            return (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Double(t[r, $0]) } }
        }
        func vec(_ name: String) -> [Double] { w[name]!.data.map(Double.init) }
        func linear(_ x: [[Double]], _ wt: [[Double]]) -> [[Double]] {
            x.map { row in wt.map { wr in zip(row, wr).reduce(0) { $0 + $1.0 * $1.1 } } }
        }
        func rmsnorm(_ x: [[Double]], _ g: [Double]) -> [[Double]] {
            x.map { row in
                let ms = row.reduce(0) { $0 + $1 * $1 } / Double(row.count)
                let inv = 1 / (ms + Double(eps)).squareRoot()
                return zip(row, g).map { $0 * inv * $1 }
            }
        }
        func rope(_ x: [[Double]], nHeads: Int) -> [[Double]] {
            var out = x
            for p in 0..<T {
                for h in 0..<nHeads {
                    for i in 0..<(hd / 2) {
                        let invFreq = 1 / pow(Double(ropeTheta), Double(2 * i) / Double(hd))
                        let a = Double(p) * invFreq
                        let x1 = x[p][h * hd + i], x2 = x[p][h * hd + i + hd / 2]
                        // q·cos + rotate_half(q)·sin, rotate_half(x) = [−x2, x1]
                        out[p][h * hd + i] = x1 * cos(a) - x2 * sin(a)
                        out[p][h * hd + i + hd / 2] = x2 * cos(a) + x1 * sin(a)
                    }
                }
            }
            return out
        }
        let emb = mat("model.embed_tokens.weight")
        var x = tokens.map { emb[Int($0)] }
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            let xn = rmsnorm(x, vec(p + "input_layernorm.weight"))
            let q = rope(linear(xn, mat(p + "self_attn.q_proj.weight")), nHeads: heads)
            let k = rope(linear(xn, mat(p + "self_attn.k_proj.weight")), nHeads: kvHeads)
            let v = linear(xn, mat(p + "self_attn.v_proj.weight"))
            var ctx = [[Double]](repeating: [Double](repeating: 0, count: heads * hd), count: T)
            let nRep = heads / kvHeads
            for h in 0..<heads {
                let g = h / nRep
                for t in 0..<T {
                    var s = (0...t).map { j in
                        (0..<hd).reduce(0.0) { $0 + q[t][h * hd + $1] * k[j][g * hd + $1] } / Double(hd).squareRoot()
                    }
                    let m = s.max()!
                    s = s.map { exp($0 - m) }
                    let z = s.reduce(0, +)
                    for j in 0...t { for e in 0..<hd { ctx[t][h * hd + e] += s[j] / z * v[j][g * hd + e] } }
                }
            }
            let attn = linear(ctx, mat(p + "self_attn.o_proj.weight"))
            let h1 = zip(x, attn).map { zip($0, $1).map(+) }
            let hn = rmsnorm(h1, vec(p + "post_attention_layernorm.weight"))
            let gate = linear(hn, mat(p + "mlp.gate_proj.weight"))
            let up = linear(hn, mat(p + "mlp.up_proj.weight"))
            let act = zip(gate, up).map { zip($0, $1).map { g, u in g / (1 + exp(-g)) * u } }
            let down = linear(act, mat(p + "mlp.down_proj.weight"))
            x = zip(h1, down).map { zip($0, $1).map(+) }
        }
        let head = mat(tied ? "model.embed_tokens.weight" : "lm_head.weight")
        return linear(rmsnorm(x, vec("model.norm.weight")), head)
    }
}
