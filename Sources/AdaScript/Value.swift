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
    /// The notebook view as parts: text, tables (Markdown tables in notebooks) and plots
    /// (SVG in notebooks). Default: the `display` text.
    func outputs(_ style: DisplayStyle) -> [RichOutput]
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
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.text(display(style))] }
    /// Whether this value satisfies the named type (its own or one of `kinds`).
    public func isKind(_ name: String) -> Bool { typeName == name || kinds.contains(name) }
}

/// An evaluated index item: a single position/key or a slice with optional bounds.
public enum IndexKey {
    case value(Value)
    case slice(Int?, Int?)
}

/// How values are shown: colour (only on a terminal with NO_COLOR unset), row limits, the
/// width to fit (80 columns unless the terminal says otherwise) and whether the terminal can
/// show Unicode (block and braille characters in plots) or only ASCII.
public struct DisplayStyle: Sendable {
    public var color: Bool
    /// Rows of a table or tensor shown before eliding the rest (nil: all).
    public var maxRows: Int?
    /// Columns of text to fit (tables wrap their columns, tensors elide, plots size to it).
    public var width: Int
    /// Unicode block/braille characters in plots (false: ASCII only).
    public var unicode: Bool
    public init(color: Bool = false, maxRows: Int? = 20, width: Int = 80, unicode: Bool = true) {
        self.color = color
        self.maxRows = maxRows
        self.width = width
        self.unicode = unicode
    }
    public static let plain = DisplayStyle(color: false, maxRows: 20)
    public static let full = DisplayStyle(color: false, maxRows: nil)

    /// The same style without the row limit (what `print` uses).
    public var unlimited: DisplayStyle {
        var s = self
        s.maxRows = nil
        return s
    }

    /// "…" or "..." as the terminal allows.
    public var ellipsis: String { unicode ? "…" : "..." }
}

/// One part of a value's notebook view.
public enum RichOutput {
    /// Preformatted text.
    case text(String)
    /// A table: aligned text in the terminal, a Markdown table in notebooks.
    case table(Table)
    /// A plot: drawn with characters in the terminal, an SVG image in notebooks.
    case plot(PlotValue)

    /// The terminal rendering.
    public func render(_ style: DisplayStyle) -> String {
        switch self {
        case .text(let s): return s
        case .table(let t): return t.render(style)
        case .plot(let p): return p.render(style)
        }
    }
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

    /// The notebook view of a value that an expression statement shows. Lists and records
    /// that do not fit on one line of `style.width` columns are wrapped, one field (or a
    /// run of items) per line.
    public func display(_ style: DisplayStyle) -> String {
        switch self {
        case .object(let o): return o.display(style)
        case .list(let l): return Value.displayList(l, style)
        case .record(let r): return Value.displayRecord(r, style)
        default: return summary
        }
    }

    /// The parts of the notebook view (tables and plots kept as such for notebooks).
    public func outputs(_ style: DisplayStyle) -> [RichOutput] {
        if case .object(let o) = self { return o.outputs(style) }
        return [.text(display(style))]
    }

    /// A summary of at most `width` columns.
    func shortSummary(_ width: Int, _ style: DisplayStyle) -> String {
        var out = ""
        appendSummary(to: &out, limit: width * 4)
        if case .list(let l) = self, textWidth(out) > width {
            let tail = "\(style.ellipsis) (\(l.count) items)]"
            var s = "["
            for x in l {
                let piece = x.shortSummary(width, style)
                if textWidth(s) + textWidth(piece) + 2 + textWidth(tail) > width { break }
                s += piece + ", "
            }
            return s + tail
        }
        return truncate(out, width, ellipsis: style.ellipsis)
    }

    static func displayList(_ l: [Value], _ style: DisplayStyle) -> String {
        let one = Value.list(l).summary
        if textWidth(one) <= style.width { return one }
        let maxLines = style.maxRows.map { max(2, $0) } ?? Int.max
        var lines: [String] = []
        var line = "["
        var shown = 0
        for (i, x) in l.enumerated() {
            let piece = x.shortSummary(style.width - 2, style) + (i == l.count - 1 ? "]" : ",")
            if line != "[" && line != " " && textWidth(line) + 1 + textWidth(piece) > style.width {
                lines.append(line)
                line = " "
                if lines.count >= maxLines { break }
            }
            line += (line == "[" || line == " " ? "" : " ") + piece
            shown += 1
        }
        if shown < l.count {
            lines.append(" \(style.ellipsis) \(l.count - shown) more items (\(l.count) in all)]")
        } else {
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func displayRecord(_ r: Record, _ style: DisplayStyle) -> String {
        let one = Value.record(r).summary
        if textWidth(one) <= style.width { return one }
        let kw = (r.keys.map { textWidth($0) }.max() ?? 0) + 1
        var lines: [String] = []
        for (i, (k, v)) in r.fields.enumerated() {
            let open = i == 0 ? "{" : " "
            let close = i == r.count - 1 ? "}" : ","
            let room = max(10, style.width - kw - 3)
            lines.append(open + padRight(k + ":", kw) + " " + v.shortSummary(room, style) + close)
        }
        return lines.joined(separator: "\n")
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

    /// The text of each cell, column by column: numbers in one format per column (chosen
    /// from all its values), `none` as "-", strings as they are, other values summarised.
    /// Also whether each column is numeric (right-aligned).
    func formattedColumns() -> (cells: [[String]], numeric: [Bool]) {
        var cells: [[String]] = []
        var numeric: [Bool] = []
        for j in columns.indices {
            let col = rows.map { j < $0.count ? $0[j] : Value.none }
            let isNumeric = col.allSatisfy { if case .number = $0 { return true }; if case .none = $0 { return true }; return false }
                && col.contains { if case .number = $0 { return true } else { return false } }
            let fmt = isNumeric ? NumberFormat.choose(col.compactMap(\.number)) : .integer
            cells.append(col.map { v in
                switch v {
                case .none: return "-"
                case .string(let s): return s.replacingOccurrences(of: "\n", with: " ")
                case .number(let x): return isNumeric ? fmt.format(x) : formatNumber(x)
                default: return v.summary
                }
            })
            numeric.append(isNumeric)
        }
        return (cells, numeric)
    }

    /// Row indices to show under a row limit: the first rows and the last three, with nil
    /// where rows are left out.
    func shownRows(_ maxRows: Int?) -> [Int?] {
        let n = rows.count
        guard let lim = maxRows.map({ max(1, $0) }), n > lim else { return Array(0..<n) }
        let tail = lim >= 8 ? 3 : 0
        let head = lim - tail
        return Array(0..<head) + [nil] + Array((n - tail)..<n)
    }

    /// Aligned text: numbers right-aligned in one format per column, other values
    /// left-aligned. Wider than `style.width`, long text cells are shortened and then the
    /// columns are split into panels (the first column repeated in each).
    public func render(_ style: DisplayStyle) -> String {
        let (cells, numeric) = formattedColumns()
        let shown = shownRows(style.maxRows)
        let sep = 2
        var width = columns.indices.map { j in
            shown.compactMap { $0 }.reduce(textWidth(columns[j])) { max($0, textWidth(cells[j][$1])) }
        }
        func total(_ js: [Int]) -> Int { js.reduce(0) { $0 + width[$1] } + sep * max(0, js.count - 1) }
        let all = Array(columns.indices)
        // Shorten long text columns first.
        if total(all) > style.width {
            for j in all where !numeric[j] && width[j] > 24 { width[j] = max(24, textWidth(columns[j])) }
        }
        // Then split the columns into panels that fit.
        var panels: [[Int]] = []
        if total(all) <= style.width || columns.count <= 1 {
            panels = [all]
        } else {
            let key = [0]
            var current = key
            for j in all.dropFirst() {
                if current.count > 1 && total(current + [j]) > style.width {
                    panels.append(current)
                    current = key
                }
                current.append(j)
            }
            panels.append(current)
        }
        let bold = style.color ? "\u{1B}[1m" : "", reset = style.color ? "\u{1B}[0m" : ""
        let ell = style.ellipsis
        func cell(_ s: String, _ j: Int) -> String {
            let t = truncate(s, width[j], ellipsis: ell)
            return numeric[j] ? padLeft(t, width[j]) : padRight(t, width[j])
        }
        func line(_ parts: [String]) -> String {
            var s = parts.joined(separator: String(repeating: " ", count: sep))
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        var out: [String] = []
        if let t = title { out.append(t) }
        for (k, js) in panels.enumerated() {
            if panels.count > 1 {
                if k > 0 { out.append("") }
                let names = js.count == 1 ? columns[js[0]] : js.dropFirst().map { columns[$0] }.joined(separator: ", ")
                out.append(truncate("(panel \(k + 1) of \(panels.count): \(names))", style.width, ellipsis: ell))
            }
            out.append(bold + line(js.map { cell(columns[$0], $0) }) + reset)
            out.append(line(js.map { String(repeating: "-", count: width[$0]) }))
            for r in shown {
                guard let r = r else {
                    let hidden = rows.count - shown.compactMap { $0 }.count
                    out.append("\(ell) \(hidden) more rows (\(rows.count) in all; print shows every row)")
                    continue
                }
                out.append(line(js.map { cell(cells[$0][r], $0) }))
            }
        }
        return out.joined(separator: "\n")
    }

    /// A Markdown table (GitHub flavour): numbers right-aligned, the title in bold above it.
    public func markdown(maxRows: Int? = 20) -> String {
        let (cells, numeric) = formattedColumns()
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
        }
        var out: [String] = []
        if let t = title { out.append("**\(esc(t))**"); out.append("") }
        out.append("| " + columns.map(esc).joined(separator: " | ") + " |")
        out.append("|" + numeric.map { $0 ? "---:|" : "---|" }.joined())
        let shown = shownRows(maxRows)
        for r in shown {
            guard let r = r else {
                out.append("| … |" + String(repeating: " |", count: max(0, columns.count - 1)))
                continue
            }
            out.append("| " + columns.indices.map { esc(cells[$0][r]) }.joined(separator: " | ") + " |")
        }
        if shown.contains(where: { $0 == nil }) {
            out.append("")
            out.append("*\(rows.count - shown.compactMap { $0 }.count) of \(rows.count) rows not shown.*")
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
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.table(table)] }
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
