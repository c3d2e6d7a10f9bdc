import AdaTensor
import Foundation

/// How `LlamaModel.load` treats what it reads.
public struct LoadOptions: Sendable, Equatable {
    /// Load weights holding NaN or ±∞ (to inspect them) instead of refusing the file.
    /// Quantization still refuses such a layer (`QuantError` with origin `.tensor`).
    public var allowNonFinite: Bool
    /// Bytes of decoded blocks the model's file may keep (nil: `MemoryBudget.bytes`, read
    /// each time a block is decoded).
    public var blockBudget: Int?

    public init(allowNonFinite: Bool = false, blockBudget: Int? = nil) {
        self.allowNonFinite = allowNonFinite
        self.blockBudget = blockBudget
    }
}

/// Where each configuration value comes from, to name it in errors: a GGUF metadata key or
/// a config.json key.
struct ConfigFields {
    var vocab, hidden, ffn, layers, heads, kvHeads, headDim, rope, eps, context: String

    static let gguf = ConfigFields.gguf("llama")

    /// The fields of a GGUF file whose metadata keys start with `arch.`.
    static func gguf(_ arch: String) -> ConfigFields {
        func m(_ k: String) -> String { "metadata '\(arch).\(k)'" }
        return ConfigFields(
            vocab: "tensor 'token_embd.weight'", hidden: m("embedding_length"), ffn: m("feed_forward_length"),
            layers: m("block_count"), heads: m("attention.head_count"), kvHeads: m("attention.head_count_kv"),
            headDim: m("attention.key_length"), rope: m("rope.freq_base"), eps: m("attention.layer_norm_rms_epsilon"),
            context: m("context_length"))
    }

    static let hf = ConfigFields(
        vocab: "vocab_size", hidden: "hidden_size", ffn: "intermediate_size", layers: "num_hidden_layers",
        heads: "num_attention_heads", kvHeads: "num_key_value_heads", headDim: "head_dim", rope: "rope_theta",
        eps: "rms_norm_eps", context: "max_position_embeddings")
}

/// The largest size (vocabulary, widths, counts, context) a configuration may give: far above
/// any LLaMA-family model, far below what overflows products of two of them.
let maxConfigSize = 1 << 24

extension LlamaConfig {
    /// Checks the shape and hyper-parameters are ones the forward pass can run without
    /// trapping or computing garbage, naming the field (from `fields`) of the first that is not.
    func validate(file: String, fields k: ConfigFields) throws {
        func bad(_ f: String, _ m: String) -> ModelFileError { ModelFileError(file: file, field: f, m) }
        let sizes = [("vocab size", k.vocab, vocabSize), ("hidden size", k.hidden, hiddenSize),
                     ("intermediate size", k.ffn, intermediateSize), ("layers", k.layers, numLayers),
                     ("heads", k.heads, numHeads), ("kv heads", k.kvHeads, numKVHeads), ("head dim", k.headDim, headDim),
                     ("context length", k.context, contextLength)]
        for (name, field, v) in sizes where !(v > 0 && v < maxConfigSize) {
            throw bad(field, "\(name) must be a positive integer below \(maxConfigSize), got \(v)")
        }
        guard numHeads % numKVHeads == 0 else {
            throw bad(k.kvHeads, "kv heads: \(numHeads) heads not divisible by \(numKVHeads) kv heads")
        }
        guard headDim % 2 == 0 else { throw bad(k.headDim, "head dim must be even for RoPE, got \(headDim)") }
        guard ropeTheta.isFinite, ropeTheta > 0 else {
            throw bad(k.rope, "RoPE base must be a finite number above 0, got \(ropeTheta)")
        }
        guard rmsNormEps.isFinite, rmsNormEps > 0, rmsNormEps < 1 else {
            throw bad(k.eps, "RMSNorm epsilon must be a finite number in (0, 1), got \(rmsNormEps)")
        }
    }

    /// Every tensor the loader reads, with its row-major shape, in load order: per block the
    /// two norms and the seven linear modules, then the token embedding and the final norm
    /// (the output head is optional and checked by the caller).
    func expectedTensors(block: (Int, BlockWeight) -> String, embedding: String, outputNorm: String) -> [(String, [Int])] {
        let d = hiddenSize
        var out: [(String, [Int])] = []
        for i in 0..<numLayers {
            out.append((block(i, .attnNorm), [d]))
            out.append((block(i, .ffnNorm), [d]))
            for bw in arch.extraNorms {
                out.append((block(i, bw), bw == .qNorm || bw == .kNorm ? [headDim] : [d]))
            }
            for kind in LinearKind.allCases { out.append((block(i, .linear(kind)), shape(kind))) }
        }
        out.append((embedding, [vocabSize, d]))
        out.append((outputNorm, [d]))
        return out
    }

    /// The configuration's numbers, for errors about a tensor's shape.
    var shapeSummary: String {
        "hidden \(hiddenSize), ffn \(intermediateSize), heads \(numHeads) × dim \(headDim), kv heads \(numKVHeads), vocab \(vocabSize)"
    }
}

/// The weights of one block, by role.
enum BlockWeight: Equatable {
    case attnNorm, ffnNorm, qNorm, kNorm, postAttnNorm, postFFNNorm
    case linear(LinearKind)
}

/// Why a tensor's shape is not the expected one, in one line.
func shapeMismatch(_ got: [Int], _ want: [Int], _ cfg: LlamaConfig) -> String {
    let transposed = got.count == 2 && want.count == 2 && got == [want[1], want[0]] && got != want
    return "shape \(got), expected \(want)\(transposed ? " (transposed: weights are [out, in])" : "") from the configuration (\(cfg.shapeSummary))"
}

/// Refuses a decoded weight holding NaN or ±∞ unless the options allow it.
func checkFinite(_ t: Tensor, file: String, name: String, options: LoadOptions) throws {
    guard !options.allowNonFinite, let what = Finite.describeFirstNonFinite(t) else { return }
    throw ModelFileError(file: file, field: "tensor '\(name)'",
                         "holds a non-finite weight (\(what)); such files are refused unless loaded with allowNonFinite (load … nonfinite=true)")
}

/// Tensors of blocks the configuration does not have (`blk.7.…` in a 4-block model): the
/// configuration would silently drop them.
func checkNoExtraBlocks(_ names: [String], prefix: String, layers: Int, file: String, field: String) throws {
    for name in names.sorted() where name.hasPrefix(prefix) {
        let rest = name.dropFirst(prefix.count)
        guard let n = Int(rest.prefix { $0.isNumber }), n >= layers else { continue }
        throw ModelFileError(file: file, field: field,
                             "the configuration has \(layers) blocks, but the weights include tensor '\(name)' of block \(n)")
    }
}

/// The tokenizer may not produce ids beyond the embedding's rows (the forward pass would
/// index past them).
func checkTokenizerFits(_ t: any TextTokenizer, _ cfg: LlamaConfig, file: String, field: String) throws {
    guard t.vocabularySize <= cfg.vocabSize else {
        throw ModelFileError(file: file, field: field,
                             "the tokenizer has \(t.vocabularySize) tokens but the token embedding only \(cfg.vocabSize) rows")
    }
}

/// A special token id (BOS, EOS, padding …) must name a row of the embedding.
func checkTokenID(_ id: Int?, _ cfg: LlamaConfig, file: String, field: String) throws {
    guard let id else { return }
    guard id >= 0 && id < cfg.vocabSize else {
        throw ModelFileError(file: file, field: field, "token id \(id) is outside the vocabulary (\(cfg.vocabSize) tokens)")
    }
}

// MARK: - Strict readers

extension GGUFFile {
    /// An integer metadata value: `fallback` when absent, an error when present but not an integer.
    func requireInt(_ key: String, default fallback: Int? = nil) throws -> Int {
        guard let v = metadata[key] else {
            if let fallback { return fallback }
            throw ModelFileError(file: path, field: "metadata '\(key)'", "missing or not an integer")
        }
        guard let i = v.int else { throw ModelFileError(file: path, field: "metadata '\(key)'", "not an integer: \(v)") }
        return i
    }

    /// A numeric metadata value: `fallback` when absent, an error when present but not a number.
    func requireNumber(_ key: String, default fallback: Double) throws -> Double {
        guard let v = metadata[key] else { return fallback }
        guard let d = v.double else { throw ModelFileError(file: path, field: "metadata '\(key)'", "not a number: \(v)") }
        return d
    }
}

/// Reads config.json values strictly: integers must be integral JSON numbers (not booleans,
/// not 16.5, not 1e30), numbers must be finite.
struct JSONConfig {
    let object: [String: Any]
    let file: String

    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    /// An exact integer of magnitude below 2^53, or nil.
    static func integer(_ v: Any) -> Int? {
        guard !isBool(v), let n = v as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func int(_ key: String) throws -> Int {
        guard has(key) else { throw ModelFileError(file: file, field: key, "missing or not an integer") }
        guard let i = Self.integer(object[key]!) else {
            throw ModelFileError(file: file, field: key, "not an integer: \(object[key]!)")
        }
        return i
    }

    func int(_ key: String, default fallback: Int) throws -> Int { has(key) ? try int(key) : fallback }

    func number(_ key: String, default fallback: Double) throws -> Double {
        guard has(key) else { return fallback }
        let v = object[key]!
        guard !Self.isBool(v), let d = (v as? NSNumber)?.doubleValue, d.isFinite else {
            throw ModelFileError(file: file, field: key, "not a finite number: \(v)")
        }
        return d
    }

    /// Token ids under `key`: absent or null, one integer, or a list of integers.
    func tokenIDs(_ key: String) throws -> [Int] {
        guard has(key) else { return [] }
        let v = object[key]!
        if let i = Self.integer(v) { return [i] }
        if let list = v as? [Any] {
            return try list.map {
                guard let i = Self.integer($0) else { throw ModelFileError(file: file, field: key, "not a token id: \($0)") }
                return i
            }
        }
        throw ModelFileError(file: file, field: key, "not a token id (an integer or a list of integers): \(v)")
    }
}
