import AdaLang
import Foundation

/// The reference of every builtin, generated from the registry (`ada help --markdown`), so
/// docs/language.md cannot drift from the code.
public func builtinsMarkdown(_ r: Registry) -> String {
    var out: [String] = []
    func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
    for cat in r.categories {
        out.append("### \(cat)")
        out.append("")
        for n in r.order where r[n]!.category == cat {
            let b = r[n]!
            out.append("#### `\(b.name)`")
            out.append("")
            out.append(b.summary)
            out.append("")
            out.append("Usage: `\(b.usage)` → \(b.returns)")
            out.append("")
            let all = b.params + (b.rest.map { [$0] } ?? []) + (b.namedRest.map { [$0.shownAsNamedRest] } ?? [])
            if !all.isEmpty {
                out.append("| argument | type | default | |")
                out.append("|---|---|---|---|")
                for p in all {
                    let def: String
                    if let d = p.defaultValue { def = "`\(cell(d.summary))`" } else if p.name == b.rest?.name || p.isNamedRest { def = "any number" } else { def = "required" }
                    out.append("| `\(p.name)`\(p.keywordOnly ? " (by name)" : "") | \(cell(p.type.shortName)) | \(def) | \(cell(p.doc)) |")
                }
                out.append("")
            }
            if !b.help.isEmpty {
                out.append(b.help)
                out.append("")
            }
            if !b.examples.isEmpty {
                out.append("```")
                out += b.examples
                out.append("```")
                out.append("")
            }
        }
    }
    if !r.constantOrder.isEmpty {
        out.append("### constants")
        out.append("")
        out.append("| name | value | |")
        out.append("|---|---|---|")
        for n in r.constantOrder { out.append("| `\(n)` | `\(cell(r.constants[n]!.value.summary))` | \(cell(r.constants[n]!.doc)) |") }
        out.append("")
    }
    return out.joined(separator: "\n")
}

