import AdaLang
import AdaModel

/// A feature's builtins: one type per folder of this target, registering its named
/// functions (each a `Builtin` with its help, parameters and examples) and constants. In
/// the manner of LispKit's native libraries.
public protocol NativeLibrary: Sendable {
    static func register(in registry: Registry)
}

/// Every library of ada, in the order `help` lists their categories.
public let standardLibraries: [any NativeLibrary.Type] = [
    CoreLibrary.self, SessionLibrary.self, TensorLibrary.self, ModelLibrary.self, QuantLibrary.self, EditLibrary.self,
    StatsLibrary.self, TableLibrary.self, EvaluateLibrary.self, GenerateLibrary.self, PlotLibrary.self, TeachLibrary.self,
]

extension Registry {
    /// A registry with every standard library.
    public static func standard() -> Registry {
        let r = Registry()
        for lib in standardLibraries { lib.register(in: r) }
        return r
    }
}

extension Registry {
    /// The standard libraries in a sandbox, for fuzzing and tests: `load` gives `model`
    /// whatever it is asked for, `text` makes small datasets of the model's token ids (at most
    /// 8 windows of at most 64 tokens) without reading a file, and nothing writes a file
    /// (`save`, `save_csv`, `save_npy`, `export`, `load_packed`, `evaluate` and `plot … to=` do
    /// nothing).
    public static func sandboxed(model: LlamaModel, name: String = "tiny") -> Registry {
        let r = Registry.standard()
        func stub(_ builtin: String, _ body: @escaping (Arguments, Context) throws -> Value) {
            guard var b = r[builtin] else { return }
            b.run = body
            r.register(b)
        }
        stub("load") { _, ctx in
            let v = Value.object(LoadedModel(model: model, name: name))
            ctx.interpreter.noteModelLoaded(name: name, path: "<\(name)>", value: v)
            return v
        }
        let vocab = max(1, model.tokenizer.vocabularySize)
        stub("text") { a, _ in
            let ctx = try a.int("ctx", min: 2, max: 64)
            let n = try a.optionalInt("windows", min: 1, max: 8) ?? 2
            let ws = (0..<n).map { w in (0..<ctx).map { Int32(($0 + w) % vocab) } }
            return .object(DatasetValue(name: try a.string("name"), ctx: ctx, windows: ws, textTokens: n * ctx, tokenizer: model.tokenizer))
        }
        for builtin in ["save", "save_csv", "save_npy", "export", "load_packed", "evaluate"] { stub(builtin) { _, _ in .none } }
        if let plot = r["plot"]?.run {
            stub("plot") { a, ctx in a.isGiven("to") ? .none : try plot(a, ctx) }
        }
        return r
    }
}
