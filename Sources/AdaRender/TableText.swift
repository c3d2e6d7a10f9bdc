import AdaLang
import Foundation

/// Tables as aligned terminal text and as Markdown.
extension Table {
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

