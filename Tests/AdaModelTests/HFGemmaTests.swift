import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// SentencePiece's tokenizer.model reader and writer, on bytes encoded by hand here.
@Suite("SentencePiece model file")
struct SentencePieceModelTests {
    @Test func readsHandEncodedProtobuf() throws {
        // ModelProto { pieces { piece: "a", score: 0.5, type: NORMAL }, trainer_spec { bos_id: 5 } }:
        // field 1 (len 10) = [0A 01 'a'] [15 00 00 00 3F] [18 01]; field 2 (len 3) = [C8 02 05]
        // (41 << 3 = 328 = C8 02 as a varint). Unknown fields are skipped: field 9 varint 7.
        let bytes: [UInt8] = [0x0A, 0x0A, 0x0A, 0x01, 0x61, 0x15, 0x00, 0x00, 0x00, 0x3F, 0x18, 0x01,
                              0x12, 0x03, 0xC8, 0x02, 0x05, 0x48, 0x07]
        let c = try SentencePieceModel.parse(bytes, file: "t.model")
        #expect(c.pieces == ["a"] && c.scores == [0.5] && c.types == [.normal])
        #expect(c.bos == 5 && c.eos == 2 && c.unknown == 0 && c.addDummyPrefix)
        // The writer's bytes read back to the same contents.
        var d = SentencePieceModel.Contents()
        d.pieces = ["<unk>", "<bos>", "▁a", "<0x00>"]
        d.scores = [0, 0, -1.25, 0]
        d.types = [.unknown, .control, .normal, .byte]
        d.bos = 1
        d.eos = -1
        d.addDummyPrefix = false
        #expect(try SentencePieceModel.parse(SentencePieceModel.serialize(d), file: "t.model") == d)
    }

    @Test func malformedBuffersNameTheFile() {
        for bad: [UInt8] in [[0x0A, 0x40, 0x0A], [0x0A], [0x0A, 0x03, 0x18, 0x09, 0x00], [0xFF], [0x0B], []] {
            #expect(throws: ModelFileError.self) { try SentencePieceModel.parse(bad, file: "t.model") }
            do { _ = try SentencePieceModel.parse(bad, file: "t.model") } catch let e as ModelFileError {
                #expect(e.file == "t.model" && !e.message.contains("\n"), "\(e)")
            } catch { Issue.record("\(error)") }
        }
    }
}

/// Gemma 3 config.json: fields read into the spec, and malformed ones refused by name.
@Suite("HuggingFace Gemma 3 config")
struct HFGemmaConfigTests {
    static var base: [String: Any] { [
        "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "vocab_size": 262_144, "hidden_size": 640,
        "intermediate_size": 2048, "num_hidden_layers": 18, "num_attention_heads": 4, "num_key_value_heads": 1,
        "head_dim": 256, "query_pre_attn_scalar": 256, "rope_theta": 1_000_000.0, "rope_local_base_freq": 10_000.0,
        "sliding_window": 512, "rms_norm_eps": 1e-6, "hidden_activation": "gelu_pytorch_tanh",
        "final_logit_softcapping": NSNull(), "rope_scaling": NSNull(), "max_position_embeddings": 32768,
        "layer_types": (0..<18).map { $0 % 6 == 5 ? "full_attention" : "sliding_attention" },
    ] }

    /// The error loading a directory whose config.json is `json` (and nothing else).
    func loadError(_ json: [String: Any]) throws -> ModelFileError? {
        let dir = TempDir()
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir.file("config.json")))
        do { _ = try LlamaModel.load(path: dir.path) } catch let e as ModelFileError { return e }
        return nil
    }

    /// Global layers 5, 12, 17: layer 11 breaks the one-in-six pattern.
    static let brokenLayerTypes: String = {
        let names: [String] = (0..<18).map { [5, 12, 17].contains($0) ? "\"full_attention\"" : "\"sliding_attention\"" }
        return "[" + names.joined(separator: ",") + "]"
    }()

    /// (key, its JSON value or nil to remove it, the field the error must name)
    @Test(arguments: [
        ("head_dim", nil, "head_dim"),
        ("num_key_value_heads", "3", "num_key_value_heads"),
        ("final_logit_softcapping", "30.0", "final_logit_softcapping"),
        ("rope_scaling", #"{"rope_type": "linear", "factor": 8.0}"#, "rope_scaling"),
        ("hidden_activation", #""relu""#, "hidden_activation"),
        ("sliding_window", "0", "sliding_window"),
        ("query_pre_attn_scalar", "-1", "query_pre_attn_scalar"),
        ("layer_types", #"["sliding_attention"]"#, "layer_types"),
        ("layer_types", HFGemmaConfigTests.brokenLayerTypes, "layer_types[11]"),
    ] as [(String, String?, String)])
    func malformedConfigNamesTheField(key: String, value: String?, field: String) throws {
        var j = Self.base
        j[key] = try value.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) }
        let e = try #require(try loadError(j), "\(key) = \(value ?? "absent") loaded")
        #expect(e.file.hasSuffix("config.json") && e.field == field, "\(e)")
        #expect(!e.description.contains("\n"))
    }

    @Test func aValidConfigGetsToTheWeights() throws {
        // Everything in config.json is accepted; the next complaint is the missing weights.
        let e = try #require(try loadError(Self.base))
        #expect(e.message.contains("no .safetensors files"), "\(e)")
    }
}

/// The real Gemma 3 270M exported to a HuggingFace directory (`writeHFDirectory`: F32
/// safetensors with HF names and Gemma's `weight − 1` norms, config.json, tokenizer.model)
/// and loaded back through the directory loader.
@Suite("HuggingFace Gemma 3 directory (real model)", .serialized)
struct HFGemmaDirectoryTests {
    @Test func exportedDirectoryReloadsToTheSameModel() throws {
        let m = try LlamaModel.load(path: DataPaths.model("gemma3"))
        let dir = TempDir()
        try m.writeHFDirectory(dir.path)
        let r = try LlamaModel.load(path: dir.path)
        #expect(r.config.arch == m.config.arch && r.config.numLayers == 18 && r.config.headDim == 256)
        #expect(r.config.ropeTheta == m.config.ropeTheta && r.config.rmsNormEps == m.config.rmsNormEps)
        #expect(r.output == nil && r.tokenEmbedding == m.tokenEmbedding)
        // Weights: the linear layers are the same; norms went through w − 1 + 1 in Float32.
        var normsExact = r.outputNorm == m.outputNorm
        for i in 0..<18 {
            let a = m.blocks[i], b = r.blocks[i]
            #expect(b.index == i)
            for k in LinearKind.allCases { #expect(a[k] == b[k], "blk.\(i).\(k)") }
            normsExact = normsExact && a.attnNorm == b.attnNorm && a.ffnNorm == b.ffnNorm && a.qNorm == b.qNorm
                && a.kNorm == b.kNorm && a.postAttnNorm == b.postAttnNorm && a.postFFNNorm == b.postFFNNorm
        }
        #expect(normsExact, "a norm weight changed in the w − 1 + 1 round trip")
        // The tokenizer, rebuilt from tokenizer.model, tokenizes as the GGUF's does.
        let t = try #require(r.tokenizer as? SentencePieceTokenizer)
        let g = try #require(m.tokenizer as? SentencePieceTokenizer)
        #expect(t.tokens == g.tokens && t.scores == g.scores && t.types == g.types)
        #expect(t.bosID == 2 && !t.addSpacePrefix)
        #expect(r.tokenizer.encode("PRIDE AND PREJUDICE\n\nBy Jane Austen") == [2, 7719, 21073, 4715, 19214, 179353, 10067, 108, 2292, 18821, 146616])
        // Logits on a few windows, bit for bit.
        let tokens = m.tokenizer.encode(try DataPaths.readText("austen:pride"))
        for start in [0, 5000, 20_000] {
            let w = Array(tokens[start..<(start + 64)])
            #expect(r.forward(w) == m.forward(w), "window at \(start)")
        }
        // Without its tokenizer.model the directory is refused, naming the file.
        try FileManager.default.removeItem(atPath: dir.file("tokenizer.model"))
        do {
            _ = try LlamaModel.load(path: dir.path)
            Issue.record("loaded without tokenizer.model")
        } catch let e as ModelFileError {
            #expect(e.file.hasSuffix("tokenizer.model") && e.message.contains("missing"), "\(e)")
        }
    }
}
