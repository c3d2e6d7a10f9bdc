import Foundation

/// The type an argument must have. Checked before a builtin runs, so a wrong argument is
/// reported with a caret under it.
public indirect enum ValueType: CustomStringConvertible, Sendable {
    case any
    case number
    /// A number with no fractional part.
    case int
    case bool
    case string
    case list(ValueType)
    case record
    /// An engine value of the named kind ("tensor", "model", "dataset", "table", …); see
    /// `EngineValue.kinds`.
    case object(String)
    /// One of the listed words. A bare word that is not a variable is taken literally, so
    /// `method=gptq` works without quotes.
    case choice([String])
    case oneOf([ValueType])
    /// A name: a bare word is taken literally, not evaluated (`help load`).
    case name

    public static let tensor = ValueType.object("tensor")
    public static let model = ValueType.object("model")
    public static let dataset = ValueType.object("dataset")
    public static let table = ValueType.object("table")

    public var description: String {
        switch self {
        case .any: return "any value"
        case .number: return "a number"
        case .int: return "an integer"
        case .bool: return "true or false"
        case .string: return "a string"
        case .list(.any): return "a list"
        case .list(let t): return "a list of \(t.plural)"
        case .record: return "a record"
        case .object(let k): return withArticle(k)
        case .choice(let c): return "one of " + c.joined(separator: ", ")
        case .oneOf(let ts): return ts.map(\.description).joined(separator: " or ")
        case .name: return "a name"
        }
    }

    var plural: String {
        switch self {
        case .any: return "values"
        case .number: return "numbers"
        case .int: return "integers"
        case .bool: return "booleans"
        case .string: return "strings"
        case .list: return "lists"
        case .record: return "records"
        case .object(let k): return k + "s"
        case .choice(let c): return "words (" + c.joined(separator: ", ") + ")"
        case .oneOf(let ts): return ts.map(\.plural).joined(separator: " or ")
        case .name: return "names"
        }
    }

    /// A short name for docs: `int`, `model`, `rtn|gptq`.
    public var shortName: String {
        switch self {
        case .any: return "any"
        case .number: return "number"
        case .int: return "int"
        case .bool: return "bool"
        case .string: return "string"
        case .list(.any): return "list"
        case .list(let t): return "list of \(t.shortName)"
        case .record: return "record"
        case .object(let k): return k
        case .choice(let c): return c.joined(separator: "|")
        case .oneOf(let ts): return ts.map(\.shortName).joined(separator: " or ")
        case .name: return "name"
        }
    }

    public func accepts(_ v: Value) -> Bool {
        switch (self, v) {
        case (.any, _): return true
        case (.number, .number): return true
        case (.int, .number): return v.integer != nil
        case (.bool, .bool): return true
        case (.string, .string), (.name, .string): return true
        case (.list(let t), .list(let l)): return l.allSatisfy { t.accepts($0) }
        case (.record, .record): return true
        case (.object(let k), .object(let o)): return o.isKind(k)
        case (.choice(let c), .string(let s)): return c.contains(s)
        case (.oneOf(let ts), _): return ts.contains { $0.accepts(v) }
        default: return false
        }
    }

    /// The words of `choice` types within this type.
    var choices: [String] {
        switch self {
        case .choice(let c): return c
        case .oneOf(let ts): return ts.flatMap(\.choices)
        case .list(let t): return t.choices
        default: return []
        }
    }

    var takesName: Bool {
        switch self {
        case .name: return true
        case .oneOf(let ts): return ts.contains { $0.takesName }
        default: return false
        }
    }
}

/// One parameter of a builtin.
public struct Param {
    public var name: String
    public var type: ValueType
    /// nil: required. `.none`: optional, and `none` is accepted (the doc says what it means).
    public var defaultValue: Value?
    public var doc: String
    /// Must be given as `name=value`.
    public var keywordOnly: Bool

    /// A required parameter.
    public init(_ name: String, _ type: ValueType, doc: String, keywordOnly: Bool = false) {
        self.name = name
        self.type = type
        self.defaultValue = nil
        self.doc = doc
        self.keywordOnly = keywordOnly
    }

    /// An optional parameter with its default (`default: .none` accepts none, meaning what
    /// the doc says).
    public init(_ name: String, _ type: ValueType, default defaultValue: Value, doc: String, keywordOnly: Bool = false) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
        self.keywordOnly = keywordOnly
    }

    public var isRequired: Bool { defaultValue == nil }
}

/// An error raised by a builtin. `argument` names the parameter to point the caret at.
public struct BuiltinError: Error, CustomStringConvertible {
    public var message: String
    public var argument: String?
    public var notes: [String]
    public init(_ message: String, argument: String? = nil, notes: [String] = []) {
        self.message = message
        self.argument = argument
        self.notes = notes
    }
    public var description: String { message }
}

/// A command of the language: its documentation, parameters and implementation.
public struct Builtin {
    public var name: String
    /// Groups builtins in `help` and in docs/language.md ("model", "tensor", "session", …).
    public var category: String
    public var summary: String
    /// Longer help: what it does, what it returns, caveats.
    public var help: String
    /// Examples, each one a line (or a few) of ada.
    public var examples: [String]
    public var params: [Param]
    /// Extra positional arguments (like `print a b c`), all of this parameter's type.
    public var rest: Param?
    /// What it returns, in words ("a record {ppl, nll, …}").
    public var returns: String
    /// Whether statements calling it are written to saved sessions (false for `help`,
    /// `history`, `save`, which do not change what the session computes).
    public var recorded: Bool
    public var run: (Arguments, Context) throws -> Value

    public init(name: String, category: String, summary: String, help: String = "", examples: [String],
                params: [Param] = [], rest: Param? = nil, returns: String = "none", recorded: Bool = true,
                run: @escaping (Arguments, Context) throws -> Value) {
        self.name = name
        self.category = category
        self.summary = summary
        self.help = help
        self.examples = examples
        self.params = params
        self.rest = rest
        self.returns = returns
        self.recorded = recorded
        self.run = run
    }

    /// `perplexity MODEL TEXT [windows=8] [ctx=512]`
    public var usage: String {
        var parts = [name]
        for p in params where p.isRequired {
            parts.append(p.keywordOnly ? "\(p.name)=\(p.type.shortName.uppercased())" : p.name.uppercased())
        }
        if let r = rest { parts.append("\(r.name.uppercased()) …") }
        for p in params where !p.isRequired { parts.append("[\(p.name)=\(p.defaultValue!.summary)]") }
        return parts.joined(separator: " ")
    }
}

/// The bound, type-checked arguments of a builtin call.
public struct Arguments {
    public let builtin: Builtin
    var values: [String: Value]
    var given: Set<String>
    /// Extra positional arguments (`Builtin.rest`).
    public var rest: [Value]

    public subscript(name: String) -> Value { values[name] ?? .none }

    /// Whether the caller gave this argument (rather than it taking its default).
    public func isGiven(_ name: String) -> Bool { given.contains(name) }

    public func number(_ name: String) throws -> Double {
        guard let n = self[name].number else { throw BuiltinError("'\(name)' must be a number", argument: name) }
        return n
    }

    public func int(_ name: String, min lower: Int? = nil, max upper: Int? = nil) throws -> Int {
        guard let n = self[name].integer else { throw BuiltinError("'\(name)' must be an integer", argument: name) }
        if let l = lower, n < l { throw BuiltinError("'\(name)' must be at least \(l), got \(n)", argument: name) }
        if let u = upper, n > u { throw BuiltinError("'\(name)' must be at most \(u), got \(n)", argument: name) }
        return n
    }

    public func optionalInt(_ name: String, min lower: Int? = nil, max upper: Int? = nil) throws -> Int? {
        if case .none = self[name] { return nil }
        return try int(name, min: lower, max: upper)
    }

    public func string(_ name: String) throws -> String {
        guard let s = self[name].string else { throw BuiltinError("'\(name)' must be a string", argument: name) }
        return s
    }

    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let b) = self[name] else { throw BuiltinError("'\(name)' must be true or false", argument: name) }
        return b
    }

    /// The engine value of an argument, as a given class.
    public func object<T>(_ name: String, as type: T.Type) throws -> T {
        guard case .object(let o) = self[name], let t = o as? T else {
            throw BuiltinError("'\(name)' has the wrong type", argument: name)
        }
        return t
    }

    /// An error that points at this argument.
    public func error(_ name: String, _ message: String, notes: [String] = []) -> BuiltinError {
        BuiltinError(message, argument: name, notes: notes)
    }
}

/// What a running builtin can reach: output, progress, cancellation, the interpreter.
public final class Context {
    public unowned let interpreter: Interpreter
    public let file: SourceFile
    /// Where the call is (its command name).
    public let range: SourceRange

    init(interpreter: Interpreter, file: SourceFile, range: SourceRange) {
        self.interpreter = interpreter
        self.file = file
        self.range = range
    }

    /// Writes a line to standard output.
    public func print(_ line: String) { interpreter.emit(line + "\n") }
    /// Writes a line to standard error (notes and warnings, never results).
    public func note(_ line: String) { interpreter.errorOutput(line + "\n") }
    /// Reports progress (the shell shows it on a terminal; scripts stay quiet).
    public func progress(_ label: String, _ done: Int, _ total: Int) { interpreter.progress?(label, done, total) }
    public var isCancelled: Bool { interpreter.cancellation.isRequested }
    /// Throws `CancellationError` after ^C; call at safe points of long work.
    public func checkCancelled() throws { if isCancelled { throw CancellationError() } }
    /// For engine calls that take a `shouldStop` closure.
    public var shouldStop: () -> Bool {
        let flag = interpreter.cancellation
        return { flag.isRequested }
    }
    public var style: DisplayStyle { interpreter.style }
}

/// A cancel flag: set by ^C (or a test), checked by the interpreter at safe points
/// (statements, loop iterations) and by long-running builtins (between windows, layers…).
public final class CancelFlag: @unchecked Sendable {
    nonisolated(unsafe) var flag: Int32 = 0
    public init() {}
    /// Async-signal-safe: a single store.
    public func request() { flag = 1 }
    public func reset() { flag = 0 }
    @inline(never)
    public var isRequested: Bool { flag != 0 }
}

/// ^C handling: the shell's SIGINT handler sets the process-wide flag, which interpreters
/// use unless given their own (`Interpreter.cancellation`).
public enum Cancellation {
    public static let shared = CancelFlag()
    public static func request() { shared.request() }
    public static func reset() { shared.reset() }
    public static var isRequested: Bool { shared.isRequested }
}

/// The builtins and constants known to an interpreter.
public final class Registry {
    public private(set) var builtins: [String: Builtin] = [:]
    /// Names in registration order (for `help` and docs).
    public private(set) var order: [String] = []
    public private(set) var constants: [String: (value: Value, doc: String)] = [:]
    public private(set) var constantOrder: [String] = []

    public init() {}

    /// Adds a builtin; a later registration with the same name replaces the earlier one.
    public func register(_ b: Builtin) {
        precondition(Keyword(rawValue: b.name) == nil, "builtin name '\(b.name)' is a keyword")
        if builtins[b.name] == nil { order.append(b.name) }
        builtins[b.name] = b
    }

    /// Adds a named constant (e.g. `oc`, `ic`, `ada` for quantization dimensions).
    public func constant(_ name: String, _ value: Value, doc: String) {
        precondition(Keyword(rawValue: name) == nil, "constant name '\(name)' is a keyword")
        if constants[name] == nil { constantOrder.append(name) }
        constants[name] = (value, doc)
    }

    public subscript(name: String) -> Builtin? { builtins[name] }

    /// Categories in first-registration order.
    public var categories: [String] {
        var seen: [String] = []
        for n in order where !seen.contains(builtins[n]!.category) { seen.append(builtins[n]!.category) }
        return seen
    }

    /// Core, tensor, model and session builtins, plus those of `registerQuantBuiltins`.
    public static func standard() -> Registry {
        let r = Registry()
        registerCoreBuiltins(r)
        registerTensorBuiltins(r)
        registerModelBuiltins(r)
        registerQuantBuiltins(r)
        registerPlotBuiltins(r)
        registerExplainBuiltins(r)
        registerEvalBuiltins(r)
        return r
    }
}
