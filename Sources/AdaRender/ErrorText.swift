import AdaLang
import Foundation

/// Error messages as the shell prints them: the place, the message, the source line with a
/// caret under the span, and notes; coloured on a terminal.
extension AdaError {
    /// `FILE:LINE:COL: error: MESSAGE`, then the source line and a caret under the span.
    public func render(color: Bool) -> String {
        let red = color ? "\u{1B}[1;31m" : "", bold = color ? "\u{1B}[1m" : "", green = color ? "\u{1B}[1;32m" : ""
        let cyan = color ? "\u{1B}[1;36m" : "", reset = color ? "\u{1B}[0m" : ""
        let label = kind == .interrupted ? "interrupted" : "error"
        var out = ""
        if let f = file, let r = range {
            out += "\(bold)\(f.name):\(r.line):\(r.column):\(reset) \(red)\(label):\(reset) \(bold)\(message)\(reset)\n"
            let (line, column) = Self.window(f.lineText(r.line), column: r.column)
            let num = String(r.line)
            let gutter = String(repeating: " ", count: num.count)
            out += " \(num) | \(line)\n"
            // The caret: columns count scalars; tabs in the prefix are kept so it lines up.
            let prefix = line.unicodeScalars.prefix(max(0, column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
            let lineLen = line.unicodeScalars.count
            let width = max(1, min(r.length, max(1, lineLen - (column - 1)), 60))
            out += " \(gutter) | \(prefix)\(green)^\(String(repeating: "~", count: width - 1))\(reset)\n"
        } else if let f = file {
            out += "\(bold)\(f.name):\(reset) \(red)\(label):\(reset) \(bold)\(message)\(reset)\n"
        } else {
            out += "\(red)\(label):\(reset) \(bold)\(message)\(reset)\n"
        }
        for n in notes { out += "\(cyan)note:\(reset) \(n)\n" }
        return out
    }

    /// A long source line cut to about 100 columns around `column` ("…" marks the cuts), and
    /// the column in the cut line: a 10 MB line gives a one-screen message.
    static func window(_ line: String, column: Int, width: Int = 100) -> (String, Int) {
        let scalars = Array(line.unicodeScalars)
        guard scalars.count > width + 20 else { return (line, column) }
        let start = max(0, min(column - 1 - width / 3, scalars.count - width))
        let end = min(scalars.count, start + width)
        var v = String.UnicodeScalarView()
        if start > 0 { v.append("…") }
        v.append(contentsOf: scalars[start..<end])
        if end < scalars.count { v.append("…") }
        return (String(v), column - start + (start > 0 ? 1 : 0))
    }
}
