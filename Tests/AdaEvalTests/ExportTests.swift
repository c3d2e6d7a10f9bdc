import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// Export round trips on the real SmolLM2 (fetched by scripts/setup).
@Suite("Export round trips (SmolLM2)", .serialized)
struct ExportTests {
    static let model: LlamaModel = try! LlamaModel.load(path: DataPaths.model("smollm2"))
    static let pride: [Int32] = model.tokenizer.encode(try! DataPaths.readText("austen:pride"))

    func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ada-export-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test func fakeQuantGGUFReloadsWithSamePerplexity() throws {
        let m = Self.model
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 3, group: 128, dim: .fixed(.ic)))
        let path = tempPath("rtn-w3-ic.gguf")
        let qm = q.model   // materialized once
        try exportGGUF(qm, to: path, as: .f32)
        let back = try LlamaModel.load(path: path)
        // Same weights, bit for bit, and the original tokenizer and metadata.
        for id in m.linearIDs { #expect(back[id] == qm[id], "\(id)") }
        #expect(back.tokenEmbedding == m.tokenEmbedding)
        #expect(back.gguf?.string("general.architecture") == "llama")
        #expect(back.tokenizer.encode("Hello world! 123") == [19556, 905, 17, 216, 33, 34, 35])
        let a = try AdaEval.perplexity(model: qm, tokens: Self.pride, windows: 8, ctx: 512)
        let b = try AdaEval.perplexity(model: back, tokens: Self.pride, windows: 8, ctx: 512)
        #expect(abs(a.perplexity - b.perplexity) <= 0.01, "\(a.perplexity) vs \(b.perplexity)")
        // Quantization really changed the model (the test would pass trivially otherwise).
        let fp = try AdaEval.perplexity(model: m, tokens: Self.pride, windows: 8, ctx: 512)
        #expect(a.perplexity > fp.perplexity + 1)

        // F16: weights are the F16 rounding of the fake-quant weights.
        let p16 = tempPath("rtn-w3-ic-f16.gguf")
        try exportGGUF(qm, to: p16, as: .f16)
        let back16 = try LlamaModel.load(path: p16)
        let id = LinearID(block: 3, kind: .down)
        #expect(back16[id] == qm[id].roundedToHalf())
        #expect(back16.gguf?.info("blk.3.ffn_down.weight")?.type == .f16)
    }

    @Test func nativeGGUFKeepsPerOCLayersInGGMLBlocks() throws {
        let m = Self.model
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 4, group: 128, dim: .fixed(.oc)))
        let path = tempPath("rtn-w4-oc-native.gguf")
        let written = try exportGGUF(q, to: path, as: .native)
        let back = try LlamaModel.load(path: path)
        let src = m.gguf!
        for id in m.linearIDs {
            let t = written.first { $0.layer == id }!
            // 4-bit min/max codes: Q4_1, or Q4_0 where every zero point allows it.
            #expect(t.type == .q4_1 || t.type == .q4_0, "\(id): \(t.type)")
            #expect(back.gguf?.info("\(id).weight")?.type == t.type)
            let fake = q.view.weight(id)
            #expect(maxAbsDiff(back[id], fake) <= 1e-3 * maxAbs(fake.data), "\(id)")
        }
        // Everything else is copied as stored: the embedding keeps its type and bytes.
        let e = back.gguf!.info("token_embd.weight")!
        #expect(e.type == src.info("token_embd.weight")!.type)
        #expect(Array(back.gguf!.rawBytes(e)) == Array(src.rawBytes(src.info("token_embd.weight")!)))
        #expect(back.gguf?.string("general.architecture") == "llama")
        // Perplexity of the file equals the fake-quant model's up to fp16 rounding of d and m.
        let a = try AdaEval.perplexity(model: q.model, tokens: Self.pride, windows: 4, ctx: 512)
        let b = try AdaEval.perplexity(model: back, tokens: Self.pride, windows: 4, ctx: 512)
        expectClose(b.perplexity, a.perplexity, rel: 2e-3, "native vs fake-quant")
        // Smaller than the F16 fake-quant export: 5 bits per linear weight instead of 16.
        let f16 = tempPath("rtn-w4-oc-f16.gguf")
        try exportGGUF(q, to: f16, as: .f16)
        let size = { (p: String) in try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int }
        #expect(try size(path) < size(f16) / 2)

        // Per-IC layers have no GGML type: F16 of the fake-quant weights.
        let qi = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 3, group: 128, dim: .fixed(.ic)))
        let pi = tempPath("rtn-w3-ic-native.gguf")
        let wi = try exportGGUF(qi, to: pi, as: .native)
        #expect(wi.filter { $0.layer != nil }.allSatisfy { $0.type == .f16 && $0.reason.contains("per-IC") })
        let bi = try LlamaModel.load(path: pi)
        let id = LinearID(block: 5, kind: .v)
        #expect(bi[id] == qi.view.weight(id).roundedToHalf())
    }

    @Test func editedNormsAreWrittenAndTheRestCopied() throws {
        var m = Self.model
        var blk = m.blocks[3]
        blk.attnNorm = blk.attnNorm.map { $0 * 1.5 }
        m.blocks[3] = blk
        let path = tempPath("edited-norm.gguf")
        let written = try exportGGUF(m, to: path, as: .f16)
        #expect(written.first { $0.name == "blk.3.attn_norm.weight" }?.type == .f32)
        #expect(written.first { $0.name == "blk.3.ffn_norm.weight" }?.reason == "as stored")
        #expect(written.first { $0.name == "blk.4.attn_norm.weight" }?.reason == "as stored")
        let back = try LlamaModel.load(path: path)
        #expect(back.blocks[3].attnNorm == blk.attnNorm)
        #expect(back.blocks[4].attnNorm == Self.model.blocks[4].attnNorm)
    }

    @Test func packedSafetensorsRoundTripsExactly() throws {
        let m = Self.model
        // g128 makes groups ragged wherever 128 does not divide the grouped dimension.
        for (dim, bits) in [(QuantDim.ic, 3), (QuantDim.oc, 2), (QuantDim.ic, 5)] {
            let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: bits, group: 128, dim: .fixed(dim)))
            let path = tempPath("packed-\(dim.rawValue)-\(bits).safetensors")
            try PackedFormat.write(q, to: path)
            let layers = try PackedFormat.read(path)
            #expect(layers.count == m.linearIDs.count)
            for id in m.linearIDs {
                let a = q.layers[id]!, b = layers[id]!
                #expect(b.codes == a.codes, "\(id) codes")
                #expect(b.dequantized == a.dequantized, "\(id) weights")
                #expect(b.ragged == a.ragged && b.spec.dim == dim)
            }
            // Raggedness (g = 128): 576 = 4·128 + 64 and 192 = 128 + 64 are ragged, 1536 is not.
            #expect(layers[LinearID(block: 0, kind: .k)]!.ragged)
            #expect(layers[LinearID(block: 0, kind: .down)]!.ragged == (dim == .ic))
            #expect(layers[LinearID(block: 0, kind: .gate)]!.ragged == (dim == .oc))
            // The file is much smaller than F32 weights: bits/32 of the codes plus group parameters.
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            #expect(size < m.linearParameterCount * 4 / 4)
            let applied = try PackedFormat.apply(path, to: m)
            #expect(applied[LinearID(block: 7, kind: .gate)] == q.view.weight(LinearID(block: 7, kind: .gate)))
        }
    }

    @Test func packingIsInvertibleForEveryWidth() {
        var rng = SystemRandomNumberGenerator()
        for bits in 2...8 {
            let codes = (0..<1001).map { _ in UInt8.random(in: 0...UInt8((1 << bits) - 1), using: &rng) }
            let packed = PackedFormat.pack(codes, bits: bits)
            #expect(packed.count == (1001 * bits + 7) / 8)
            let back = packed.withUnsafeBytes { PackedFormat.unpack($0, count: 1001, bits: bits) }
            #expect(back == codes, "bits \(bits)")
        }
        // Hand-checked: codes 1, 2, 3 at 2 bits → 0b00_11_10_01 = 0x39.
        #expect(PackedFormat.pack([1, 2, 3], bits: 2) == [0x39])
        // 3 bits: 5, 6, 7 → bits 101 110 111 → byte0 = 0b11_110_101 = 0xF5, byte1 = 0b0000000_1 = 0x01.
        #expect(PackedFormat.pack([5, 6, 7], bits: 3) == [0xF5, 0x01])
    }

    @Test func malformedPackedFileIsAClearError() throws {
        let path = tempPath("not-packed.safetensors")
        var w = SafetensorsWriter()
        w.add("x", f32: Tensor(shape: [2], data: [1, 2]))
        try w.write(to: path)
        #expect(throws: ModelFileError.self) { _ = try PackedFormat.read(path) }
        do { _ = try PackedFormat.read(path) } catch let e as ModelFileError {
            #expect(e.description.contains("not-packed.safetensors") && e.description.contains("format"))
        }
    }
}
