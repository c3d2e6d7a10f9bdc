import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// The base of a model is its mapped file, decoded block by block on demand: with no
/// budget for decoded blocks (every access decodes again) the model gives bit-identical
/// weights, perplexity and quantization to the same model held in memory.
@Suite("Mapped base (SmolLM2)", .serialized)
struct MappedBaseTests {
    static let path = DataPaths.model("smollm2")
    /// An explicit budget larger than the model (the process-wide `memory` setting may be
    /// changed by other tests running at the same time).
    static let cached: LlamaModel = try! LlamaModel.load(path: path, options: LoadOptions(blockBudget: 1 << 40))
    static let streamed: LlamaModel = try! LlamaModel.load(path: path, options: LoadOptions(blockBudget: 0))
    static let pride: [Int32] = cached.tokenizer.encode(try! DataPaths.readText("austen:pride"))

    /// The same weights held in memory: every block copied out of the file into the store.
    static var inMemory: LlamaModel {
        let m = cached
        return LlamaModel(config: m.config, tokenEmbedding: m.tokenEmbedding, outputNorm: m.outputNorm, output: m.output,
                          blocks: Array(m.blocks), tokenizer: m.tokenizer, sourcePath: m.sourcePath, gguf: m.gguf)
    }

    @Test func blocksAreTheFilesTensorsAndNotKeptWithoutBudget() throws {
        let m = Self.streamed, f = try GGUFFile(path: Self.path)
        #expect(m.blocks.fileSource?.cachedBytes == 0)
        let before = m.blocks.fileSource?.decodes ?? 0
        for b in [0, 17, m.blocks.count - 1] {
            let blk = m.blocks[b]
            for k in LinearKind.allCases {
                // An independent path: the whole tensor dequantized by the file reader.
                #expect(blk[k] == (try f.tensor("blk.\(b).\(k.ggufName).weight")), "blk.\(b).\(k.ggufName)")
                #expect(m[LinearID(block: b, kind: k)] == blk[k])
            }
            #expect(blk.attnNorm == (try f.tensor("blk.\(b).attn_norm.weight")).data)
        }
        // Three block reads, three decodes: nothing was kept.
        #expect((m.blocks.fileSource?.decodes ?? 0) - before == 3)
        #expect(m.blocks.fileSource?.cachedBytes == 0)
        // A budget above the model keeps every block after load.
        #expect(Self.cached.blocks.fileSource?.cachedBytes == Self.cached.blocks.reduce(0) { $0 + $1.byteCount })
    }

    @Test func perplexityIsExactWithoutBudget() throws {
        let a = try perplexity(view: ModelView(base: Self.streamed), tokens: Self.pride, windows: 2, ctx: 256)
        let b = try perplexity(view: ModelView(base: Self.inMemory), tokens: Self.pride, windows: 2, ctx: 256)
        #expect(a.perplexity == b.perplexity)
        // The reference figure for 4 × 256 (21.76 within 0.5%, docs/results.md), through the streamed base.
        let four = try perplexity(view: ModelView(base: Self.streamed), tokens: Self.pride, windows: 4, ctx: 256)
        #expect(abs(four.perplexity - 21.76) / 21.76 < 0.005, "\(four.perplexity)")
    }

    @Test func quantizationIsExactWithoutBudget() throws {
        let calib = try evaluationWindows(Array(Self.pride[20_000...]), windows: 4, ctx: 128)
        let options = QuantizeOptions(method: .gptq, bits: 3, group: 128, dim: .ada(.block))
        let a = try quantizeModel(Self.streamed, options: options, calibration: calib)
        let b = try quantizeModel(Self.inMemory, options: options, calibration: calib)
        #expect(a.layers.count == b.layers.count)
        for id in Self.cached.linearIDs {
            #expect(a.layers[id]?.materialize() == b.layers[id]?.materialize(), "\(id)")
        }
        #expect(a.reports.map(\.dim) == b.reports.map(\.dim))
        #expect(Self.streamed.blocks.fileSource?.cachedBytes == 0)
    }
}
