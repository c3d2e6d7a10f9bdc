import AdaEval
import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// The NLL of `chunk[j + 1]` for each row `j` in `rows`, from double-precision logits `[T][vocab]`.
private func scoredNLLs(_ logits: [[Double]], _ chunk: [Int32], rows: Range<Int>) -> [Double] {
    rows.map { j in
        let row = logits[j]
        let mx = row.max()!
        return mx + log(row.reduce(0) { $0 + exp($1 - mx) }) - row[Int(chunk[j + 1])]
    }
}

/// llama.cpp's perplexity protocol (`llamaCppChunks`, `llamaCppPerplexity`) on a tiny LLaMA whose
/// logits come from an independent float64 forward pass (`TinyLlama.referenceLogits`).
@Suite("llama.cpp perplexity protocol (tiny model)")
struct LlamaCppProtocolTests {
    /// The tiny model's HuggingFace-layout weights, for the reference forward pass.
    static let hfWeights = TinyLlama(seed: 41).hfWeights
    static let dir = TempDir()
    static let model: LlamaModel = {
        let path = dir.write(TinyLlama(seed: 41).ggufBytes(), "tiny.gguf")
        return try! LlamaModel.load(path: path)
    }()
    static let tokens: [Int32] = (0..<70).map { Int32(($0 * 37 + 11) % TinyLlama.vocab) }

    @Test func chunksAreCutFromTokenZeroWithBOSFirst() throws {
        let t = Self.tokens
        // 70 tokens hold 4 whole chunks of 16; the last 6 tokens fill none and are dropped.
        let plain = try llamaCppChunks(t, ctx: 16, bos: nil)
        #expect(plain.count == 4)
        for c in 0..<4 { #expect(plain[c] == Array(t[(c * 16)..<(c * 16 + 16)])) }
        // A tokenizer that adds BOS: BOS replaces each chunk's first token, the rest is unchanged.
        let withBOS = try llamaCppChunks(t, ctx: 16, bos: 7)
        for c in 0..<4 {
            #expect(withBOS[c][0] == 7 && Array(withBOS[c][1...]) == Array(plain[c][1...]))
        }
        // chunks= takes the first chunks.
        #expect(try llamaCppChunks(t, ctx: 16, chunks: 2, bos: nil) == Array(plain[0..<2]))
        #expect(try llamaCppChunks(t, ctx: 70, bos: nil).count == 1)
    }

    @Test func secondHalfOfEachChunkIsScored() throws {
        let m = Self.model, ctx = 16
        #expect(m.tokenizer.bosID == nil)
        let r = try llamaCppPerplexity(view: ModelView(base: m), tokens: Self.tokens, ctx: ctx)
        // 4 chunks, rows 8…14 of each scored (they predict tokens 9…15): 4 × 7 tokens.
        #expect(r.windows == 4 && r.context == ctx && r.tokens == 4 * 7 && r.method == .llamaCpp)
        var total = 0.0, count = 0
        for c in 0..<4 {
            let chunk = Array(Self.tokens[(c * ctx)..<((c + 1) * ctx)])
            let logits = TinyLlama.referenceLogits(hf: Self.hfWeights, tokens: chunk)
            let nll = scoredNLLs(logits, chunk, rows: (ctx / 2)..<(ctx - 1))
            total += nll.reduce(0, +)
            count += nll.count
        }
        #expect(count == r.tokens)
        #expect(relClose(r.nll, total / Double(count), 1e-5), "nll \(r.nll), reference \(total / Double(count))")
        #expect(abs(r.perplexity - exp(r.nll)) <= 1e-12 * r.perplexity)
        #expect(r.description.contains("4 chunks × 16"))
        // ada's protocol on the same text scores every position of 4 windows: another number.
        let ada = try perplexity(model: m, tokens: Self.tokens, windows: 4, ctx: ctx)
        #expect(ada.tokens == 4 * 15 && ada.nll != r.nll)
    }

    @Test func batchesAndViewsGiveTheSameNumbers() throws {
        let m = Self.model
        let full = try llamaCppPerplexity(view: ModelView(base: m), tokens: Self.tokens, ctx: 16)
        // Batches of one chunk run the blocks four times: the same numbers, bit for bit.
        let one = try llamaCppPerplexity(view: ModelView(base: m), tokens: Self.tokens, ctx: 16, batch: 1)
        #expect(one.nll == full.nll)
        // A view with a replaced layer, block-streamed = the materialized model.
        let id = LinearID(block: 1, kind: .v)
        let view = ModelView(base: m).replacing(id, with: m[id].map { $0 * 0.5 })
        let streamed = try llamaCppPerplexity(view: view, tokens: Self.tokens, ctx: 16, batch: 3)
        let materialized = try llamaCppPerplexity(view: ModelView(base: view.materialized()), tokens: Self.tokens, ctx: 16)
        #expect(streamed.nll == materialized.nll && streamed.nll != full.nll)
        // The first two chunks alone.
        let two = try llamaCppPerplexity(view: ModelView(base: m), tokens: Self.tokens, ctx: 16, chunks: 2)
        #expect(two.windows == 2 && two.tokens == 14)
    }

    @Test func progressAndCancellation() throws {
        let m = Self.model
        var calls: [(Int, Int)] = []
        _ = try llamaCppPerplexity(view: ModelView(base: m), tokens: Self.tokens, ctx: 16, batch: 3) { calls.append(($0, $1)) }
        // Two batches (3 + 1 chunks) through the 2 blocks, then 4 chunks through the head: 8 steps.
        #expect(calls.map(\.0) == Array(1...8) && calls.allSatisfy { $0.1 == 8 })
        #expect(throws: CancellationError.self) {
            try llamaCppPerplexity(view: ModelView(base: m), tokens: Self.tokens, ctx: 16, shouldStop: { true })
        }
    }

    @Test func textPrefixCountsCharacters() throws {
        #expect(try textPrefix("Café déjà vu", chars: 4) == "Café")
        #expect(try textPrefix("abc", chars: 0) == "abc")
        #expect(try textPrefix("abc", chars: 10) == "abc")
    }
}

/// The real models against llama.cpp's figures: `llama-perplexity -c 512` on the first 50,000
/// characters of Pride and Prejudice, F32 weights (the exact dequantization), CPU.
@Suite("llama.cpp perplexity protocol (SmolLM2)", .serialized)
struct LlamaCppSmolLM2Tests {
    @Test func prideAndPrejudiceFirst50000Characters() throws {
        let m = try LlamaModel.load(path: DataPaths.model("smollm2"))
        let text = try textPrefix(try DataPaths.readText("austen:pride"), chars: 50_000)
        #expect(text.unicodeScalars.count == 50_000)
        let tokens = m.tokenizer.encode(text)
        // SmolLM2's tokenizer adds no BOS (add_bos_token is false): the chunks are the text's tokens.
        #expect(m.tokenizer.bosID == nil)
        let r = try llamaCppPerplexity(view: ModelView(base: m), tokens: tokens, ctx: 512)
        print("SmolLM2, llama.cpp protocol, first 50,000 characters of Pride and Prejudice: \(r)")
        // llama.cpp: 24 chunks, PPL 21.4687.
        #expect(r.windows == 24 && r.tokens == 24 * 255)
        #expect(abs(r.perplexity - 21.4687) <= 21.4687 * 0.002, "ppl \(r.perplexity)")
    }
}
