import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// Gemma 3 270M (base), the real file: its configuration, llama.cpp's perplexity figure
/// (llama.cpp: 23.2831 on the first 50,000 characters of Pride and Prejudice, chunks of 512,
/// BOS first, the second half of each chunk scored) by a scoring loop written here and by
/// the engine's `llamaCppPerplexity`, and quantization running through its spec.
@Suite("Gemma 3 270M", .serialized)
struct GemmaModelTests {
    static let model: LlamaModel = try! LlamaModel.load(path: DataPaths.model("gemma3"))

    @Test func configurationIsTheFiles() {
        let c = Self.model.config
        #expect(c.numLayers == 18 && c.hiddenSize == 640 && c.intermediateSize == 2048)
        #expect(c.numHeads == 4 && c.numKVHeads == 1 && c.headDim == 256 && c.vocabSize == 262_144)
        #expect(c.arch.name == "gemma3" && c.arch.slidingWindow == 512 && c.ropeTheta == 1_000_000)
        #expect(Self.model.output == nil, "tied head")
        #expect(Self.model.tokenizer.bosID == 2)
    }

    @Test func llamaCppPerplexityMatchesTheReference() throws {
        let m = Self.model
        let text = String(String.UnicodeScalarView(try DataPaths.readText("austen:pride").unicodeScalars.prefix(50_000)))
        let tokens = m.tokenizer.encode(text)
        let ctx = 512, chunks = tokens.count / ctx
        #expect(chunks == 23)
        var nll = 0.0, count = 0
        for c in 0..<chunks {
            var window = Array(tokens[(c * ctx)..<((c + 1) * ctx)])
            window[0] = 2   // BOS replaces each chunk's first token
            let logits = m.forward(window)
            for j in (ctx / 2)..<(ctx - 1) {
                let row = (0..<m.config.vocabSize).map { Double(logits[j, $0]) }
                let mx = row.max()!
                let lse = mx + log(row.reduce(0) { $0 + exp($1 - mx) })
                nll += lse - row[Int(window[j + 1])]
                count += 1
            }
        }
        let ppl = exp(nll / Double(count))
        #expect(abs(ppl - 23.2831) / 23.2831 < 0.002, "ppl \(ppl) over \(count) tokens")
        // The engine's protocol (block-streamed, the head on the scored rows only, float32
        // log-softmax accumulated in double) agrees with the loop above.
        let r = try llamaCppPerplexity(view: ModelView(base: m), tokens: tokens, ctx: ctx)
        print("Gemma 3, llama.cpp protocol, first 50,000 characters of Pride and Prejudice: \(r)")
        #expect(r.windows == 23 && r.tokens == count)
        #expect(abs(r.perplexity - ppl) <= 1e-4 * ppl, "engine \(r.perplexity), loop \(ppl)")
        #expect(abs(r.perplexity - 23.2831) / 23.2831 < 0.002, "ppl \(r.perplexity)")
    }

    @Test func gptqAdaDimRunsThroughTheSpec() throws {
        let m = Self.model
        let tokens = m.tokenizer.encode(try DataPaths.readText("austen:emma"))
        let calib = try evaluationWindows(Array(tokens[1...]), windows: 2, ctx: 128)
        let q = try quantizeModel(m, options: QuantizeOptions(method: .gptq, bits: 4, group: 128, dim: .ada(.block)),
                                  calibration: calib)
        #expect(q.layers.count == 18 * 7)
        // Every module chose a dimension and its packed weights are finite.
        #expect(q.reports.allSatisfy { $0.weightMSE.isFinite })
        let ws = try evaluationWindows(Array(tokens[1...]), windows: 1, ctx: 128)
        let p = try perplexity(view: q.view, tokens: ws[0], windows: 1, ctx: 128)
        #expect(p.perplexity.isFinite && p.perplexity > 1)
    }
}
