import AdaLang
import AdaEval
import AdaModel
import AdaTensor
import Foundation

/// An engine value that can be run as a LLaMA model: a loaded model, and any model derived
/// from one (a quantized model conforms too, with `kinds` ["quantized model", "model"]).
/// Provides indexing by layer name (`m["blk.3.ffn_down"]`) and the model's fields.
public protocol ModelValue: EngineValue {
    /// The model as a view: its base and the layers replaced in it (a quantized model's
    /// packed layers). Runs block by block without a Float32 copy of the replaced layers.
    var view: ModelView { get }
    /// What it is called in summaries ("smollm2", "smollm2 gptq 3-bit").
    var name: String { get }
}

extension ModelValue {
    public var summary: String { "<\(typeName) \(name)>" }

    /// The weights with every replaced layer materialized in Float32 (a loaded model's own
    /// weights at no cost; for a quantized model a transient full copy of its layers).
    public var model: LlamaModel { view.materialized() }

    /// A layer summary: the configuration, then one row per kind of linear layer (shape and
    /// parameters of each block's layer), then the totals.
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { modelSummary(view.base, title: "\(typeName) \(name)") }


    public var fieldNames: [String] { ["name", "path", "blocks", "hidden", "ffn", "heads", "kv_heads", "vocab", "layers"] }

    public func field(_ f: String) -> Value? {
        f == "name" ? .string(name) : modelField(view.base, f)
    }

    public func index(_ items: [IndexKey]) throws -> Value? {
        guard items.count == 1, case .value(let key) = items[0] else {
            throw BuiltinError("a model is indexed by one layer name: m[\"blk.3.ffn_down\"]")
        }
        guard case .string(let s) = key else {
            throw BuiltinError("a model is indexed by a layer name (a string), not \(key.typeWithArticle)")
        }
        return .object(TensorValue(try modelTensor(view, s)))
    }

    /// Every name `m[…]` accepts (for completion).
    public var layerNames: [String] { view.base.linearIDs.map(\.description) + ["token_embd", "output"] }
}

/// The weight tensor of a model named `blk.N.KIND` (also `N.KIND`, `….weight`), `token_embd`
/// or `output`.
public func modelTensor(_ view: ModelView, _ s: String) throws -> Tensor {
    let model = view.base
    if s == "token_embd" || s == "token_embd.weight" { return model.tokenEmbedding }
    if s == "output" || s == "output.weight" { return model.head }
    if let id = LinearID(s) {
        guard id.block >= 0 && id.block < model.blocks.count else {
            throw BuiltinError("no block \(id.block): the model has blocks 0…\(model.blocks.count - 1)")
        }
        return view.weight(id)
    }
    let names = model.linearIDs.map(\.description) + ["token_embd", "output"]
    throw BuiltinError("no layer '\(s)'\(didYouMean(s, names))",
                       notes: ["layer names look like blk.3.ffn_down (kinds: " + LinearKind.allCases.map(\.ggufName).joined(separator: ", ") + "); 'layers m' lists them"])
}

/// The parts of a model's summary (shared by models and quantized models).
func modelSummary(_ model: LlamaModel, title: String) -> [RichOutput] {
    let c = model.config
    let file = (model.sourcePath as NSString).lastPathComponent
    let head = """
    \(title)\(file.isEmpty ? "" : " (\(file))")
      \(c.numLayers) blocks, hidden \(c.hiddenSize), ffn \(c.intermediateSize), heads \(c.numHeads) (kv \(c.numKVHeads), dim \(c.headDim)), vocab \(c.vocabSize)
    """
    var t = Table(columns: ["kind", "layer", "out", "in", "params"], title: "linear layers of each block (× \(model.blocks.count)), weights [out, in]:")
    var total = 0
    for k in LinearKind.allCases {
        // Every layer of a kind has the configuration's shape (checked at load and by edits).
        let shape = model.shape(k), params = shape.reduce(1, *)
        t.rows.append([.string(k.rawValue), .string(k.ggufName), .int(shape[0]), .int(shape[1]), .int(params)])
        total += model.blocks.count * params
    }
    let n = model.blocks.count * LinearKind.allCases.count
    let tail = "\(n) linear layers (\(String(format: "%.1f", Double(total) / 1e6))M weights): m[\"blk.3.ffn_down\"] is one, `layers m` lists all"
    return [.text(head), .table(t), .text(tail)]
}

/// A model loaded from a file.
public final class LoadedModel: ModelValue {
    public let view: ModelView
    public let name: String
    public init(model: LlamaModel, name: String) {
        view = ModelView(base: model)
        self.name = name
    }
    /// A model derived from another by replacing layers (`replace`, `merge`).
    public init(view: ModelView, name: String) {
        self.view = view
        self.name = name
    }
    public var typeName: String { "model" }
}

/// Tokenized text cut into windows of `ctx` tokens (calibration or evaluation data).
public final class DatasetValue: EngineValue {
    public let name: String
    public let ctx: Int
    public let windows: [[Int32]]
    /// Tokens in the whole text (windows use a prefix of them).
    public let textTokens: Int
    public let tokenizer: any TextTokenizer

    public init(name: String, ctx: Int, windows: [[Int32]], textTokens: Int, tokenizer: any TextTokenizer) {
        self.name = name
        self.ctx = ctx
        self.windows = windows
        self.textTokens = textTokens
        self.tokenizer = tokenizer
    }

    /// The windows' tokens, one after another.
    public var tokens: [Int32] { windows.flatMap { $0 } }

    public var typeName: String { "dataset" }
    public var summary: String { "<dataset \(name): \(windows.count) × \(ctx) tokens>" }
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.text(text(style))] }

    /// The view as text.
    public func text(_ style: DisplayStyle) -> String {
        "dataset \(name): \(windows.count) windows × \(ctx) tokens (\(windows.count * ctx) of the text's \(textTokens) tokens)"
    }
    public var fieldNames: [String] { ["name", "windows", "ctx", "tokens", "text_tokens"] }
    public func field(_ f: String) -> Value? {
        switch f {
        case "name": return .string(name)
        case "windows": return .int(windows.count)
        case "ctx": return .int(ctx)
        case "tokens": return .int(windows.count * ctx)
        case "text_tokens": return .int(textTokens)
        default: return nil
        }
    }
    public var length: Int? { windows.count }
    public func elements() -> [Value]? { windows.map { .list($0.map { .int(Int($0)) }) } }
    public func index(_ items: [IndexKey]) throws -> Value? {
        guard items.count == 1 else { throw BuiltinError("a dataset takes one index: a window number") }
        switch items[0] {
        case .value(let v):
            guard let i = v.integer else { throw BuiltinError("a dataset is indexed by a window number, not \(v.typeWithArticle)") }
            let j = i < 0 ? i + windows.count : i
            guard j >= 0 && j < windows.count else { throw BuiltinError("window \(i) out of range: the dataset has \(windows.count)") }
            return .list(windows[j].map { .int(Int($0)) })
        case .slice(let a, let b):
            let r = clampSlice(a, b, count: windows.count)
            return .object(DatasetValue(name: name, ctx: ctx, windows: Array(windows[r]), textTokens: textTokens, tokenizer: tokenizer))
        }
    }
}

// MARK: - Helpers

extension Interpreter {
    /// The tokenizer of `model` when given, else of the last loaded model, else of the
    /// default model file (read without loading its weights).
    func tokenizer(_ a: Arguments, _ param: String = "model") throws -> any TextTokenizer {
        if case .object(let o) = a[param] {
            guard let m = o as? any ModelValue else { throw a.error(param, "expected a model, got \(withArticle(o.typeName))") }
            return m.view.base.tokenizer
        }
        if case .object(let o)? = state.lastModel, let m = o as? any ModelValue { return m.view.base.tokenizer }
        let path = DataPaths.model("smollm2")
        if let t = caches["tokenizer:" + path] as? any TextTokenizer { return t }
        guard FileManager.default.fileExists(atPath: path) else {
            throw BuiltinError("no model loaded and the default model file is missing: \(path)", notes: ["run scripts/setup, or load a model first"])
        }
        let t = try BPETokenizer(gguf: try GGUFFile(path: path))
        caches["tokenizer:" + path] = t
        return t
    }

    /// The tokens of a named text (`austen:emma` or a path), cached per tokenizer.
    /// `chars > 0` tokenizes only the text's first `chars` characters (Unicode scalars).
    func textTokens(_ name: String, _ tok: any TextTokenizer, argument: String, chars: Int = 0) throws -> [Int32] {
        let path: String
        do { path = try DataPaths.text(name) } catch let e as ModelFileError {
            throw BuiltinError(e.message, argument: argument, notes: ["or give the path of a text file"])
        }
        let key = "tokens:\(path):\(ObjectIdentifier(tok).hashValue)" + (chars != 0 ? ":\(chars)" : "")
        if let t = caches[key] as? [Int32] { return t }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            if name.hasPrefix("austen:") {
                throw BuiltinError("the text file \(path) is missing", argument: argument, notes: ["run scripts/setup to fetch the data"])
            }
            throw BuiltinError("no such file '\(name)'", argument: argument,
                               notes: ["built-in texts: " + DataPaths.texts.keys.sorted().map { "austen:" + $0 }.joined(separator: ", ")])
        }
        let text = try textPrefix(try DataPaths.readText(path), chars: chars)
        let t = tok.encode(text)
        caches[key] = t
        return t
    }
}

func tokenList(_ v: Value, _ a: Arguments, _ name: String) throws -> [Int32] {
    if case .object(let d as DatasetValue) = v { return d.tokens }
    guard let l = v.list else { throw a.error(name, "expected a list of token ids") }
    return try l.map {
        guard let i = $0.integer, i >= 0, i <= Int(Int32.max) else { throw a.error(name, "token ids are non-negative integers, got \($0.summary)") }
        return Int32(i)
    }
}

/// Models and texts: load, text, tokens, decode, perplexity, layers.
public enum ModelLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(loadCommand)
        r.register(textCommand)
        r.register(tokensCommand)
        r.register(decodeCommand)
        r.register(perplexityCommand)
        r.register(layersCommand)
    }

    static var loadCommand: Builtin {
        Builtin(
            name: "load", category: "model", summary: "Load a model: a built-in name or the path of a GGUF file or HuggingFace folder.",
            help: "The built-in name smollm2 is SmolLM2-135M-Instruct in Q4_1, and gemma3 is Gemma 3 270M (base) in Q4_K_M (both fetched by scripts/setup); their weights, dequantized to Float32, are the full-precision references. Files of the llama and gemma3 families load (docs/architecture.md). Loading takes about a second. The file's sha256 goes into the header of saved sessions.",
            examples: ["m = load", "m = load \"smollm2\"", "g = load \"gemma3\"", "m = load \"/models/llama/model.gguf\""],
            params: [Param("name", .string, default: .string("smollm2"), doc: "a built-in model name (" + DataPaths.models.keys.sorted().joined(separator: ", ") + ") or a path"),
                     Param("nonfinite", .bool, default: .bool(false), doc: "load weights holding NaN or infinity (to inspect them; quantize refuses such layers) instead of refusing the file")],
            returns: "a model",
            run: { a, ctx in
                let name = try a.string("name")
                let path = DataPaths.model(name)
                guard FileManager.default.fileExists(atPath: path) else {
                    if DataPaths.models[name] != nil {
                        throw a.error("name", "the model file for '\(name)' is missing: \(path)", notes: ["run scripts/setup to fetch it"])
                    }
                    var notes = ["built-in models: " + DataPaths.models.keys.sorted().joined(separator: ", ") + "; or the path of a .gguf file or a HuggingFace model folder"]
                    if let s = closestName(to: name, in: DataPaths.models.keys) { notes.insert("did you mean '\(s)'?", at: 0) }
                    throw a.error("name", "no such model file '\(name)'", notes: notes)
                }
                do {
                    let m = try LlamaModel.load(path: path, options: LoadOptions(allowNonFinite: try a.bool("nonfinite")))
                    let v = Value.object(LoadedModel(model: m, name: name))
                    ctx.interpreter.noteModelLoaded(name: name, path: (path as NSString).standardizingPath, value: v)
                    return v
                } catch let e as ModelFileError {
                    throw a.error("name", "cannot load '\(name)': \(e.description)")
                }
            })
    }

    static var textCommand: Builtin {
        Builtin(
            name: "text", category: "model", summary: "Tokenize a text and cut it into windows: a dataset for calibration or evaluation.",
            help: "Windows are non-overlapping runs of ctx tokens from the start of the text, with no BOS (the perplexity protocol). The built-in texts are Jane Austen's novels: austen:emma (calibration), austen:pride (evaluation), austen:persuasion, austen:mansfieldpark, austen:northangerabbey, austen:sensesensibility. Never calibrate on the text you evaluate on.",
            examples: ["calib = text \"austen:emma\" windows=128 ctx=512", "evalset = text \"austen:pride\" windows=8"],
            params: [Param("name", .string, doc: "austen:NAME or the path of a UTF-8 text file"),
                     Param("windows", .int, default: .none, doc: "how many windows; none: as many as fit"),
                     Param("ctx", .int, default: .int(512), doc: "tokens per window"),
                     Param("model", .model, default: .none, doc: "whose tokenizer to use; none: the last model loaded (else smollm2's)")],
            returns: "a dataset",
            run: { a, ctx in
                let name = try a.string("name")
                let c = try a.int("ctx", min: 2, max: 1 << 20)
                let tok = try ctx.interpreter.tokenizer(a)
                let toks = try ctx.interpreter.textTokens(name, tok, argument: "name")
                let fit = toks.count / c
                let n = try a.optionalInt("windows", min: 1) ?? fit
                guard n <= fit else {
                    throw a.error("windows", "the text has \(toks.count) tokens: room for \(fit) windows of \(c), \(n) asked")
                }
                guard n >= 1 else { throw a.error("ctx", "the text has \(toks.count) tokens: not one window of \(c)") }
                let ws = (0..<n).map { Array(toks[($0 * c)..<(($0 + 1) * c)]) }
                return .object(DatasetValue(name: name, ctx: c, windows: ws, textTokens: toks.count, tokenizer: tok))
            })
    }

    static var tokensCommand: Builtin {
        Builtin(
            name: "tokens", category: "model", summary: "The token ids of a string (or all the tokens of a dataset).",
            examples: ["tokens \"Hello world! 123\"", "tokens \"Café\" model=m"],
            params: [Param("text", .oneOf([.string, .dataset]), doc: "the text to tokenize, or a dataset"),
                     Param("model", .model, default: .none, doc: "whose tokenizer to use; none: the last model loaded (else smollm2's)")],
            returns: "a list of integers",
            run: { a, ctx in
                if case .object(let d as DatasetValue) = a["text"] { return .list(d.tokens.map { .int(Int($0)) }) }
                let tok = try ctx.interpreter.tokenizer(a)
                return .list(tok.encode(try a.string("text")).map { .int(Int($0)) })
            })
    }

    static var decodeCommand: Builtin {
        Builtin(
            name: "decode", category: "model", summary: "The text of a list of token ids.",
            examples: ["decode [19556, 905]", "decode calib[0][0:20]"],
            params: [Param("tokens", .oneOf([.list(.int), .dataset]), doc: "token ids (or a dataset)"),
                     Param("model", .model, default: .none, doc: "whose tokenizer to use; none: the last model loaded (else smollm2's)")],
            returns: "a string",
            run: { a, ctx in
                if case .object(let d as DatasetValue) = a["tokens"] { return .string(d.tokenizer.decode(d.tokens)) }
                let tok = try ctx.interpreter.tokenizer(a)
                let ids = try tokenList(a["tokens"], a, "tokens")
                if let bad = ids.first(where: { Int($0) >= tok.vocabularySize }) {
                    throw a.error("tokens", "token id \(bad) is outside the vocabulary (\(tok.vocabularySize) tokens)")
                }
                return .string(tok.decode(ids))
            })
    }

    static var perplexityCommand: Builtin {
        Builtin(
            name: "perplexity", category: "model", summary: "Perplexity of a model on a text: exp of the mean next-token loss.",
            help: "Two protocols. ada (the default): tokenize the text, cut `windows` non-overlapping windows of `ctx` tokens from the start, no BOS (a tokenizer that adds BOS, as Gemma's does, has it replace each window's first token), loss on positions 2…ctx of each window; smollm2 on austen:pride with 8 windows × 512 gives 22.37. llama.cpp (write protocol=llama.cpp or protocol=\"llama.cpp\"): the protocol of llama.cpp's llama-perplexity, so figures compare with the ones it prints — tokenize the text (BOS first when the tokenizer adds one), cut it into chunks of `ctx` tokens from token 0 (every whole chunk unless windows= is given; ctx even), BOS in place of each chunk's first token when the tokenizer adds one, and score only the second half of each chunk (ctx/2 − 1 tokens per chunk); on the first 50,000 characters of austen:pride (chars=50000) llama.cpp reports 21.4687 for smollm2 (24 chunks) and 23.2831 for gemma3 (23 chunks). chars=N evaluates the first N characters of a named text (0: all of it). ^C stops it between blocks. The result's seconds and tok_per_s vary from run to run; ppl, nll and tokens do not.",
            examples: ["perplexity m \"austen:pride\"", "r = perplexity q \"austen:pride\" windows=8 ctx=512\nprint r.ppl", "(perplexity q evalset).ppl",
                       "perplexity m \"austen:pride\" protocol=llama.cpp chars=50000"],
            params: [Param("model", .model, doc: "the model (or quantized model) to evaluate"),
                     Param("text", .oneOf([.string, .dataset]), doc: "a text name (austen:pride) or path, or a dataset"),
                     Param("windows", .int, default: .int(8), doc: "number of windows (llama.cpp: of chunks; every whole chunk when not given)"),
                     Param("ctx", .int, default: .int(512), doc: "tokens per window"),
                     Param("protocol", choice: PerplexityProtocol.self, default: .ada, doc: "ada or llama.cpp (see above)"),
                     Param("chars", .int, default: .int(0), doc: "evaluate the first chars characters of the text; 0: the whole text")],
            returns: "a record {ppl, nll, tokens, windows, ctx, protocol, seconds, tok_per_s}",
            run: { a, ctx in try runPerplexity(a, ctx) })
    }

    static var layersCommand: Builtin {
        Builtin(
            name: "layers", category: "model", summary: "A table of a model's linear layers: name, block, kind, shape and size.",
            help: "Weights are [out, in] (OC × IC): per-OC groups run along a row, per-IC groups down a column.",
            examples: ["layers m", "t = layers m\nt[0]", "sort (layers m) by=\"params\" desc=true"],
            params: [Param("model", .model, doc: "the model")],
            returns: "a table (name, block, kind, out, in, params)",
            run: { a, _ in
                guard case .object(let o) = a["model"], let mv = o as? any ModelValue else { throw a.error("model", "expected a model") }
                let m = mv.view.base
                var t = Table(columns: ["name", "block", "kind", "out", "in", "params"])
                for id in m.linearIDs {
                    let w = m[id]
                    t.rows.append([.string(id.description), .int(id.block), .string(id.kind.rawValue),
                                   .int(w.shape[0]), .int(w.shape[1]), .int(w.count)])
                }
                return .object(TableValue(t))
            })
    }
}

/// The fields every model value has (a loaded model and a quantized one): its file and shape.
func modelField(_ model: LlamaModel, _ f: String) -> Value? {
    let c = model.config
    switch f {
    case "path": return .string(model.sourcePath)
    case "blocks": return .int(c.numLayers)
    case "hidden": return .int(c.hiddenSize)
    case "ffn": return .int(c.intermediateSize)
    case "heads": return .int(c.numHeads)
    case "kv_heads": return .int(c.numKVHeads)
    case "vocab": return .int(c.vocabSize)
    case "layers": return .list(model.linearIDs.map { .string($0.description) })
    default: return nil
    }
}

/// `perplexity`'s work: the arguments checked, the text tokenized (cut to `chars`), the
/// protocol run block-streamed on the model view.
private func runPerplexity(_ a: Arguments, _ ctx: Context) throws -> Value {
    guard case .object(let o) = a["model"], let mv = o as? any ModelValue else {
        throw a.error("model", "expected a model")
    }
    let model = mv.view.base
    let method = try a.choice("protocol", as: PerplexityProtocol.self)
    let windows = try a.int("windows", min: 1)
    let c = try a.int("ctx", min: 2, max: 1 << 20)
    let chars = try a.int("chars")
    let toks: [Int32]
    switch a["text"] {
    case .object(let d as DatasetValue):
        guard d.tokenizer === model.tokenizer || d.tokenizer.vocabularySize == model.tokenizer.vocabularySize else {
            throw a.error("text", "the dataset was tokenized for another vocabulary (\(d.tokenizer.vocabularySize) tokens, the model has \(model.tokenizer.vocabularySize))")
        }
        if chars != 0 { throw a.error("chars", "a dataset is already tokenized: chars= cuts a named text before tokenizing") }
        toks = d.tokens
    default:
        let name = try a.string("text")
        toks = try engine(a, "text") { try ctx.interpreter.textTokens(name, model.tokenizer, argument: "text", chars: chars) }
    }
    let progress: (Int, Int) -> Void = { ctx.progress("perplexity", $0, $1) }
    let r: PerplexityResult
    switch method {
    case .ada:
        let fit = toks.count / c
        guard windows <= fit else {
            throw a.error(a.isGiven("windows") ? "windows" : "text", "the text has \(toks.count) tokens: room for \(fit) windows of \(c), \(windows) asked")
        }
        r = try engine(a, "text") {
            try AdaEval.perplexity(view: mv.view, tokens: toks, windows: windows, ctx: c, progress: progress, shouldStop: ctx.shouldStop)
        }
    case .llamaCpp:
        r = try engine(a, "text") {
            try llamaCppPerplexity(view: mv.view, tokens: toks, ctx: c, chunks: a.isGiven("windows") ? windows : nil,
                                   progress: progress, shouldStop: ctx.shouldStop)
        }
    }
    return .record(Record([
        ("ppl", .number(r.perplexity)), ("nll", .number(r.nll)), ("tokens", .int(r.tokens)),
        ("windows", .int(r.windows)), ("ctx", .int(r.context)), ("protocol", .string(r.method.rawValue)),
        ("seconds", .number(r.seconds)), ("tok_per_s", .number(r.tokensPerSecond)),
    ]))
}
