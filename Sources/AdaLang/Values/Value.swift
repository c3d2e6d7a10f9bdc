import Foundation

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

public func withArticle(_ s: String) -> String {
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

    /// The view of a value that an expression statement shows, as parts. Lists and records
    /// that do not fit on one line of `style.width` columns are wrapped, one field (or a run
    /// of items) per line; engine values give their own parts.
    public func outputs(_ style: DisplayStyle) -> [RichOutput] {
        switch self {
        case .object(let o): return o.outputs(style)
        case .list(let l): return [.text(Value.displayList(l, style))]
        case .record(let r): return [.text(Value.displayRecord(r, style))]
        default: return [.text(summary)]
        }
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

