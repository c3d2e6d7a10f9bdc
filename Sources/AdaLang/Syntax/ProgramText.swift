import Foundation

/// The text of statements, for notebooks: each statement's source and the prose before it.
extension Program {
    /// The comment text between the statement before `s` and `s` (a script's prose), as
    /// Markdown paragraphs; nil when there is none. A comment at the end of the previous
    /// statement's line belongs to that statement.
    public func leadingComments(_ s: Stmt) -> String? {
        let program = self
        guard let i = program.statementIndex(s) else { return nil }
        let start = i == 0 ? 0 : program.statements[i - 1].range.end
        var gap = program.file.slice(start, s.range.offset).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if i > 0 && !gap.isEmpty { gap.removeFirst() }  // the rest of the previous statement's line
        var paragraphs: [[String]] = [[]]
        for line in gap {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("#") {
                var body = String(t.dropFirst())
                if body.hasPrefix(" ") { body.removeFirst() }
                paragraphs[paragraphs.count - 1].append(body)
            } else if t.isEmpty, !(paragraphs.last?.isEmpty ?? true) {
                paragraphs.append([])
            }
        }
        let text = paragraphs.filter { !$0.isEmpty }.map { $0.joined(separator: "\n") }.joined(separator: "\n\n")
        return text.isEmpty ? nil : text
    }

    /// The position of `s` among the statements (by its offset, in O(log n): statements are
    /// in source order).
    func statementIndex(_ s: Stmt) -> Int? {
        var lo = 0, hi = statements.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let o = statements[mid].range.offset
            if o == s.range.offset { return mid }
            if o < s.range.offset { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// The source of a statement with a comment that ends its last line.
    public func statementSource(_ s: Stmt) -> String {
        let program = self
        var text = program.text(of: s)
        let rest = program.file.slice(s.range.end, s.range.end + 400)
        let line = rest.prefix { $0 != "\n" }
        if line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { text += line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
        return text
    }
}
