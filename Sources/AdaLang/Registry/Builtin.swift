import Foundation

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
    /// Named arguments whose names are not parameters (like `filter t dim="ic"`, a column
    /// and its value), all of this parameter's type: `Arguments.named`, in the order given.
    public var namedRest: Param?
    /// What it returns, in words ("a record {ppl, nll, …}").
    public var returns: String
    /// Whether statements calling it are written to saved sessions (false for `help`,
    /// `history`, `save`, which do not change what the session computes).
    public var recorded: Bool
    public var run: (Arguments, Context) throws -> Value

    public init(name: String, category: String, summary: String, help: String = "", examples: [String],
                params: [Param] = [], rest: Param? = nil, namedRest: Param? = nil, returns: String = "none",
                recorded: Bool = true, run: @escaping (Arguments, Context) throws -> Value) {
        self.name = name
        self.category = category
        self.summary = summary
        self.help = help
        self.examples = examples
        self.params = params
        self.rest = rest
        self.namedRest = namedRest
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
        if let r = namedRest { parts.append("[\(r.name.uppercased())=VALUE …]") }
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
    /// Named arguments that are not parameters (`Builtin.namedRest`), in the order given;
    /// an error whose `argument` is one of these names points at it.
    public var named: [(name: String, value: Value)] = []

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


// MARK: - Choices that are engine enums

extension Param {
    /// A parameter whose value is one of an enum's raw values (`method=gptq`), declared once
    /// from the enum so the words shown in help, checked by the checker and parsed by
    /// `Arguments.choice` are the same.
    public init<E: RawRepresentable & CaseIterable>(_ name: String, choice: E.Type, default d: E, doc: String,
                                                    keywordOnly: Bool = false) where E.RawValue == String {
        self.init(name, .choice(E.allCases.map(\.rawValue)), default: .string(d.rawValue), doc: doc, keywordOnly: keywordOnly)
    }
}

extension Arguments {
    /// The enum case an argument names (checked against the declared choices before the
    /// builtin runs, so a failure here points at the argument).
    public func choice<E: RawRepresentable>(_ name: String, as type: E.Type) throws -> E where E.RawValue == String {
        guard let s = self[name].string, let e = E(rawValue: s) else {
            throw BuiltinError("'\(name)' must be one of its listed words", argument: name)
        }
        return e
    }
}
