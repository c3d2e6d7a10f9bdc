import Foundation

/// A piece of ada source text (a script file, one REPL entry, an `-e` expression), with the
/// line table needed to point at positions in it. Immutable.
public final class SourceFile: @unchecked Sendable {
    /// The name shown in diagnostics (`tour.ada`, `<repl>`, `<-e>`, `<stdin>`).
    public let name: String
    public let text: String
    /// The text as Unicode scalars; offsets and columns count scalars.
    let scalars: [Unicode.Scalar]
    /// Scalar offset of the start of each line (line 1 at index 0).
    let lineStarts: [Int]
    /// The number of the first line (REPL entries continue the session's numbering).
    public let firstLine: Int

    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        self.text = text
        self.firstLine = firstLine
        let s = Array(text.unicodeScalars)
        scalars = s
        var starts = [0]
        for (i, c) in s.enumerated() where c == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The text of a line (as numbered in diagnostics), without its newline.
    public func lineText(_ line: Int) -> String {
        let i = line - firstLine
        guard i >= 0, i < lineStarts.count else { return "" }
        let start = lineStarts[i]
        var end = i + 1 < lineStarts.count ? lineStarts[i + 1] - 1 : scalars.count
        if end > start && scalars[end - 1] == "\r" { end -= 1 }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<max(start, end)])
        return String(s)
    }

    /// The source text between two scalar offsets.
    public func slice(_ start: Int, _ end: Int) -> String {
        let a = max(0, min(start, scalars.count)), b = max(a, min(end, scalars.count))
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[a..<b])
        return String(s)
    }

    /// Line and column (1-based) of a scalar offset.
    func position(of offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + firstLine, offset - lineStarts[lo] + 1)
    }

    /// The length of the text in Unicode scalars (the unit of offsets).
    public var scalarCount: Int { scalars.count }

    /// The number of lines in the text (a final newline does not start a new line).
    public var lineCount: Int {
        scalars.last == "\n" ? lineStarts.count - 1 : lineStarts.count
    }
}

/// A span of source: a scalar offset and length, with the line and column of its start.
public struct SourceRange: Sendable, Equatable, Hashable {
    public var offset: Int
    public var length: Int
    public var line: Int
    public var column: Int

    public init(offset: Int, length: Int, line: Int, column: Int) {
        self.offset = offset
        self.length = length
        self.line = line
        self.column = column
    }

    public var end: Int { offset + length }

    /// The span from the start of `self` to the end of `other`.
    public func through(_ other: SourceRange) -> SourceRange {
        SourceRange(offset: offset, length: max(length, other.end - offset), line: line, column: column)
    }
}

// MARK: - Diagnostics

/// An error with a place in the source: lexing, parsing and runtime errors all use it.
public struct AdaError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The text is not ada (lexer and parser). Exit status 2.
        case syntax
        /// A name, argument or type problem found while running (or by `ada check`). Exit status 1.
        case runtime
        /// The run was interrupted (^C). Exit status 130.
        case interrupted
    }

    public var kind: Kind
    public var message: String
    public var file: SourceFile?
    public var range: SourceRange?
    /// Extra lines shown after the source excerpt (`note: …`).
    public var notes: [String]
    /// The parser reached the end of the input inside an unfinished construct (an open
    /// block, bracket or parenthesis): a REPL asks for another line instead of failing.
    public var incomplete: Bool

    public init(_ kind: Kind, _ message: String, file: SourceFile? = nil, range: SourceRange? = nil,
                notes: [String] = [], incomplete: Bool = false) {
        self.kind = kind
        self.message = message
        self.file = file
        self.range = range
        self.notes = notes
        self.incomplete = incomplete
    }

    /// The process exit status for this error (`ada run`, `ada -e`).
    public var exitStatus: Int32 {
        switch kind {
        case .syntax: return 2
        case .runtime: return 1
        case .interrupted: return 130
        }
    }

    /// `FILE:LINE:COL: error: MESSAGE` on one line (AdaRender draws the source line and a
    /// caret under the span).
    public var description: String {
        let label = kind == .interrupted ? "interrupted" : "error"
        if let f = file, let r = range { return "\(f.name):\(r.line):\(r.column): \(label): \(message)" }
        if let f = file { return "\(f.name): \(label): \(message)" }
        return "\(label): \(message)"
    }
}

// MARK: - Suggestions

/// Levenshtein distance with adjacent transpositions (optimal string alignment).
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev2 = [Int](repeating: 0, count: y.count + 1)
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            }
        }
        prev2 = prev
        prev = cur
    }
    return prev[y.count]
}

/// The known name closest to `name`, if it is close enough to be a plausible typo.
public func closestName(to name: String, in candidates: some Sequence<String>) -> String? {
    let limit = name.count < 3 ? 0 : max(1, min(3, (name.count + 1) / 3))
    var best: (String, Int)?
    for c in candidates where c != name {
        let d = editDistance(name, c)
        // A prefix match of a long name also counts ("perplex" → "perplexity").
        let prefixBonus = c.lowercased().hasPrefix(name.lowercased()) && name.count >= 3
        let eff = prefixBonus ? min(d, 1) : d
        if eff <= limit, best == nil || eff < best!.1 || (eff == best!.1 && c < best!.0) { best = (c, eff) }
    }
    return best?.0
}

/// "; did you mean 'x'?" or "".
public func didYouMean(_ name: String, _ candidates: some Sequence<String>) -> String {
    if let s = closestName(to: name, in: candidates) { return "; did you mean '\(s)'?" }
    return ""
}
