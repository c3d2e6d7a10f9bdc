import AdaEval
import AdaModel
import AdaTensor
import Foundation
import Testing

@Suite("Token NLLs")
struct TokenNLLTests {
    @Test func handComputedLogSoftmax() {
        // Row 0 = (1, 2, 3, 4), next token 3: NLL = logsumexp − 4 = log(1 + e⁻¹ + e⁻² + e⁻³)
        //   = log(1 + 0.36787944 + 0.13533528 + 0.04978707) = log(1.55300179) = 0.44018970.
        // Row 1 = (0, 0, 0, 0), next token 1: NLL = log 4 = 1.38629436.
        // Row 2 is never used (no token follows the last position).
        let logits = Tensor(shape: [3, 4], data: [1, 2, 3, 4, 0, 0, 0, 0, 9, 9, 9, 9])
        let nll = tokenNLLs(logits: logits, tokens: [0, 3, 1])
        #expect(nll.count == 2)
        #expect(abs(nll[0] - 0.44018970) < 1e-6)
        #expect(abs(nll[1] - 1.38629436) < 1e-6)
        // Predicting token 0 from row 0: logsumexp − 1 = 3 + 0.44018970.
        #expect(abs(tokenNLLs(logits: logits, tokens: [0, 0, 0])[0] - 3.44018970) < 1e-6)
    }

    @Test func extremeLogitsAreStable() {
        // (1000, 0, −1000): logsumexp = 1000 + log(1 + e⁻¹⁰⁰⁰ + …) = 1000 to double precision.
        let logits = Tensor(shape: [2, 3], data: [1000, 0, -1000, 0, 0, 0])
        let a = tokenNLLs(logits: logits, tokens: [0, 0, 0])
        let b = tokenNLLs(logits: logits, tokens: [0, 1, 0])
        let c = tokenNLLs(logits: logits, tokens: [0, 2, 0])
        #expect(abs(a[0]) < 1e-6)
        #expect(abs(b[0] - 1000) < 1e-3)
        #expect(abs(c[0] - 2000) < 1e-3)
        #expect(a.allSatisfy { $0.isFinite })
    }

    @Test func wideUniformRows() {
        // 1000 equal logits (crossing the 256-wide accumulation chunks): NLL = log 1000 = 6.90775528.
        // 5000 logits, all 0 but one at log 5000: Σ exp = 4999 + 5000 = 9999, so that token's
        // NLL = log 9999 − log 5000 = log 1.9998 = 0.69304718, and any other token's is log 9999.
        let v = 1000
        let u = Tensor(repeating: 0.25, shape: [2, v])
        #expect(abs(tokenNLLs(logits: u, tokens: [0, 123])[0] - 6.90775528) < 1e-5)
        var row = [Float](repeating: 0, count: 5000)
        row[4321] = Float(Foundation.log(5000.0))
        let w = Tensor(shape: [2, 5000], data: row + row)
        let nll = tokenNLLs(logits: w, tokens: [0, 4321])
        #expect(abs(nll[0] - 0.69304718) < 1e-5)
        #expect(abs(tokenNLLs(logits: w, tokens: [0, 1])[0] - (Foundation.log(9999.0))) < 1e-5)
    }

    @Test func onlyTheNextTokenMatters() {
        // Position r's loss depends on tokens[r + 1] only; token 0 is never scored.
        let logits = Tensor(shape: [3, 2], data: [0, 1, 1, 0, 5, 5])
        let a = tokenNLLs(logits: logits, tokens: [0, 1, 0])
        let b = tokenNLLs(logits: logits, tokens: [1, 1, 0])
        #expect(a == b)
        // log(1 + e) − 1 = 0.31326169 for the favoured token, log(1 + e) = 1.31326169 otherwise.
        #expect(abs(a[0] - 0.31326169) < 1e-6)
        #expect(abs(a[1] - 0.31326169) < 1e-6)
        #expect(abs(tokenNLLs(logits: logits, tokens: [0, 0, 1])[1] - 1.31326169) < 1e-6)
    }
}

@Suite("Evaluation windows")
struct WindowTests {
    let tokens: [Int32] = Array(0..<10)

    @Test func cuts() throws {
        #expect(try evaluationWindows(tokens, windows: 3, ctx: 3) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
        #expect(try evaluationWindows(tokens, windows: 1, ctx: 10) == [Array(0..<10)])
        #expect(try evaluationWindows(tokens, windows: 2, ctx: 4) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(try evaluationWindows(tokens, windows: 5, ctx: 2) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])
        #expect(try evaluationWindows(tokens, windows: 1, ctx: 2) == [[0, 1]])
    }

    @Test func errors() {
        #expect(throws: EvalError.self) { try evaluationWindows(tokens, windows: 4, ctx: 3) }
        #expect(throws: EvalError.self) { try evaluationWindows(tokens, windows: 1, ctx: 11) }
        #expect(throws: EvalError.self) { try evaluationWindows(tokens, windows: 1, ctx: 1) }
        #expect(throws: EvalError.self) { try evaluationWindows(tokens, windows: 1, ctx: 0) }
        #expect(throws: EvalError.self) { try evaluationWindows(tokens, windows: 0, ctx: 2) }
        #expect(throws: EvalError.self) { try evaluationWindows(tokens, windows: -1, ctx: 2) }
        #expect(throws: EvalError.self) { try evaluationWindows([], windows: 1, ctx: 2) }
        do {
            _ = try evaluationWindows(tokens, windows: 4, ctx: 3)
        } catch let e as EvalError {
            #expect(e.description.contains("10 tokens") && e.description.contains("3 windows"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// A tiny random LLaMA (2 blocks, hidden 8, 2 heads, 1 KV head, FFN 12, vocab 20), written as
/// a GGUF file and loaded through the public loader.
private func tinyModel() throws -> LlamaModel {
    var state: UInt64 = 12345
    func r(_ scale: Float) -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    func t(_ s: [Int], _ scale: Float) -> GGUFWriter.Payload { .f32(Tensor(shape: s) { _ in r(scale) }) }
    var w = GGUFWriter()
    w.set("general.architecture", .string("llama"))
    w.set("llama.block_count", .uint32(2))
    w.set("llama.embedding_length", .uint32(8))
    w.set("llama.feed_forward_length", .uint32(12))
    w.set("llama.attention.head_count", .uint32(2))
    w.set("llama.attention.head_count_kv", .uint32(1))
    w.set("tokenizer.ggml.model", .string("gpt2"))
    w.set("tokenizer.ggml.tokens", .array((0..<20).map { .string(String(UnicodeScalar(UInt8(97 + $0)))) }))
    w.set("tokenizer.ggml.merges", .array([]))
    w.add("token_embd.weight", t([20, 8], 1))
    w.add("output_norm.weight", .f32(Tensor(repeating: 1, shape: [8])))
    for b in 0..<2 {
        let p = "blk.\(b)."
        w.add(p + "attn_norm.weight", .f32(Tensor(repeating: 1, shape: [8])))
        w.add(p + "ffn_norm.weight", .f32(Tensor(repeating: 1, shape: [8])))
        w.add(p + "attn_q.weight", t([8, 8], 0.5))
        w.add(p + "attn_k.weight", t([4, 8], 0.5))
        w.add(p + "attn_v.weight", t([4, 8], 0.5))
        w.add(p + "attn_output.weight", t([8, 8], 0.5))
        w.add(p + "ffn_gate.weight", t([12, 8], 0.5))
        w.add(p + "ffn_up.weight", t([12, 8], 0.5))
        w.add(p + "ffn_down.weight", t([8, 12], 0.5))
    }
    let path = FileManager.default.temporaryDirectory.path + "/ada-eval-tiny-\(UUID().uuidString).gguf"
    try w.write(to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try LlamaModel.loadGGUF(path)
}

@Suite("Perplexity on a tiny model")
struct TinyPerplexityTests {
    @Test func perplexityIsExpOfMeanWindowNLL() throws {
        let m = try tinyModel()
        let tokens: [Int32] = (0..<50).map { Int32(($0 * 7 + 3) % 20) }
        let res = try perplexity(model: m, tokens: tokens, windows: 3, ctx: 16)
        var total = 0.0
        for w in 0..<3 {
            let win = Array(tokens[(w * 16)..<((w + 1) * 16)])
            total += tokenNLLs(logits: m.forward(win), tokens: win).reduce(0, +)
        }
        let mean = total / 45
        #expect(res.tokens == 45)
        #expect(res.windows == 3 && res.context == 16)
        // perplexity() may compute the head in chunks (different GEMM shapes): allow float noise.
        #expect(abs(res.nll - mean) < 1e-6)
        #expect(abs(res.perplexity - exp(res.nll)) < 1e-12 * res.perplexity)
        #expect(res.perplexity > 1)
        #expect(res.tokensPerSecond > 0)
        #expect(res.description.contains("3 × 16"))
    }

    @Test func progressCancellationAndErrors() throws {
        let m = try tinyModel()
        let tokens: [Int32] = (0..<40).map { Int32($0 % 20) }
        var calls: [(Int, Int)] = []
        _ = try perplexity(model: m, tokens: tokens, windows: 4, ctx: 8) { calls.append(($0, $1)) }
        // Progress counts the 2 blocks (all windows through each), then the 4 windows through
        // the output head: 6 steps.
        #expect(calls.map(\.0) == [1, 2, 3, 4, 5, 6] && calls.allSatisfy { $0.1 == 6 })
        #expect(throws: CancellationError.self) {
            try perplexity(model: m, tokens: tokens, windows: 2, ctx: 8, shouldStop: { true })
        }
        #expect(throws: EvalError.self) { try perplexity(model: m, tokens: tokens, windows: 6, ctx: 8) }
    }
}

/// The real model and the tokenized evaluation text, loaded once for the suite.
private enum Real {
    static let model: LlamaModel? = try? LlamaModel.load(path: DataPaths.model("smollm2"))
    static let prideTokens: [Int32]? = {
        guard let m = model, let text = try? DataPaths.readText("austen:pride") else { return nil }
        return m.tokenizer.encode(text)
    }()
}

@Suite("SmolLM2 perplexity (docs/reference.md §4)", .serialized)
struct RealPerplexityTests {
    @Test func prideAndPrejudice8x512() throws {
        let m = try #require(Real.model, "model missing: run scripts/setup")
        let tokens = try #require(Real.prideTokens)
        let r = try perplexity(model: m, tokens: tokens, windows: 8, ctx: 512)
        #expect(r.tokens == 8 * 511)
        print("SmolLM2 Pride and Prejudice 8 × 512: \(r)")
        #expect(abs(r.perplexity - 22.37) <= 22.37 * 0.005, "ppl \(r.perplexity)")
    }

    @Test func prideAndPrejudice4x256() throws {
        let m = try #require(Real.model, "model missing: run scripts/setup")
        let tokens = try #require(Real.prideTokens)
        let r = try perplexity(model: m, tokens: tokens, windows: 4, ctx: 256)
        #expect(r.tokens == 4 * 255)
        print("SmolLM2 Pride and Prejudice 4 × 256: \(r)")
        #expect(abs(r.perplexity - 21.76) <= 21.76 * 0.005, "ppl \(r.perplexity)")
    }
}
