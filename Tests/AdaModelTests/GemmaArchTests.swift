import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// A six-block Gemma 3-shaped model small enough for a float64 reference forward pass:
/// five sliding-window layers (window 3, so the window matters at 8 tokens) and one global
/// layer, QK-norm, post-norms, GeGLU, NEOX RoPE with two bases, √d embeddings, tied head.
struct TinyGemma {
    static let layers = 6, hidden = 8, ffn = 12, heads = 2, kvHeads = 1, headDim = 4, window = 3
    static let globalTheta: Float = 1_000_000, localTheta: Float = 10_000, eps: Float = 1e-6
    static let tokens = ["<pad>", "<eos>", "<bos>", "<unk>", "▁", "a", "b", "c", "d", "e", "▁a", "ab", "cd", "de"]
    var w: [String: Tensor] = [:]

    init(seed: UInt64) {
        var rng = TestRNG(seed: seed)
        func rand(_ shape: [Int], _ s: Float) -> Tensor { Tensor(shape: shape) { _ in rng.uniform(-s, s) } }
        func norm(_ n: Int) -> Tensor { Tensor(shape: [n]) { _ in rng.uniform(0.6, 1.4) } }
        let d = Self.hidden, qd = Self.heads * Self.headDim, kvd = Self.kvHeads * Self.headDim
        w["token_embd"] = rand([Self.tokens.count, d], 0.5)
        for l in 0..<Self.layers {
            let p = "blk.\(l)."
            for n in ["attn_norm", "ffn_norm", "post_attention_norm", "post_ffw_norm"] { w[p + n] = norm(d) }
            w[p + "attn_q_norm"] = norm(Self.headDim)
            w[p + "attn_k_norm"] = norm(Self.headDim)
            w[p + "attn_q"] = rand([qd, d], 0.6)
            w[p + "attn_k"] = rand([kvd, d], 0.6)
            w[p + "attn_v"] = rand([kvd, d], 0.5)
            w[p + "attn_output"] = rand([d, qd], 0.5)
            w[p + "ffn_gate"] = rand([Self.ffn, d], 0.5)
            w[p + "ffn_up"] = rand([Self.ffn, d], 0.5)
            w[p + "ffn_down"] = rand([d, Self.ffn], 0.4)
        }
        w["output_norm"] = norm(d)
    }

    /// The GGUF file, with `edit` applied to the metadata and `drop` tensors left out.
    func gguf(drop: Set<String> = [], edit: (inout GGUFWriter) -> Void = { _ in }) -> [UInt8] {
        var g = GGUFWriter()
        g.set("general.architecture", .string("gemma3"))
        let u = { (v: Int) in GGUFValue.uint32(UInt32(v)) }
        g.set("gemma3.block_count", u(Self.layers))
        g.set("gemma3.context_length", u(64))
        g.set("gemma3.embedding_length", u(Self.hidden))
        g.set("gemma3.feed_forward_length", u(Self.ffn))
        g.set("gemma3.attention.head_count", u(Self.heads))
        g.set("gemma3.attention.head_count_kv", u(Self.kvHeads))
        g.set("gemma3.attention.key_length", u(Self.headDim))
        g.set("gemma3.attention.value_length", u(Self.headDim))
        g.set("gemma3.attention.sliding_window", u(Self.window))
        g.set("gemma3.rope.freq_base", .float32(Self.globalTheta))
        g.set("gemma3.attention.layer_norm_rms_epsilon", .float32(Self.eps))
        g.set("tokenizer.ggml.model", .string("llama"))
        g.set("tokenizer.ggml.tokens", .array(Self.tokens.map { .string($0) }))
        g.set("tokenizer.ggml.scores", .array(Self.tokens.indices.map { .float32(-Float($0)) }))
        g.set("tokenizer.ggml.token_type", .array(Self.tokens.indices.map { .int32($0 < 3 ? 3 : $0 == 3 ? 2 : 1) }))
        g.set("tokenizer.ggml.bos_token_id", u(2))
        g.set("tokenizer.ggml.eos_token_id", u(1))
        g.set("tokenizer.ggml.unknown_token_id", u(3))
        g.set("tokenizer.ggml.add_space_prefix", .bool(false))
        edit(&g)
        for name in w.keys.sorted() where !drop.contains(name + ".weight") { g.add(name + ".weight", .f32(w[name]!)) }
        return g.bytes()
    }

    /// Logits `[T][vocab]` by a float64 forward pass written from the Gemma 3 graph
    /// (llama.cpp's `gemma3` model), independent of the library's forward pass.
    func reference(_ tokens: [Int32]) -> [[Double]] {
        let hd = Self.headDim, T = tokens.count, d = Self.hidden
        func mat(_ n: String) -> [[Double]] { let t = w[n]!; return (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Double(t[r, $0]) } } }
        func vec(_ n: String) -> [Double] { w[n]!.data.map(Double.init) }
        func lin(_ x: [[Double]], _ m: [[Double]]) -> [[Double]] { x.map { r in m.map { zip(r, $0).reduce(0) { $0 + $1.0 * $1.1 } } } }
        func rms(_ x: [Double], _ g: [Double]) -> [Double] {
            let inv = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Double(Self.eps)).squareRoot()
            return zip(x, g).map { $0 * inv * $1 }
        }
        func headsNormRope(_ x: [[Double]], _ n: Int, _ g: [Double], theta: Double) -> [[Double]] {
            x.enumerated().map { p, row in
                var out = row
                for h in 0..<n {
                    let head = rms(Array(row[(h * hd)..<((h + 1) * hd)]), g)
                    for i in 0..<(hd / 2) {   // NEOX: (x[i], x[i + hd/2])
                        let a = Double(p) / pow(theta, Double(2 * i) / Double(hd))
                        out[h * hd + i] = head[i] * cos(a) - head[i + hd / 2] * sin(a)
                        out[h * hd + i + hd / 2] = head[i + hd / 2] * cos(a) + head[i] * sin(a)
                    }
                }
                return out
            }
        }
        let emb = mat("token_embd")
        var x = tokens.map { emb[Int($0)].map { $0 * Double(Float(d).squareRoot()) } }
        for l in 0..<Self.layers {
            let p = "blk.\(l).", global = l % 6 == 5
            let theta = Double(global ? Self.globalTheta : Self.localTheta)
            let xn = x.map { rms($0, vec(p + "attn_norm")) }
            let q = headsNormRope(lin(xn, mat(p + "attn_q")), Self.heads, vec(p + "attn_q_norm"), theta: theta)
            let k = headsNormRope(lin(xn, mat(p + "attn_k")), Self.kvHeads, vec(p + "attn_k_norm"), theta: theta)
            let v = lin(xn, mat(p + "attn_v"))
            var ctx = [[Double]](repeating: [Double](repeating: 0, count: Self.heads * hd), count: T)
            for h in 0..<Self.heads {
                for t in 0..<T {
                    let lo = global ? 0 : max(0, t - Self.window + 1)
                    var s = (lo...t).map { j in (0..<hd).reduce(0.0) { $0 + q[t][h * hd + $1] * k[j][$1] } / Double(hd).squareRoot() }
                    let m = s.max()!
                    s = s.map { exp($0 - m) }
                    let z = s.reduce(0, +)
                    for (jj, j) in (lo...t).enumerated() { for e in 0..<hd { ctx[t][h * hd + e] += s[jj] / z * v[j][e] } }
                }
            }
            let h1 = zip(x, lin(ctx, mat(p + "attn_output"))).map { a, o in zip(a, rms(o, vec(p + "post_attention_norm"))).map(+) }
            let hn = h1.map { rms($0, vec(p + "ffn_norm")) }
            let gelu = { (g: Double) in 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g))) }
            let act = zip(lin(hn, mat(p + "ffn_gate")), lin(hn, mat(p + "ffn_up"))).map { zip($0, $1).map { gelu($0) * $1 } }
            x = zip(h1, lin(act, mat(p + "ffn_down"))).map { a, o in zip(a, rms(o, vec(p + "post_ffw_norm"))).map(+) }
        }
        return lin(x.map { rms($0, vec("output_norm")) }, emb)
    }
}

@Suite("Gemma 3 architecture (tiny model, float64 reference)")
struct GemmaArchTests {
    let tiny = TinyGemma(seed: 11)

    func load(_ bytes: [UInt8]) throws -> LlamaModel {
        let dir = TempDir()
        return try LlamaModel.load(path: dir.write(bytes, "tiny-gemma.gguf"))
    }

    @Test func specIsReadFromTheMetadata() throws {
        let m = try load(tiny.gguf())
        let a = m.config.arch
        #expect(a.name == "gemma3" && a.qkNorm && a.postNorms && a.activation == .geluTanh && a.ropeLayout == .neox)
        #expect(a.slidingWindow == 3 && a.localRopeTheta == 10_000 && m.config.ropeTheta == 1_000_000)
        #expect((0..<6).map { a.isGlobal($0) } == [false, false, false, false, false, true])
        #expect(m.output == nil, "the head is tied to the embedding")
        #expect(m.tokenizer.bosID == 2)
    }

    @Test func forwardMatchesTheFloat64Reference() throws {
        let m = try load(tiny.gguf())
        let tokens: [Int32] = [2, 5, 6, 10, 7, 12, 9, 4]
        let got = m.forward(tokens), want = tiny.reference(tokens)
        var worst = 0.0
        for t in 0..<tokens.count {
            for j in 0..<TinyGemma.tokens.count { worst = max(worst, abs(Double(got[t, j]) - want[t][j])) }
        }
        #expect(worst < 1e-4, "max |Δlogit| = \(worst)")
        // Without the window the local layers would see the whole prefix: the reference differs.
        var wide = m
        wide.config.arch.slidingWindow = nil
        let noWindow = wide.forward(tokens)
        #expect(abs(Double(noWindow[7, 5]) - want[7][5]) > 1e-3, "the window changes the last position")
    }

    @Test func missingNormIsAClearError() throws {
        let e = #expect(throws: ModelFileError.self) { try load(tiny.gguf(drop: ["blk.4.post_ffw_norm.weight"])) }
        #expect(e?.description.contains("blk.4.post_ffw_norm.weight") == true, "\(e?.description ?? "")")
    }

    @Test func inconsistentHeadCountsAreAClearError() throws {
        let e = #expect(throws: ModelFileError.self) {
            try load(tiny.gguf { $0.set("gemma3.attention.head_count", .uint32(3)) })
        }
        // Three heads of 4 make q 12 rows; the file's q has 8: the shape check names the tensor.
        let text = e?.description ?? ""
        #expect(text.contains("tensor 'blk.0.attn_q.weight'") && text.contains("heads 3"), "\(text)")
        // Heads not divisible by the kv heads: the metadata field is named.
        let e2 = #expect(throws: ModelFileError.self) {
            try load(tiny.gguf { $0.set("gemma3.attention.head_count_kv", .uint32(3)) })
        }
        #expect(e2?.description.contains("gemma3.attention.head_count_kv") == true, "\(e2?.description ?? "")")
    }

    @Test func badSlidingWindowIsAClearError() throws {
        let e = #expect(throws: ModelFileError.self) {
            try load(tiny.gguf { $0.set("gemma3.attention.sliding_window", .uint32(0)) })
        }
        #expect(e?.description.contains("gemma3.attention.sliding_window") == true)
    }
}

@Suite("Forward pieces of other families")
struct ArchPiecesTests {
    @Test func neoxRopeIsAdjacentRopeOnPermutedRows() {
        var rng = TestRNG(seed: 5)
        let heads = 2, hd = 8, t = 5
        let x = Tensor(shape: [t, heads * hd]) { _ in rng.uniform(-1, 1) }
        let table = RoPETable(positions: t, headDim: hd, theta: 10_000)
        var neox = x
        Forward.applyRoPE(&neox, heads: heads, headDim: hd, table: table, layout: .neox)
        // Column permutation half-split → adjacent, rotate adjacent, permute back.
        func col(_ j: Int) -> Int { let h = j / hd, r = j % hd; return h * hd + (r < hd / 2 ? 2 * r : 2 * (r - hd / 2) + 1) }
        var adj = x
        for r in 0..<t { for j in 0..<(heads * hd) { adj.data[r * heads * hd + col(j)] = x[r, j] } }
        Forward.applyRoPE(&adj, heads: heads, headDim: hd, table: table)
        for r in 0..<t { for j in 0..<(heads * hd) { #expect(abs(neox[r, j] - adj[r, col(j)]) < 1e-6) } }
    }

    @Test func gegluMatchesTheFormula() {
        var g = Tensor(shape: [64]) { Float($0 - 32) / 4 }
        let u = Tensor(shape: [64]) { _ in 1.5 }
        let x = g.data
        Forward.geglu(&g, u)
        for i in 0..<64 {
            let v = Double(x[i]), want = 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))) * 1.5
            #expect(abs(Double(g.data[i]) - want) <= 2e-6 * max(1, abs(want)), "x = \(v)")
        }
    }
}
