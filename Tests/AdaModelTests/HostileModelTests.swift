import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

// Hostile model files (found by fuzzing): metadata that disagrees with the tensors or the
// tokenizer, NaN and infinite weights, sizes that would drive absurd allocations, and values
// that used to compute garbage silently. Each must give one line naming the file and the field.

/// The tiny model as a GGUF, with hooks: `meta` edits the metadata, `tensor` replaces a tensor
/// (or drops it, returning nil), `extra` adds tensors.
private func hostileGGUF(_ tiny: TinyLlama, meta: (inout GGUFWriter) -> Void = { _ in },
                         tensor: (String, Tensor) -> Tensor? = { $1 }, extra: [(String, Tensor)] = []) -> [UInt8] {
    let src = try! GGUFFile(path: TempDirHolder.shared.write(tiny.ggufBytes(), "src-\(UUID().uuidString).gguf"))
    var g = GGUFWriter()
    g.copyMetadata(from: src)
    meta(&g)
    for info in src.tensors {
        if let t = tensor(info.name, try! src.tensor(info.name)) { g.add(info.name, .f32(t)) }
    }
    for (name, t) in extra { g.add(name, .f32(t)) }
    return g.bytes()
}

/// A directory shared by the builders of this file (tests write their own files in a TempDir).
private enum TempDirHolder { static let shared = TempDir() }

/// `t` with `value` at flat index `i`.
private func with(_ t: Tensor, _ i: Int, _ value: Float) -> Tensor {
    var u = t
    u.data[i] = value
    return u
}

/// Expects a one-line ModelFileError naming `path` and each of `mentions`.
@discardableResult
private func expectOneLine(_ path: String, _ mentions: [String], _ what: String = "",
                           sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> ModelFileError? {
    let e = expectModelFileError(path, mentions: mentions, what, sourceLocation: sourceLocation, body)
    if let e { #expect(!e.description.contains("\n"), "\(what): error spans lines: \(e)", sourceLocation: sourceLocation) }
    return e
}

/// The tiny HF directory with `config` edits, `tokenizer` edits and tensor replacements.
private func hostileDirectory(_ files: TinyFiles, config: (inout [String: Any]) -> Void = { _ in },
                              tokenizer: (inout [String: Any]) -> Void = { _ in },
                              tensor: (String, Tensor) -> Tensor? = { $1 }) throws -> String {
    let dir = files.dir.file("hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var cfg = TinyLlama.configJSON
    config(&cfg)
    try JSONSerialization.data(withJSONObject: cfg, options: [.sortedKeys]).write(to: URL(fileURLWithPath: dir + "/config.json"))
    var tok = TinyLlama.tokenizerJSON
    tokenizer(&tok)
    try JSONSerialization.data(withJSONObject: tok, options: [.sortedKeys]).write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
    var w = SafetensorsWriter()
    for (name, t) in files.tiny.hfWeights.sorted(by: { $0.key < $1.key }) {
        if let u = tensor(name, t) { w.add(name, f32: u) }
    }
    try w.write(to: dir + "/model.safetensors")
    return dir
}

@Suite("Hostile models: metadata that disagrees with the tensors or the tokenizer")
struct MetadataDisagreementTests {
    let tiny = TinyLlama(seed: 0xADA)

    @Test func validTinyModelStillLoadsAndRuns() throws {
        let dir = TempDir()
        let p = dir.write(hostileGGUF(tiny), "ok.gguf")
        let m = try LlamaModel.load(path: p)
        #expect(m.config.vocabSize == 263)
        let logits = m.forward(m.tokenizer.encode("hello world 42"))
        #expect(logits.data.allSatisfy { $0.isFinite })
        let files = try TinyFiles()
        let h = try LlamaModel.load(path: files.hfDir)
        #expect(maxAbsDiff(h.forward([1, 2, 3]), m.forward([1, 2, 3])) <= 1e-5)
    }

    @Test func specialTokenIDsBeyondTheEmbedding() {
        let dir = TempDir()
        for key in ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id"] {
            for v: GGUFValue in [.uint32(263), .uint32(100_000), .int32(-1)] {
                let p = dir.write(hostileGGUF(tiny, meta: { $0.set(key, v) }), "special.gguf")
                expectOneLine(p, ["metadata '\(key)'", "outside the vocabulary"], "\(key)=\(v)") { _ = try LlamaModel.load(path: p) }
            }
        }
        // A valid id loads.
        let ok = dir.write(hostileGGUF(tiny, meta: { $0.set("tokenizer.ggml.bos_token_id", .uint32(262)) }), "ok.gguf")
        #expect(throws: Never.self) { _ = try LlamaModel.load(path: ok) }
    }

    @Test func tokenizerLargerThanTheEmbedding() {
        let dir = TempDir()
        let toks = TinyLlama.tokens + ["<|extra|>"]
        let p = dir.write(hostileGGUF(tiny, meta: {
            $0.set("tokenizer.ggml.tokens", .array(toks.map { .string($0) }))
            $0.set("tokenizer.ggml.token_type", .array(toks.indices.map { _ in .int32(1) }))
        }), "vocab.gguf")
        expectOneLine(p, ["metadata 'tokenizer.ggml.tokens'", "264 tokens", "263 rows"]) { _ = try LlamaModel.load(path: p) }
        // llama.vocab_size disagreeing with the embedding.
        let v = dir.write(hostileGGUF(tiny, meta: { $0.set("llama.vocab_size", .uint32(300)) }), "vs.gguf")
        expectOneLine(v, ["metadata 'llama.vocab_size'", "300"]) { _ = try LlamaModel.load(path: v) }
    }

    @Test func shapesThatDoNotMatchTheConfiguration() {
        let dir = TempDir()
        let cases: [(String, GGUFValue, [String])] = [
            ("llama.embedding_length", .uint32(17), ["tensor 'token_embd.weight'", "hidden size 17"]),
            ("llama.attention.head_count_kv", .uint32(4), ["tensor 'blk.0.attn_k.weight'", "expected [16, 16]"]),
            ("llama.attention.head_count", .uint32(2), ["tensor 'blk.0.attn_k.weight'", "expected [16, 16]"]),
            ("llama.feed_forward_length", .uint32(32), ["tensor 'blk.0.ffn_gate.weight'", "expected [32, 16]"]),
            ("llama.attention.key_length", .uint32(8), ["tensor 'blk.0.attn_q.weight'", "expected [32, 16]"]),
            ("llama.attention.value_length", .uint32(8), ["metadata 'llama.attention.value_length'"]),
            ("llama.block_count", .uint32(1), ["metadata 'llama.block_count'", "blk.1."]),
            ("llama.block_count", .uint32(3), ["metadata 'llama.block_count'", "29 tensors"]),
        ]
        for (key, v, mentions) in cases {
            let p = dir.write(hostileGGUF(tiny, meta: { $0.set(key, v) }), "shape.gguf")
            expectOneLine(p, mentions, "\(key)=\(v)") { _ = try LlamaModel.load(path: p) }
        }
        // The output head of the wrong shape.
        let o = dir.write(hostileGGUF(tiny, tensor: { $0 == "output.weight" ? Tensor(zeros: [100, 16]) : $1 }), "out.gguf")
        expectOneLine(o, ["tensor 'output.weight'", "[100, 16]", "expected [263, 16]"]) { _ = try LlamaModel.load(path: o) }
        // A transposed FFN weight is named as such.
        let t = dir.write(hostileGGUF(tiny, tensor: { $0 == "blk.1.ffn_down.weight" ? Tensor(zeros: [24, 16]) : $1 }), "tr.gguf")
        expectOneLine(t, ["tensor 'blk.1.ffn_down.weight'", "transposed"]) { _ = try LlamaModel.load(path: t) }
    }

    @Test func directoryMetadataDisagreements() throws {
        let files = try TinyFiles()
        // config.json vocabulary larger than the embedding.
        let d1 = try hostileDirectory(files, config: { $0["vocab_size"] = 300 })
        expectOneLine(d1 + "/model.safetensors", ["tensor 'model.embed_tokens.weight'", "[263, 16]", "expected [300, 16]"]) {
            _ = try LlamaModel.load(path: d1)
        }
        // tokenizer.json larger than the embedding (an added token beyond it).
        let d2 = try hostileDirectory(files, tokenizer: { t in
            t["added_tokens"] = [["id": 262, "content": TinyLlama.control, "special": true], ["id": 263, "content": "<|x|>", "special": true]]
        })
        expectOneLine(d2 + "/tokenizer.json", ["model.vocab", "264 tokens", "263 rows"]) { _ = try LlamaModel.load(path: d2) }
        // BOS/EOS ids in config.json beyond the embedding.
        for (key, v) in [("bos_token_id", 1000 as Any), ("eos_token_id", [2, 5000] as Any), ("pad_token_id", -3 as Any), ("bos_token_id", "1" as Any)] {
            let d = try hostileDirectory(files, config: { $0[key] = v })
            expectOneLine(d + "/config.json", [key], "\(key)=\(v)") { _ = try LlamaModel.load(path: d) }
        }
        // Head counts × head dim that do not match q, and a transposed (non-square) weight.
        let d3 = try hostileDirectory(files, config: { $0["head_dim"] = 8 })
        expectOneLine(d3 + "/model.safetensors", ["self_attn.q_proj.weight", "expected [32, 16]"]) { _ = try LlamaModel.load(path: d3) }
        let d4 = try hostileDirectory(files, tensor: { n, t in
            n == "model.layers.0.mlp.gate_proj.weight" ? Tensor(shape: [16, 24]) { i in t.data[(i % 24) * 16 + i / 24] } : t
        })
        expectOneLine(d4 + "/model.safetensors", ["tensor 'model.layers.0.mlp.gate_proj.weight'", "transposed"]) {
            _ = try LlamaModel.load(path: d4)
        }
        // Tensors of a block the configuration does not have.
        let d5 = try hostileDirectory(files, config: { $0["num_hidden_layers"] = 1 })
        expectOneLine(d5 + "/config.json", ["num_hidden_layers", "model.layers.1."]) { _ = try LlamaModel.load(path: d5) }
        // A valid id is fine.
        let ok = try hostileDirectory(files, config: { $0["bos_token_id"] = 1; $0["eos_token_id"] = [2, 262] })
        #expect(throws: Never.self) { _ = try LlamaModel.load(path: ok) }
    }
}

@Suite("Hostile models: NaN and infinite weights")
struct NonFiniteWeightTests {
    let tiny = TinyLlama(seed: 0xADA)

    @Test func ggufNaNAndInfinityAreRefusedNamingTheTensor() throws {
        let dir = TempDir()
        let cases: [(String, Int, Float, String)] = [
            ("blk.1.ffn_up.weight", 3 * 16 + 5, .nan, "nan at [3, 5]"),
            ("blk.0.attn_q.weight", 17, .infinity, "+inf at [1, 1]"),
            ("token_embd.weight", 262 * 16, -.infinity, "-inf at [262, 0]"),
            ("output_norm.weight", 2, .nan, "nan at [2]"),
        ]
        for (name, i, v, what) in cases {
            let p = dir.write(hostileGGUF(tiny, tensor: { $0 == name ? with($1, i, v) : $1 }), "nan.gguf")
            expectOneLine(p, ["tensor '\(name)'", what, "allowNonFinite"], name) { _ = try LlamaModel.load(path: p) }
            // Allowed on request: the value is there to inspect.
            let m = try LlamaModel.load(path: p, options: LoadOptions(allowNonFinite: true))
            let all = m.linearIDs.flatMap { m[$0].data } + m.tokenEmbedding.data + m.outputNorm
            #expect(all.contains { !$0.isFinite }, "\(name)")
        }
    }

    @Test func directoryNaNIsRefusedNamingTheFileAndTensor() throws {
        let files = try TinyFiles()
        let d = try hostileDirectory(files, tensor: { n, t in n == "model.layers.1.self_attn.v_proj.weight" ? with(t, 20, .nan) : t })
        expectOneLine(d + "/model.safetensors", ["tensor 'model.layers.1.self_attn.v_proj.weight'", "nan at [1, 4]"]) {
            _ = try LlamaModel.load(path: d)
        }
        let m = try LlamaModel.load(path: d, options: LoadOptions(allowNonFinite: true))
        #expect(m.blocks[1].v.data[20].isNaN)
    }
}

@Suite("Hostile models: sizes that would drive allocations")
struct AllocationSizeTests {
    let tiny = TinyLlama(seed: 0xADA)

    @Test func hugeConfigurationIsRefusedBeforeAllocating() throws {
        let files = try TinyFiles()
        // Sizes within the sane bound but absurd for the files: refused from the headers.
        let cases: [([String: Any], [String])] = [
            (["num_hidden_layers": 16_000_000], ["num_hidden_layers", "144000002 tensors"]),
            (["hidden_size": 4_000_000, "intermediate_size": 10_000_000, "vocab_size": 16_000_000, "num_attention_heads": 4],
             ["expected [4000000]"]),
            (["hidden_size": 1 << 40], ["hidden_size", "positive integer below"]),
            (["intermediate_size": 1e30], ["intermediate_size", "not an integer"]),
            (["vocab_size": -5], ["vocab_size", "-5"]),
        ]
        for (edits, mentions) in cases {
            let d = try hostileDirectory(files, config: { for (k, v) in edits { $0[k] = v } })
            let file = mentions.contains { $0.hasPrefix("expected") } ? d + "/model.safetensors" : d + "/config.json"
            expectOneLine(file, mentions, "\(edits)") { _ = try LlamaModel.load(path: d) }
        }
    }

    @Test func safetensorsTensorsMayNotShareBytes() {
        let dir = TempDir()
        // Two (or a thousand) tensors over the same 64 bytes: each would be decoded separately.
        var entries = (0..<1000).map { "\"w\($0)\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]}" }
        let h = "{" + entries.joined(separator: ",") + "}"
        let p = dir.write(SafetensorsTests.file(header: h, data: [UInt8](repeating: 0, count: 64)), "alias.safetensors")
        expectOneLine(p, ["data_offsets", "overlap"]) { _ = try SafetensorsFile(path: p) }
        entries = ["\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}", "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}"]
        let p2 = dir.write(SafetensorsTests.file(header: "{" + entries.joined(separator: ",") + "}", data: [UInt8](repeating: 0, count: 24)), "part.safetensors")
        expectOneLine(p2, ["tensor 'b' data_offsets", "tensor 'a'"]) { _ = try SafetensorsFile(path: p2) }
    }

    @Test func ggufTensorsMayNotShareBytes() {
        let dir = TempDir()
        var b = Bytes()
        b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(3); b.u64(0)
        for name in ["a", "b", "c"] { b.str(name); b.u32(1); b.u64(8); b.u32(0); b.u64(0) }
        b.pad(to: 32)
        b.raw([UInt8](repeating: 0, count: 32))
        let p = dir.write(b.b, "alias.gguf")
        expectOneLine(p, ["offset", "overlaps"]) { _ = try GGUFFile(path: p) }
    }

    @Test func addedTokenIDsDoNotSizeTheVocabulary() throws {
        let files = try TinyFiles()
        for id in [10_000_000_000, 1 << 40, 264] {
            let d = try hostileDirectory(files, tokenizer: { $0["added_tokens"] = [["id": id, "content": "<|x|>", "special": true]] })
            expectOneLine(d + "/tokenizer.json", ["added_tokens[0]", "outside"], "id \(id)") { _ = try LlamaModel.load(path: d) }
        }
    }
}

@Suite("Hostile models: values that used to compute garbage silently")
struct SilentGarbageTests {
    let tiny = TinyLlama(seed: 0xADA)

    @Test func ggufHyperParameters() {
        let dir = TempDir()
        let cases: [(String, GGUFValue, String)] = [
            ("llama.rope.freq_base", .float32(0), "RoPE base"),
            ("llama.rope.freq_base", .float32(-10000), "RoPE base"),
            ("llama.rope.freq_base", .float32(.nan), "RoPE base"),
            ("llama.rope.freq_base", .string("10000"), "not a number"),
            ("llama.attention.layer_norm_rms_epsilon", .float32(0), "epsilon"),
            ("llama.attention.layer_norm_rms_epsilon", .float32(-1e-5), "epsilon"),
            ("llama.attention.layer_norm_rms_epsilon", .float32(.infinity), "epsilon"),
            ("llama.context_length", .uint32(0), "context length"),
            ("llama.context_length", .int32(-4), "context length"),
            ("llama.embedding_length", .float32(16.5), "not an integer"),
            ("llama.embedding_length", .int32(-16), "hidden size"),
            ("llama.attention.head_count", .uint32(0), "heads"),
            ("llama.attention.head_count_kv", .string("2"), "not an integer"),
            ("llama.block_count", .int64(-2), "layers"),
        ]
        for (key, v, mention) in cases {
            let p = dir.write(hostileGGUF(tiny, meta: { $0.set(key, v) }), "hp.gguf")
            expectOneLine(p, ["metadata '\(key)'", mention], "\(key)=\(v)") { _ = try LlamaModel.load(path: p) }
        }
    }

    @Test func missingArchitecture() throws {
        let dir = TempDir()
        let src = try GGUFFile(path: dir.write(tiny.ggufBytes(), "src.gguf"))
        var g = GGUFWriter()
        for k in src.metadataKeys where k != "general.architecture" { g.set(k, src.metadata[k]!) }
        for info in src.tensors { g.add(info.name, .f32(try src.tensor(info.name))) }
        let p = dir.write(g.bytes(), "noarch.gguf")
        expectOneLine(p, ["metadata 'general.architecture'", "missing"]) { _ = try LlamaModel.load(path: p) }
        let q = dir.write(hostileGGUF(tiny, meta: { $0.set("general.architecture", .uint32(7)) }), "arch.gguf")
        expectOneLine(q, ["metadata 'general.architecture'", "expected \"llama\""]) { _ = try LlamaModel.load(path: q) }
    }

    @Test func directoryHyperParameters() throws {
        let files = try TinyFiles()
        let cases: [(String, Any, String)] = [
            ("rope_theta", 0, "RoPE base"), ("rope_theta", -1.5, "RoPE base"), ("rope_theta", "big", "not a finite number"),
            ("rms_norm_eps", 0, "epsilon"), ("rms_norm_eps", -1e-6, "epsilon"), ("rms_norm_eps", true, "not a finite number"),
            ("max_position_embeddings", 0, "context length"), ("hidden_size", 16.5, "not an integer"),
            ("hidden_size", 0, "hidden size"), ("num_attention_heads", true, "not an integer"),
            ("num_key_value_heads", -2, "kv heads"), ("intermediate_size", "24", "not an integer"),
            ("num_hidden_layers", 0, "layers"), ("head_dim", 3, "even"),
        ]
        for (key, v, mention) in cases {
            let d = try hostileDirectory(files, config: { $0[key] = v })
            expectOneLine(d + "/config.json", [key, mention], "\(key)=\(v)") { _ = try LlamaModel.load(path: d) }
        }
    }

    @Test func tensorStoredTransposedIsNamed() throws {
        let files = try TinyFiles()
        let d = try hostileDirectory(files, tensor: { n, t in
            n == "model.layers.1.self_attn.o_proj.weight" ? Tensor(zeros: [16, 16]) : (n == "model.layers.1.mlp.down_proj.weight" ? Tensor(zeros: [24, 16]) : t)
        })
        expectOneLine(d + "/model.safetensors", ["tensor 'model.layers.1.mlp.down_proj.weight'", "shape [24, 16], expected [16, 24]", "transposed"]) {
            _ = try LlamaModel.load(path: d)
        }
    }

    @Test func tensorInTwoSafetensorsFiles() throws {
        let files = try TinyFiles()
        let d = try hostileDirectory(files)
        var w = SafetensorsWriter()
        w.add("model.norm.weight", f32: Tensor(zeros: [16]))
        try w.write(to: d + "/zz-extra.safetensors")
        expectOneLine(d + "/zz-extra.safetensors", ["tensor 'model.norm.weight'", "also in"]) { _ = try LlamaModel.load(path: d) }
    }
}

@Suite("Hostile tokenizer.json")
struct HostileTokenizerJSONTests {
    /// Writes `json` (an object, or raw text) as tokenizer.json and builds the tokenizer.
    func check(_ json: Any, _ mentions: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = TempDir()
        let path = dir.file("tokenizer.json")
        let data = try (json as? String).map { Data($0.utf8) } ?? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
        expectOneLine(path, mentions, what, sourceLocation: sourceLocation) { _ = try BPETokenizer(tokenizerJSON: path) }
    }

    func edited(_ edit: (inout [String: Any], inout [String: Any]) -> Void) -> [String: Any] {
        var root = TinyLlama.tokenizerJSON
        var model = root["model"] as! [String: Any]
        edit(&root, &model)
        root["model"] = model
        return root
    }

    @Test func wrongTypesAndMissingParts() throws {
        try check("[1, 2, 3]", ["JSON object"], "array root")
        try check("{\"model\": 3}", ["model", "not an object"], "model a number")
        try check("{\"version\": \"1.0\"}", ["model", "missing"], "no model")
        try check(edited { _, m in m["vocab"] = ["a", "b"] }, ["model.vocab", "not an object"], "vocab an array")
        try check(edited { _, m in m.removeValue(forKey: "vocab") }, ["model.vocab", "missing"], "no vocab")
        try check(edited { _, m in m.removeValue(forKey: "merges") }, ["model.merges", "missing"], "no merges")
        try check(edited { _, m in m["merges"] = "h e" }, ["model.merges", "not an array"], "merges a string")
        try check(edited { _, m in m["merges"] = [1, 2] }, ["model.merges[0]"], "merge a number")
        try check(edited { _, m in m["type"] = "WordPiece" }, ["model.type", "WordPiece"], "not BPE")
        try check(edited { r, _ in r["added_tokens"] = "x" }, ["added_tokens", "not an array"], "added tokens a string")
        try check(edited { r, _ in r["added_tokens"] = [["content": "x"]] }, ["added_tokens[0]", "integer id"], "added token without id")
    }

    @Test func idsOutOfRangeAndDuplicates() throws {
        try check(edited { _, m in var v = m["vocab"] as! [String: Any]; v["a"] = 9999; m["vocab"] = v },
                  ["model.vocab", "9999", "outside"], "id past the end")
        try check(edited { _, m in var v = m["vocab"] as! [String: Any]; v["a"] = -1; m["vocab"] = v },
                  ["model.vocab", "-1"], "negative id")
        try check(edited { _, m in var v = m["vocab"] as! [String: Any]; v["a"] = 98.5; m["vocab"] = v },
                  ["model.vocab", "not an integer"], "fractional id")
        try check(edited { _, m in var v = m["vocab"] as! [String: Any]; v["a"] = "97"; m["vocab"] = v },
                  ["model.vocab", "not an integer"], "string id")
        try check(edited { _, m in var v = m["vocab"] as! [String: Any]; v["zz"] = 97; m["vocab"] = v },
                  ["model.vocab", "given to both 'a' and 'zz'"], "a new token reusing an id")
        try check(edited { _, m in
            var v = m["vocab"] as! [String: Any]; v["b"] = 97; m["vocab"] = v  // 'a' and 'b' both 97, 98 unused
        }, ["model.vocab", "id 97 is given to both"], "duplicate id")
        try check(edited { r, _ in r["added_tokens"] = [["id": 262, "content": "<|end|>"], ["id": 262, "content": "<|end|>"]] },
                  ["added_tokens[1]", "twice"], "added twice")
        try check(edited { r, _ in r["added_tokens"] = [["id": 104, "content": "<|h|>"]] },
                  ["added_tokens[0]", "'h' in model.vocab"], "added token contradicting the vocabulary")
    }

    @Test func mergesReferencingUnknownTokens() throws {
        try check(edited { _, m in m["merges"] = ["h e", "h zz"] }, ["model.merges[1]", "'zz'"], "unknown right part")
        try check(edited { _, m in m["merges"] = ["Ġ Ġ"] }, ["model.merges[0]", "'ĠĠ'"], "result not in the vocabulary")
        try check(edited { _, m in m["merges"] = ["he"] }, ["model.merges[0]", "two tokens"], "one part")
        try check(edited { _, m in m["merges"] = ["h  e"] }, ["model.merges[0]", "two tokens"], "two spaces")
        try check(edited { _, m in m["merges"] = [["h", "e", "x"]] }, ["model.merges[0]"], "a triple")
        // Pairs are accepted, as in newer tokenizer.json files.
        let dir = TempDir()
        let path = dir.file("tokenizer.json")
        let pairs = edited { _, m in m["merges"] = TinyLlama.merges.map { $0.split(separator: " ").map(String.init) } }
        try JSONSerialization.data(withJSONObject: pairs).write(to: URL(fileURLWithPath: path))
        let t = try BPETokenizer(tokenizerJSON: path)
        #expect(t.encode("hello world") == [258, 111, 261, 108, 100])
    }

    @Test func ggufTokenArraysWithNonStrings() throws {
        let tiny = TinyLlama(seed: 1)
        let dir = TempDir()
        // GGUF arrays are homogeneous: an array of integers where strings belong.
        let toks: [GGUFValue] = TinyLlama.tokens.indices.map { .uint32(UInt32($0)) }
        let p = dir.write(hostileGGUF(tiny, meta: { $0.set("tokenizer.ggml.tokens", .array(toks)) }), "tok.gguf")
        expectOneLine(p, ["metadata 'tokenizer.ggml.tokens'", "item 0"]) { _ = try LlamaModel.load(path: p) }
        let q = dir.write(hostileGGUF(tiny, meta: { $0.set("tokenizer.ggml.token_type", .array([.int32(1)])) }), "tt.gguf")
        expectOneLine(q, ["metadata 'tokenizer.ggml.token_type'"]) { _ = try LlamaModel.load(path: q) }
    }
}
