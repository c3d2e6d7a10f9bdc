import Foundation

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
}
