import AdaCommands
import AdaEval
import AdaModel
import AdaTestSupport
import Foundation
import Testing

/// `ada bench synth`: the synthetic LLaMA loads with ada's loader, has the shapes and the
/// weight statistics asked for, is a function of its seed, and bad options are errors.
@Suite("Synthetic models")
struct SynthTests {
    static let shape = SynthShape(blocks: 2, hidden: 64, ffn: 176, heads: 4, kvHeads: 2, vocab: 600, ctx: 256)

    @Test func loadsWithTheShapesAskedFor() throws {
        let dir = TempDir()
        let r = try SynthModel.write(Self.shape, seed: 7, to: dir.file("m.gguf"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: dir.file("m.gguf"))[.size] as? Int)
        #expect(r.bytes == size)
        let m = try LlamaModel.load(path: dir.file("m.gguf"))
        let c = m.config
        let sizes: [Int] = [c.numLayers, c.hiddenSize, c.intermediateSize, c.numHeads, c.numKVHeads, c.headDim, c.vocabSize, c.contextLength]
        #expect(sizes == [2, 64, 176, 4, 2, 16, 600, 256])
        #expect(m.tokenizer.vocabularySize == 600)
        #expect(m.tokenEmbedding.shape == [600, 64])
        #expect(m.output?.shape == [600, 64])
        let b = m.blocks[1]
        #expect(b.q.shape == [64, 64] && b.k.shape == [32, 64] && b.v.shape == [32, 64] && b.o.shape == [64, 64])
        #expect(b.gate.shape == [176, 64] && b.up.shape == [176, 64] && b.down.shape == [64, 176])
        let ones = b.attnNorm.allSatisfy { $0 == 1 } && b.ffnNorm.allSatisfy { $0 == 1 } && m.outputNorm.allSatisfy { $0 == 1 }
        #expect(ones)
        // 2 blocks × (2·64 + 64·64·2 + 32·64·2 + 176·64·3) + 2·600·64 + 64
        #expect(r.parameters == 2 * (128 + 8192 + 4096 + 33792) + 76800 + 64)
        for t in [m.tokenEmbedding, b.q, b.down, m.output!] {
            let d = t.data.map(Double.init)
            let finite = d.allSatisfy { $0.isFinite }
            #expect(finite)
            let mean = d.reduce(0, +) / Double(d.count)
            let std = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count)).squareRoot()
            #expect(abs(mean) < 0.002, "mean \(mean)")
            expectClose(std, 0.02, rel: 0.06, "std of \(t.shape)")
        }
    }

    @Test func theSeedDecidesTheFile() throws {
        let dir = TempDir()
        try SynthModel.write(Self.shape, seed: 1, to: dir.file("a.gguf"))
        try SynthModel.write(Self.shape, seed: 1, to: dir.file("b.gguf"))
        try SynthModel.write(Self.shape, seed: 2, to: dir.file("c.gguf"))
        let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("a.gguf")))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir.file("b.gguf")))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: dir.file("c.gguf")))))
        // Only the temporary file's rename makes the target: nothing else is left in the folder.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.gguf", "b.gguf", "c.gguf"])
    }

    @Test func perplexityRunsAndIsFinite() throws {
        let dir = TempDir()
        try SynthModel.write(Self.shape, seed: 3, to: dir.file("m.gguf"))
        let m = try LlamaModel.load(path: dir.file("m.gguf"))
        let toks = m.tokenizer.encode(String(repeating: "It is a truth universally acknowledged, that a single man. ", count: 20))
        let inRange = toks.allSatisfy { $0 >= 0 && Int($0) < 600 }
        #expect(inRange && toks.count > 200)
        let r = try AdaEval.perplexity(model: m, tokens: toks, windows: 2, ctx: 64)
        #expect(r.perplexity.isFinite && r.perplexity > 1)
        // Near-zero weights: close to uniform over the vocabulary.
        #expect(r.perplexity > 300 && r.perplexity < 1200, "ppl \(r.perplexity)")
    }

    @Test func theCommandWritesAndReports() throws {
        let dir = TempDir()
        #expect(AdaCLI.main(["bench", "synth", "--out", dir.file("m.gguf"), "--blocks", "1", "--vocab", "300", "--seed", "5"]) == 0)
        let m = try LlamaModel.load(path: dir.file("m.gguf"))
        #expect(m.config.numLayers == 1 && m.config.vocabSize == 300 && m.config.hiddenSize == 64)
    }

    @Test func badOptionsAreErrors() throws {
        func usage(_ extra: [String]) -> String? { AdaCLI.usageError(["bench", "synth", "--out", "/tmp/x.gguf"] + extra) }
        #expect(usage([]) == nil)
        #expect(usage(["--preset", "llama2-7b"]) == nil)
        #expect(usage(["--hidden", "66"])?.contains("not divisible by --heads 4") == true)
        #expect(usage(["--blocks", "0"])?.contains("--blocks must be a positive integer") == true)
        #expect(usage(["--ffn", "-3"])?.contains("--ffn") == true)
        #expect(usage(["--heads", "8", "--kv-heads", "3", "--hidden", "64"])?.contains("not divisible by --kv-heads 3") == true)
        #expect(usage(["--hidden", "96", "--heads", "32"])?.contains("must be even") == true)
        #expect(usage(["--vocab", "100"])?.contains("--vocab must be between 259") == true)
        #expect(usage(["--hidden", "16777215", "--heads", "1"]) != nil)
        #expect(usage(["--hidden", "8000000", "--ffn", "16000000", "--blocks", "16000000", "--heads", "1", "--kv-heads", "1"])?.contains("overflows") == true)
        #expect(usage(["--seed", "-1"]) != nil)
        #expect(usage(["--preset", "gpt5"])?.contains("llama2-7b") == true)
        #expect(AdaCLI.usageError(["bench", "synth", "--out", "/no/such/folder/x.gguf"])?.contains("no such folder") == true)
        #expect(AdaCLI.usageError(["bench", "synth"])?.contains("--out") == true)
        #expect(throws: (any Error).self) { try SynthModel.write(SynthShape.tiny, seed: 0, to: "/no/such/folder/x.gguf") }
    }

    @Test func presetsHaveTheKnownSizes() {
        #expect(SynthShape.llama2_7b.parameterCount == 6_738_415_616)
        #expect(SynthShape.smollm2.parameterCount == 134_515_008)
    }
}
