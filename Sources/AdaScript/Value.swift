import Foundation

/// An engine value: a tensor, a model, a dataset, a table, activations, a quantized model…
/// Engine values are immutable objects (operations return new ones), so a value can be
/// shared between variables and a failed statement can be rolled back by restoring names.
///
/// To add a type: write a final class conforming to `EngineValue`, give it a `typeName`, a
/// one-line `summary` and optionally a multi-line `display` (the notebook view), fields
/// (`x.name`) and indexing (`x[key]`); then return it from a builtin as `.object(…)`.
public protocol EngineValue: AnyObject {
    /// The type's name as users see it: "tensor", "model", "quantized model".
    var typeName: String { get }
    /// Type names this value also satisfies in argument checks (a quantized model is also a
    /// "model"). Defaults to `[typeName]`.
    var kinds: [String] { get }
    /// One line, used inside lists, records and tables and by `print` when short.
    var summary: String { get }
    /// The notebook view shown when an expression statement evaluates to this value.
    func display(_ style: DisplayStyle) -> String
    /// Fields readable with `value.name`.
    var fieldNames: [String] { get }
    func field(_ name: String) -> Value?
    /// `value[key]`; nil when this type cannot be indexed.
    func index(_ items: [IndexKey]) throws -> Value?
    /// `len value`; nil when it has no length.
    var length: Int? { get }
    /// Elements when iterated by `for x in value`; nil when not iterable.
    func elements() -> [Value]?
    /// `==` between two engine values that are not the same object (default: false).
    func isEqual(to other: any EngineValue) -> Bool
}

extension EngineValue {
    public var kinds: [String] { [typeName] }
    public func display(_ style: DisplayStyle) -> String { summary }
    public var fieldNames: [String] { [] }
    public func field(_ name: String) -> Value? { nil }
    public func index(_ items: [IndexKey]) throws -> Value? { nil }
    public var length: Int? { nil }
    public func elements() -> [Value]? { nil }
    public func isEqual(to other: any EngineValue) -> Bool { false }
    /// Whether this value satisfies the named type (its own or one of `kinds`).
    public func isKind(_ name: String) -> Bool { typeName == name || kinds.contains(name) }
}

/// An evaluated index item: a single position/key or a slice with optional bounds.
public enum IndexKey {
    case value(Value)
    case slice(Int?, Int?)
}

/// How values are shown: colour (only on a terminal with NO_COLOR unset) and row limits.
public struct DisplayStyle: Sendable {
    public var color: Bool
    /// Rows of a table or tensor shown before eliding the rest (nil: all).
    public var maxRows: Int?
    public init(color: Bool = false, maxRows: Int? = 20) {
        self.color = color
        self.maxRows = maxRows
    }
    public static let plain = DisplayStyle(color: false, maxRows: 20)
    public static let full = DisplayStyle(color: false, maxRows: nil)
}

/// A record: named fields in a fixed order (`{ppl: 22.4, bits: 3}`, results of builtins).
public struct Record: Equatable {
    public private(set) var keys: [String]
    public private(set) var values: [Value]

    public init(_ fields: [(String, Value)] = []) {
        keys = fields.map(\.0)
        values = fields.map(\.1)
    }

    public subscript(key: String) -> Value? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let i = keys.firstIndex(of: key) {
                if let v = newValue { values[i] = v } else { keys.remove(at: i); values.remove(at: i) }
            } else if let v = newValue {
                keys.append(key)
                values.append(v)
            }
        }
    }

    public var fields: [(String, Value)] { Array(zip(keys, values)) }
    public var count: Int { keys.count }
}

/// A callable: a builtin command or a user function (`fn`). Not a user-visible value: a
/// name that refers to one calls it.
public enum Callable {
    case builtin(Builtin)
    case user(UserFunction)

    public var name: String {
        switch self {
        case .builtin(let b): return b.name
        case .user(let f): return f.name
        }
    }
}

/// A value of the language.
public enum Value {
    case none
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([Value])
    case record(Record)
    indirect case function(Callable)
    case object(any EngineValue)

    /// The type's name in messages ("number", "model", …).
    public var typeName: String {
        switch self {
        case .none: return "none"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .list: return "list"
        case .record: return "record"
        case .function: return "command"
        case .object(let o): return o.typeName
        }
    }

    /// "a number", "an integer", "a model".
    public var typeWithArticle: String { withArticle(typeName) }

    public var truthy: Bool {
        switch self {
        case .none: return false
        case .bool(let b): return b
        case .number(let n): return n != 0 && !n.isNaN
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .record(let r): return r.count > 0
        case .function, .object: return true
        }
    }

    public var number: Double? { if case .number(let n) = self { return n } else { return nil } }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var list: [Value]? { if case .list(let l) = self { return l } else { return nil } }
    public var object: (any EngineValue)? { if case .object(let o) = self { return o } else { return nil } }

    /// An exactly representable integer, or nil.
    public var integer: Int? {
        guard case .number(let n) = self, n.isFinite, n == n.rounded(), abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int(n)
    }

    public static func int(_ i: Int) -> Value { .number(Double(i)) }
    public static func float(_ f: Float) -> Value { .number(Double(f)) }
}

func withArticle(_ s: String) -> String {
    guard let c = s.first else { return s }
    return ("aeiou".contains(c) ? "an " : "a ") + s
}

extension Value: Equatable {
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.record(let x), .record(let y)): return x == y
        case (.function(let x), .function(let y)): return x.name == y.name
        case (.object(let x), .object(let y)): return x === y || x.isEqual(to: y)
        default: return false
        }
    }
}

// MARK: - Formatting

/// Numbers: integers exactly (below 1e15), others with 6 significant digits.
public func formatNumber(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
    var s = String(format: "%.6g", x)
    if s.contains("e") {
        // 1e-07 → 1e-7
        s = s.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e+")
    }
    return s
}

/// A string as it is written in source: quoted, with escapes.
public func renderString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\0": out += "\\0"
        default:
            if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

extension Value {
    /// The compact form used inside lists and records, and for `print` of non-strings.
    /// Very large nested values are cut off (with "…") after about 100,000 characters.
    public var summary: String {
        var out = ""
        appendSummary(to: &out, limit: 100_000)
        return out
    }

    func appendSummary(to out: inout String, limit: Int) {
        if out.utf8.count > limit { out += "…"; return }
        switch self {
        case .none: out += "none"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += formatNumber(n)
        case .string(let s): out += renderString(s)
        case .list(let l):
            out += "["
            for (i, x) in l.enumerated() {
                if i > 0 { out += ", " }
                if out.utf8.count > limit { out += "…"; break }
                x.appendSummary(to: &out, limit: limit)
            }
            out += "]"
        case .record(let r):
            out += "{"
            for (i, (k, v)) in r.fields.enumerated() {
                if i > 0 { out += ", " }
                if out.utf8.count > limit { out += "…"; break }
                out += k + ": "
                v.appendSummary(to: &out, limit: limit)
            }
            out += "}"
        case .function(let c): out += "<command \(c.name)>"
        case .object(let o): out += o.summary
        }
    }

    /// What `print` writes: strings without quotes, everything else in full.
    public var printed: String {
        switch self {
        case .string(let s): return s
        case .object(let o): return o.display(.full)
        default: return summary
        }
    }

    /// The notebook view of a value that an expression statement shows.
    public func display(_ style: DisplayStyle) -> String {
        switch self {
        case .object(let o): return o.display(style)
        case .list(let l) where style.maxRows != nil && l.count > 100:
            return "[" + l.prefix(100).map(\.summary).joined(separator: ", ") + ", … (\(l.count) items)]"
        default: return summary
        }
    }
}

// MARK: - Tables

/// A table: named columns and rows of values. Builtins that report statistics return one.
public struct Table {
    public var columns: [String]
    public var rows: [[Value]]
    public var title: String?

    public init(columns: [String], rows: [[Value]] = [], title: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.title = title
    }

    public func column(_ name: String) -> [Value]? {
        guard let j = columns.firstIndex(of: name) else { return nil }
        return rows.map { j < $0.count ? $0[j] : .none }
    }

    public func record(_ i: Int) -> Record {
        Record(columns.enumerated().map { ($0.element, $0.offset < rows[i].count ? rows[i][$0.offset] : .none) })
    }

    /// Aligned text: numbers right-aligned, other values left-aligned.
    public func render(_ style: DisplayStyle) -> String {
        let limit = style.maxRows.map { max(1, $0) } ?? rows.count
        let shown = rows.count > limit ? Array(rows.prefix(limit)) : rows
        func cell(_ v: Value) -> String {
            if case .string(let s) = v { return s }
            return v.summary
        }
        let cells = shown.map { r in columns.indices.map { $0 < r.count ? cell(r[$0]) : "" } }
        var numeric = [Bool](repeating: true, count: columns.count)
        for r in shown {
            for j in columns.indices where j < r.count {
                if case .number = r[j] {} else if case .none = r[j] {} else { numeric[j] = false }
            }
        }
        var width = columns.map { $0.count }
        for r in cells { for (j, c) in r.enumerated() { width[j] = max(width[j], c.count) } }
        func pad(_ s: String, _ j: Int) -> String {
            let p = String(repeating: " ", count: max(0, width[j] - s.count))
            return numeric[j] ? p + s : s + p
        }
        func line(_ r: [String]) -> String {
            var s = r.enumerated().map { pad($0.element, $0.offset) }.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        let bold = style.color ? "\u{1B}[1m" : "", reset = style.color ? "\u{1B}[0m" : ""
        var out: [String] = []
        if let t = title { out.append(t) }
        out.append(bold + line(columns) + reset)
        out.append(width.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        out += cells.map(line)
        if rows.count > shown.count {
            out.append("… \(rows.count - shown.count) more rows (\(rows.count) in all; print shows every row)")
        }
        return out.joined(separator: "\n")
    }
}

/// The engine value wrapping a `Table`.
public final class TableValue: EngineValue {
    public let table: Table
    public init(_ table: Table) { self.table = table }

    public var typeName: String { "table" }
    public var summary: String { "<table \(table.rows.count) rows × \(table.columns.count) columns: \(table.columns.joined(separator: ", "))>" }
    public func display(_ style: DisplayStyle) -> String { table.render(style) }
    public var fieldNames: [String] { ["columns", "rows"] + table.columns }
    public func field(_ name: String) -> Value? {
        if name == "columns" { return .list(table.columns.map { .string($0) }) }
        if name == "rows" { return .int(table.rows.count) }
        return table.column(name).map { .list($0) }
    }
    public var length: Int? { table.rows.count }
    public func elements() -> [Value]? { table.rows.indices.map { .record(table.record($0)) } }

    public func index(_ items: [IndexKey]) throws -> Value? {
        guard items.count == 1 else { throw BuiltinError("a table takes one index: a row number, a row slice or a column name") }
        switch items[0] {
        case .value(.string(let c)):
            guard let col = table.column(c) else {
                throw BuiltinError("no column '\(c)'\(didYouMean(c, table.columns)); columns: \(table.columns.joined(separator: ", "))")
            }
            return .list(col)
        case .value(let v):
            guard let i = v.integer else { throw BuiltinError("a table index is a row number or a column name, not \(v.typeWithArticle)") }
            let j = i < 0 ? i + table.rows.count : i
            guard j >= 0 && j < table.rows.count else { throw BuiltinError("row \(i) out of range: the table has \(table.rows.count) rows") }
            return .record(table.record(j))
        case .slice(let a, let b):
            let r = clampSlice(a, b, count: table.rows.count)
            return .object(TableValue(Table(columns: table.columns, rows: Array(table.rows[r]), title: table.title)))
        }
    }
}

/// Python-style slice bounds (negative counts from the end), clamped to 0…count.
public func clampSlice(_ a: Int?, _ b: Int?, count: Int) -> Range<Int> {
    func norm(_ x: Int?, _ d: Int) -> Int {
        guard var v = x else { return d }
        if v < 0 { v += count }
        return min(max(v, 0), count)
    }
    let lo = norm(a, 0), hi = norm(b, count)
    return lo..<max(lo, hi)
}
