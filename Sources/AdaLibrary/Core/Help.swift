import AdaLang
import Foundation

/// Keywords with their one-line help (for `help` and completion).
public let keywordHelp: [(String, String, String)] = [
    ("fn", "define a function", "fn ppl_of(m, n=8) {\n  return (perplexity m \"austen:pride\" windows=n).ppl\n}"),
    ("if", "run a block when a condition holds", "if bits < 4 {\n  print \"low bits\"\n} else if bits == 4 {\n  print \"four\"\n} else {\n  print \"high\"\n}"),
    ("else", "the alternative of an if", "if x > 0 { print \"positive\" } else { print \"not positive\" }"),
    ("for", "loop over a list, a string, a table's rows or a dataset's windows", "for bits in [2, 3, 4] {\n  print bits\n}"),
    ("in", "separates a for loop's variable from what it loops over", "for x in range 3 { print x }"),
    ("return", "leave a function with a value", "fn square(x) { return x * x }"),
    ("break", "leave the innermost loop", "for x in range 10 { if x == 3 { break } }"),
    ("continue", "go to the next iteration of the innermost loop", "for x in range 5 { if x % 2 == 0 { continue }\n  print x }"),
    ("true", "the boolean true", "save \"s.ada\" overwrite=true"),
    ("false", "the boolean false", "ok = false"),
    ("none", "the absence of a value", "x = none"),
    ("and", "both conditions hold (short-circuit)", "if a > 0 and b > 0 { print \"both\" }"),
    ("or", "either condition holds (short-circuit)", "if a > 0 or b > 0 { print \"one\" }"),
    ("not", "negation", "if not done { print \"working\" }"),
]

public func helpOverview(_ r: Registry) -> String {
    var out = ["ada \(AdaVersion.string): commands by category. 'help NAME' explains one; 'help for' a keyword.", ""]
    let width = (r.order.map(\.count).max() ?? 8) + 2
    for cat in r.categories {
        out.append("\(cat):")
        for n in r.order where r[n]!.category == cat {
            // Summaries wrap at 80 columns, under the summary column.
            let lines = wrapWords(r[n]!.summary, width: 80 - 2 - width)
            out.append("  " + n.padding(toLength: width, withPad: " ", startingAt: 0) + (lines.first ?? ""))
            for l in lines.dropFirst() { out.append(String(repeating: " ", count: 2 + width) + l) }
        }
        out.append("")
    }
    if !r.constantOrder.isEmpty {
        out.append("constants:")
        for n in r.constantOrder {
            out.append("  " + n.padding(toLength: width, withPad: " ", startingAt: 0) + r.constants[n]!.doc)
        }
        out.append("")
    }
    out.append("keywords: " + Keyword.allCases.map(\.rawValue).joined(separator: " "))
    out.append("syntax: name arg key=value (command) · name(arg, key=value) (call) · x = value · # comment")
    return out.joined(separator: "\n")
}

public func helpText(topic: String, registry r: Registry, interpreter: Interpreter?) -> String? {
    if let b = r[topic] { return builtinHelp(b) }
    if let k = keywordHelp.first(where: { $0.0 == topic }) {
        return "\(k.0) (keyword): \(k.1)\n\nexample:\n" + k.2.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }
    if let c = r.constants[topic] { return "\(topic) (constant) = \(c.value.summary): \(c.doc)" }
    if let it = interpreter, case .function(.user(let f))? = it.state.globals[topic] {
        return "\(f.name) (function defined in \(f.file.name) line \(f.range.line))\nusage: \(f.usage)"
    }
    return nil
}

public func builtinHelp(_ b: Builtin) -> String {
    var out = ["\(b.name): \(b.summary)", "", "usage: \(b.usage)"]
    if !b.params.isEmpty || b.rest != nil || b.namedRest != nil {
        out.append("")
        out.append("arguments:")
        let all = b.params + (b.rest.map { [$0] } ?? []) + (b.namedRest.map { [$0.shownAsNamedRest] } ?? [])
        let w = (all.map { $0.name.count }.max() ?? 4) + 2
        for p in all {
            var line = "  " + p.name.padding(toLength: w, withPad: " ", startingAt: 0) + p.type.shortName
            if let d = p.defaultValue { line += ", default \(d.summary)" } else if b.rest?.name == p.name || p.isNamedRest { line += ", any number" } else { line += ", required" }
            if p.keywordOnly { line += ", by name only" }
            line += ": " + p.doc
            // Long argument lines wrap at 80 columns, indented under the type.
            let chars = Array(line)
            if chars.count <= 80 {
                out.append(line)
            } else {
                var cut = 80
                while cut > 2 + w && chars[cut] != " " { cut -= 1 }
                if cut <= 2 + w { cut = 80 }
                out.append(String(chars[..<cut]))
                let indent = String(repeating: " ", count: 2 + w)
                let rest = String(chars[cut...]).trimmingCharacters(in: .whitespaces)
                for l in wrapWords(rest, width: 80 - indent.count) { out.append(indent + l) }
            }
        }
    }
    out.append("")
    out.append("returns: \(b.returns)")
    if !b.help.isEmpty {
        out.append("")
        out += wrapWords(b.help, width: 80)
    }
    if !b.examples.isEmpty {
        out.append("")
        out.append(b.examples.count == 1 ? "example:" : "examples:")
        for e in b.examples { out += e.split(separator: "\n").map { "  " + $0 } }
    }
    return out.joined(separator: "\n")
}

/// Help texts, as the `help` command shows them.
public enum Help {
    /// Every command by category, the constants and the keywords.
    public static func overview(_ r: Registry) -> String { helpOverview(r) }
    /// Help on a command, keyword, constant or user function; nil when unknown.
    public static func topic(_ t: String, registry r: Registry, interpreter: Interpreter? = nil) -> String? {
        helpText(topic: t, registry: r, interpreter: interpreter)
    }
    /// All names `help` knows (for suggestions).
    public static func topics(_ r: Registry) -> [String] { r.order + keywordHelp.map(\.0) + r.constantOrder }
}

extension Param {
    /// `Builtin.namedRest` as help lists it: `COLUMN=VALUE`, any number.
    public var shownAsNamedRest: Param { Param(name.uppercased() + "=VALUE", type, doc: doc) }
    public var isNamedRest: Bool { name.hasSuffix("=VALUE") }
}
