import AdaLang

/// A feature's builtins: one type per folder of this target, registering its named
/// functions (each a `Builtin` with its help, parameters and examples) and constants. In
/// the manner of LispKit's native libraries.
public protocol NativeLibrary: Sendable {
    static func register(in registry: Registry)
}

/// Every library of ada, in the order `help` lists their categories.
public let standardLibraries: [any NativeLibrary.Type] = [
    CoreLibrary.self, SessionLibrary.self, TensorLibrary.self, ModelLibrary.self, QuantLibrary.self,
    StatsLibrary.self, EvaluateLibrary.self, PlotLibrary.self, TeachLibrary.self,
]

extension Registry {
    /// A registry with every standard library.
    public static func standard() -> Registry {
        let r = Registry()
        for lib in standardLibraries { lib.register(in: r) }
        return r
    }
}
