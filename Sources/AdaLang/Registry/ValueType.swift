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

    public var plural: String {
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
    public var choices: [String] {
        switch self {
        case .choice(let c): return c
        case .oneOf(let ts): return ts.flatMap(\.choices)
        case .list(let t): return t.choices
        default: return []
        }
    }

    public var takesName: Bool {
        switch self {
        case .name: return true
        case .oneOf(let ts): return ts.contains { $0.takesName }
        default: return false
        }
    }
}
