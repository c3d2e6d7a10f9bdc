import AdaEval
import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation

// Models for the evaluation-task tests, written as GGUF files and loaded through the public
// loader: a bigram model whose log-probabilities are chosen by hand, and a small random
// LLaMA with a byte-level vocabulary (so that real prompts tokenize).

enum TasksModels {
    /// Writes `w` to a temporary GGUF file and loads it.
    static func load(_ w: GGUFWriter) -> LlamaModel {
        let path = FileManager.default.temporaryDirectory.path + "/ada-eval-tasks-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try w.write(to: path)
            return try LlamaModel.loadGGUF(path)
        } catch {
            fatalError("tiny model: \(error)")
        }
    }

    static func header(_ w: inout GGUFWriter, layers: Int, hidden: Int, ffn: Int, heads: Int, kvHeads: Int,
                       headDim: Int, eps: Float, tokens: [String]) {
        w.set("general.architecture", .string("llama"))
        w.set("llama.block_count", .uint32(UInt32(layers)))
        w.set("llama.context_length", .uint32(256))
        w.set("llama.embedding_length", .uint32(UInt32(hidden)))
        w.set("llama.feed_forward_length", .uint32(UInt32(ffn)))
        w.set("llama.attention.head_count", .uint32(UInt32(heads)))
        w.set("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("llama.attention.key_length", .uint32(UInt32(headDim)))
        w.set("llama.rope.freq_base", .float32(10000))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(eps))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
        w.set("tokenizer.ggml.merges", .array([]))
    }

    /// The next-token weights of the bigram model: row t holds w(j | t); p(j | t) = w / Σ w.
    /// Every row sums to 10, so probabilities are tenths.
    static let bigramWeights: [[Float]] = [
        [1, 4, 2, 1, 1, 1],   // after 0: p(1) = .4, p(2) = .2, p(3) = .1
        [3, 2, 2, 1, 1, 1],   // after 1: p(0) = .3 (the greedy choice), p(4) = .1
        [1, 1, 1, 5, 1, 1],   // after 2: p(3) = .5
        [1, 1, 1, 1, 5, 1],   // after 3: p(4) = .5
        [2, 1, 1, 1, 1, 4],   // after 4: p(5) = .4
        [5, 1, 1, 1, 1, 1],   // after 5: p(0) = .5
    ]

    /// A model whose next-token distribution depends only on the current token: every block
    /// weight is zero (attention and MLP add nothing), embeddings are one-hot, and the output
    /// norm weight 1/√6 undoes RMSNorm's scale √6, so the logits after token t are the head's
    /// column t, set to log w(· | t).
    static func bigram() -> LlamaModel {
        let v = 6
        var w = GGUFWriter()
        header(&w, layers: 1, hidden: v, ffn: 2, heads: 1, kvHeads: 1, headDim: 2, eps: 1e-12,
               tokens: (0..<v).map { "t\($0)" })
        w.add("token_embd.weight", .f32(Tensor(shape: [v, v]) { i in i / v == i % v ? 1 : 0 }))
        w.add("output_norm.weight", .f32(Tensor(repeating: 1 / Float(6).squareRoot(), shape: [v])))
        // output[j, t] = log w(j | t)
        w.add("output.weight", .f32(Tensor(shape: [v, v]) { i in Float(Foundation.log(Double(bigramWeights[i % v][i / v]))) }))
        w.add("blk.0.attn_norm.weight", .f32(Tensor(repeating: 1, shape: [v])))
        w.add("blk.0.ffn_norm.weight", .f32(Tensor(repeating: 1, shape: [v])))
        w.add("blk.0.attn_q.weight", .f32(Tensor(zeros: [2, v])))
        w.add("blk.0.attn_k.weight", .f32(Tensor(zeros: [2, v])))
        w.add("blk.0.attn_v.weight", .f32(Tensor(zeros: [2, v])))
        w.add("blk.0.attn_output.weight", .f32(Tensor(zeros: [v, 2])))
        w.add("blk.0.ffn_gate.weight", .f32(Tensor(zeros: [2, v])))
        w.add("blk.0.ffn_up.weight", .f32(Tensor(zeros: [2, v])))
        w.add("blk.0.ffn_down.weight", .f32(Tensor(zeros: [v, 2])))
        return load(w)
    }

    /// GPT-2's byte → symbol table (the shared one of the test support), so that a
    /// vocabulary of the 256 byte symbols encodes any text byte by byte.
    static var byteSymbols: [String] { ByteLevel.table }

    /// A random LLaMA (2 blocks, hidden 32, 4 heads of 8, 2 KV heads, FFN 48) over the 256
    /// byte tokens: token id = byte value.
    static func bytes(seed: UInt64 = 0xE7A1) -> LlamaModel {
        var state = seed
        func r(_ scale: Float) -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        func t(_ s: [Int], _ scale: Float) -> GGUFWriter.Payload { .f32(Tensor(shape: s) { _ in r(scale) }) }
        let v = 256, d = 32, f = 48
        var w = GGUFWriter()
        header(&w, layers: 2, hidden: d, ffn: f, heads: 4, kvHeads: 2, headDim: 8, eps: 1e-5, tokens: byteSymbols)
        w.add("token_embd.weight", t([v, d], 1))
        w.add("output_norm.weight", .f32(Tensor(shape: [d]) { _ in 1 + r(0.3) }))
        w.add("output.weight", t([v, d], 0.6))
        for b in 0..<2 {
            let p = "blk.\(b)."
            w.add(p + "attn_norm.weight", .f32(Tensor(shape: [d]) { _ in 1 + r(0.3) }))
            w.add(p + "ffn_norm.weight", .f32(Tensor(shape: [d]) { _ in 1 + r(0.3) }))
            w.add(p + "attn_q.weight", t([32, d], 0.6))
            w.add(p + "attn_k.weight", t([16, d], 0.6))
            w.add(p + "attn_v.weight", t([16, d], 0.5))
            w.add(p + "attn_output.weight", t([d, 32], 0.4))
            w.add(p + "ffn_gate.weight", t([f, d], 0.4))
            w.add(p + "ffn_up.weight", t([f, d], 0.4))
            w.add(p + "ffn_down.weight", t([d, f], 0.3))
        }
        return load(w)
    }
}

/// Log-likelihood and greedy flag of a request, computed the plain way: the whole sequence
/// (left-truncated to `maxLength` + 1 tokens) through `LlamaModel.forward`, in double precision.
func referenceScore(_ m: LlamaModel, _ r: TokenRequest, maxLength: Int = .max) -> RequestScore {
    var whole = r.context + r.continuation
    if whole.count - 1 > maxLength { whole.removeFirst(whole.count - 1 - maxLength) }
    let logits = m.forward(Array(whole.dropLast()))
    let (t, v) = logits.matrixShape
    var ll = 0.0
    var greedy = true
    for k in 0..<r.continuation.count {
        let row = t - r.continuation.count + k
        let target = Int(r.continuation[k])
        let xs = (0..<v).map { Double(logits.data[row * v + $0]) }
        let mx = xs.max()!
        let lse = mx + Foundation.log(xs.reduce(0) { $0 + Foundation.exp($1 - mx) })
        ll += xs[target] - lse
        if xs[target] < mx { greedy = false }
    }
    return RequestScore(logLikelihood: ll, isGreedy: greedy, tokens: r.continuation.count)
}
