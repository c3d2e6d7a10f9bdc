import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// Generation with a KV cache: at every step the cached decoder's logits equal the full
/// forward pass (no cache) over the whole sequence so far, and its greedy token is that
/// pass's argmax; for SmolLM2, Gemma 3 (real files), a quantized view, and a synthetic
/// model with sliding-window layers shorter than the sequence. Sampling is reproducible.
@Suite("Generation", .serialized)
struct GenerateTests {
    static let smol: LlamaModel = try! LlamaModel.load(path: DataPaths.model("smollm2"))
    static let gemma: LlamaModel = try! LlamaModel.load(path: DataPaths.model("gemma3"))
    static let prompt = "The old house at the end of the lane had been empty for years, and"

    /// Drives the decoder greedily for `steps` tokens; at each step compares its logits with the
    /// last row of `reference(sequence)` (the full pass) and its pick with that row's argmax.
    /// Returns the tokens written.
    func checkAgainstFullPass(_ view: ModelView, prompt: [Int32], steps: Int, tolerance: Float,
                              reference: ([Int32]) -> Tensor) throws -> [Int32] {
        let decoder = KVDecoder(view: view, capacity: prompt.count + steps)
        var seq = prompt, written: [Int32] = []
        var logits = try decoder.append(prompt)
        for step in 0..<steps {
            let full = reference(seq)
            let last = Array(full.row(full.shape[0] - 1))
            let scale = last.map(abs).max()!
            let diff = zip(logits, last).map { abs($0 - $1) }.max()!
            #expect(diff <= tolerance * scale, "step \(step): cached logits differ from the full pass by \(diff) (scale \(scale))")
            let want = Sampler.argmax(last)
            #expect(Sampler.argmax(logits) == want, "step \(step): cached argmax \(Sampler.argmax(logits)), full pass \(want)")
            seq.append(want)
            written.append(want)
            if step + 1 < steps { logits = try decoder.append([want]) }
        }
        #expect(decoder.length == prompt.count + steps - 1)
        return written
    }

    @Test func smolLM2GreedyEqualsFullPassArgmax() throws {
        let m = Self.smol, ids = m.tokenizer.encode(Self.prompt)
        let view = ModelView(base: m)
        let written = try checkAgainstFullPass(view, prompt: ids, steps: 32, tolerance: 1e-4) { m.forward($0) }
        let g = try generate(view: view, prompt: ids, maxTokens: 32, stopAtEnd: false)
        #expect(g.tokens == written && g.stop == .length && g.decodeSteps == 31)
        #expect(g.text == continuationText(m.tokenizer, prompt: ids, tokens: written))
        #expect(!g.text.isEmpty)
    }

    @Test func gemma3GreedyEqualsFullPassArgmax() throws {
        let m = Self.gemma, ids = m.tokenizer.encode(Self.prompt)
        #expect(ids.first == 2, "Gemma's prompt starts with BOS")
        let view = ModelView(base: m)
        let written = try checkAgainstFullPass(view, prompt: ids, steps: 32, tolerance: 1e-4) { m.forward($0) }
        let g = try generate(view: view, prompt: ids, maxTokens: 32, stopAtEnd: false)
        #expect(g.tokens == written)
    }

    @Test func quantizedViewGreedyEqualsFullPassOfItsWeights() throws {
        let m = Self.smol, ids = m.tokenizer.encode(Self.prompt)
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 4, group: 128, dim: .fixed(.oc)))
        let dense = q.view.materialized()
        let written = try checkAgainstFullPass(q.view, prompt: ids, steps: 32, tolerance: 1e-4) { dense.forward($0) }
        let full = try generate(view: ModelView(base: m), prompt: ids, maxTokens: 32, stopAtEnd: false)
        // The 4-bit model writes its own text (it is a different model), not the original's.
        #expect(written != full.tokens, "RTN w4 wrote exactly the full-precision tokens")
    }

    /// A synthetic Gemma-like model (QK-norm, post-norms, GeGLU, NEOX RoPE with a local base)
    /// whose sliding window (3) is much shorter than the 20 positions run, every second layer
    /// global: the cache must drop the keys outside each local layer's window.
    @Test func slidingWindowLayersMatchTheFullPass() throws {
        var rng = TestRNG(seed: 11)
        let hidden = 16, heads = 2, kvHeads = 1, hd = 8, ffn = 24, vocab = 40, layers = 4
        var arch = ArchSpec.gemma3(hidden: hidden, headDim: hd, window: 3)
        arch.slidingPattern = 2
        let cfg = LlamaConfig(vocabSize: vocab, hiddenSize: hidden, intermediateSize: ffn, numLayers: layers,
                              numHeads: heads, numKVHeads: kvHeads, headDim: hd, ropeTheta: 1000, rmsNormEps: 1e-6,
                              contextLength: 64, arch: arch)
        func t(_ r: Int, _ c: Int) -> Tensor { Tensor(shape: [r, c], data: (0..<(r * c)).map { _ in rng.normal() * 0.4 }) }
        func v(_ n: Int) -> [Float] { (0..<n).map { _ in 1 + rng.uniform(-0.3, 0.3) } }
        let blocks = (0..<layers).map { i in
            LlamaBlock(attnNorm: v(hidden), ffnNorm: v(hidden), q: t(heads * hd, hidden), k: t(kvHeads * hd, hidden),
                       v: t(kvHeads * hd, hidden), o: t(hidden, heads * hd), gate: t(ffn, hidden), up: t(ffn, hidden),
                       down: t(hidden, ffn), qNorm: v(hd), kNorm: v(hd), postAttnNorm: v(hidden), postFFNNorm: v(hidden), index: i)
        }
        let tok = BPETokenizer(tokens: (0..<vocab).map { "t\($0)" }, merges: [], preTokenizer: .gpt2)
        let m = LlamaModel(config: cfg, tokenEmbedding: t(vocab, hidden), outputNorm: v(hidden), output: nil,
                           blocks: blocks, tokenizer: tok, sourcePath: "")
        #expect(!arch.isGlobal(0) && arch.isGlobal(1))
        _ = try checkAgainstFullPass(ModelView(base: m), prompt: [3, 17, 5], steps: 17, tolerance: 1e-4) { m.forward($0) }
    }

    @Test func seededSamplesRepeatAndDependOnTheSeed() throws {
        let m = Self.smol, ids = m.tokenizer.encode(Self.prompt), view = ModelView(base: m)
        func sample(_ seed: UInt64) throws -> [Int32] {
            try generate(view: view, prompt: ids, maxTokens: 24, sampling: Sampling(temperature: 1, topP: 0.95, seed: seed),
                         stopAtEnd: false).tokens
        }
        let a = try sample(42), b = try sample(42), c = try sample(43)
        #expect(a == b)
        #expect(a != c)
        let greedy = try generate(view: view, prompt: ids, maxTokens: 24, stopAtEnd: false).tokens
        #expect(a != greedy, "temperature 1 wrote the greedy text")
        // top_k = 1 keeps the most likely token only: greedy, whatever the temperature and seed.
        let k1 = try generate(view: view, prompt: ids, maxTokens: 24, sampling: Sampling(temperature: 0.8, topK: 1, seed: 5),
                              stopAtEnd: false).tokens
        #expect(k1 == greedy)
    }

    @Test func generationStopsAtTheEndToken() throws {
        let m = Self.smol
        #expect(!m.tokenizer.endIDs.isEmpty)
        #expect(Self.gemma.tokenizer.endIDs.count == 2, "EOS and <end_of_turn>")
        #expect(Self.gemma.tokenizer.endIDs.contains(1) && Self.gemma.tokenizer.token(106) == "<end_of_turn>"
                && Self.gemma.tokenizer.endIDs.contains(106))
        // Greedy SmolLM2 ends this answer by itself: the token after the text is an end id
        // by the full pass too.
        let ids = m.tokenizer.encode("The capital of France is")
        let g = try generate(view: ModelView(base: m), prompt: ids, maxTokens: 64)
        #expect(g.stop == .end && g.tokens.count < 64)
        #expect(g.tokens.allSatisfy { !m.tokenizer.endIDs.contains($0) })
        #expect(m.tokenizer.endIDs.contains(Sampler.argmax(Array(m.forward(ids + g.tokens).row(ids.count + g.tokens.count - 1)))))
        var calls = 0
        let stopped = try generate(view: ModelView(base: m), prompt: ids, maxTokens: 20, stopAtEnd: false,
                                   shouldStop: { calls += 1; return calls >= 3 })
        #expect(stopped.stop == .interrupted && stopped.tokens.count == 3)
    }

    @Test func samplerFrequenciesFollowTheTemperedSoftmax() {
        // p ∝ exp(l / T): logits [0, ln 3] at T = 1 give 1/4, 3/4; at T = 2, 1/(1+√3), √3/(1+√3).
        func frequency(_ logits: [Float], _ s: Sampling, of id: Int32, draws: Int = 20_000) -> Double {
            var sampler = Sampler(s)
            return Double((0..<draws).filter { _ in sampler.pick(logits) == id }.count) / Double(draws)
        }
        let l: [Float] = [0, Float(log(3.0))]
        #expect(abs(frequency(l, Sampling(temperature: 1, seed: 1), of: 1) - 0.75) < 0.015)
        #expect(abs(frequency(l, Sampling(temperature: 2, seed: 2), of: 1) - 3.0.squareRoot() / (1 + 3.0.squareRoot())) < 0.015)
        // top_p = 0.6 over p = [0.2, 0.5, 0.3] keeps {1, 2} (0.5 < 0.6 ≤ 0.8): renormalised 5/8, 3/8.
        let p: [Float] = [0.2, 0.5, 0.3].map { Float(log($0)) }
        #expect(frequency(p, Sampling(temperature: 1, topP: 0.6, seed: 3), of: 0) == 0)
        #expect(abs(frequency(p, Sampling(temperature: 1, topP: 0.6, seed: 3), of: 1) - 0.625) < 0.015)
        // top_k = 2 keeps the same two tokens.
        #expect(frequency(p, Sampling(temperature: 1, topK: 2, seed: 4), of: 0) == 0)
        #expect(abs(frequency(p, Sampling(temperature: 1, topK: 2, seed: 4), of: 2) - 0.375) < 0.015)
        #expect(Sampler.argmax([1, 3, 3, 2]) == 1, "ties go to the lowest id")
    }

    @Test func badArgumentsNameTheirOrigin() throws {
        let m = Self.smol, view = ModelView(base: m), ids = m.tokenizer.encode("Hello")
        func origin(_ body: () throws -> Void) -> EvalError.Origin? {
            do { try body() } catch let e as EvalError { return e.origin } catch { return nil }
            return nil
        }
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: 0) } == .tokens)
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: m.config.contextLength) } == .tokens)
        #expect(origin { _ = try generate(view: view, prompt: [], maxTokens: 4) } == .prompt)
        #expect(origin { _ = try generate(view: view, prompt: [Int32(m.config.vocabSize)], maxTokens: 4) } == .prompt)
        #expect(origin { _ = try generate(view: ModelView(base: Self.gemma), prompt: [2], maxTokens: 4) } == .prompt)
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: 4, sampling: Sampling(temperature: -1)) } == .temperature)
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: 4, sampling: Sampling(temperature: .nan)) } == .temperature)
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: 4, sampling: Sampling(topK: -1)) } == .topK)
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: 4, sampling: Sampling(topP: 0)) } == .topP)
        #expect(origin { _ = try generate(view: view, prompt: ids, maxTokens: 4, sampling: Sampling(topP: 1.5)) } == .topP)
    }
}
