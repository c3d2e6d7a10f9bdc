/// Reserved words. They cannot name variables, functions or arguments.
public enum Keyword: String, CaseIterable, Sendable {
    case fn, `if`, `else`, `for`, `in`, `return`, `break`, `continue`
    case `true`, `false`, none, and, or, not
}

public enum Punct: String, CaseIterable, Sendable {
    case lparen = "(", rparen = ")", lbracket = "[", rbracket = "]", lbrace = "{", rbrace = "}"
    case comma = ",", colon = ":", semicolon = ";", dot = "."
    case assign = "=", plusAssign = "+=", minusAssign = "-=", starAssign = "*=", slashAssign = "/="
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case plus = "+", minus = "-", star = "*", slash = "/", percent = "%"
}

public enum TokenKind: Equatable, Sendable {
    case identifier(String)
    case number(Double)
    case string(String)
    case keyword(Keyword)
    case punct(Punct)
    case newline
    case eof
}

public struct Token: Sendable, Equatable {
    public var kind: TokenKind
    public var range: SourceRange
    /// Whitespace, a comment or the start of a line comes right before this token. Command
    /// syntax depends on it: `f(x)` calls, `f (x)` passes `(x)` as an argument.
    public var spaceBefore: Bool

    var text: String {
        switch kind {
        case .identifier(let s): return s
        case .number(let n): return formatNumber(n)
        case .string(let s): return renderString(s)
        case .keyword(let k): return k.rawValue
        case .punct(let p): return p.rawValue
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }

    /// How the token is named in "expected X, found Y" messages.
    var described: String {
        switch kind {
        case .identifier(let s): return "name '\(s)'"
        case .number: return "number \(text)"
        case .string: return "string \(text)"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .punct(let p): return "'\(p.rawValue)'"
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }
}

/// Turns source text into tokens. Comments run from `#` to the end of the line; newlines are
/// tokens (they end statements); strings are `"…"` or `'…'` on one line with `\` escapes.
public struct Lexer {
    let file: SourceFile
    let s: [Unicode.Scalar]
    var i = 0

    public init(_ file: SourceFile) {
        self.file = file
        s = file.scalars
    }

    func range(_ start: Int, _ end: Int) -> SourceRange {
        let (l, c) = file.position(of: start)
        return SourceRange(offset: start, length: end - start, line: l, column: c)
    }

    func error(_ msg: String, _ start: Int, _ end: Int, notes: [String] = []) -> AdaError {
        AdaError(.syntax, msg, file: file, range: range(start, max(end, start + 1)), notes: notes)
    }

    static func isIdentStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || (c.value < 128 ? (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") : c.properties.isAlphabetic)
    }

    static func isIdentContinue(_ c: Unicode.Scalar) -> Bool {
        isIdentStart(c) || (c >= "0" && c <= "9")
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    public mutating func tokenize() throws -> [Token] {
        var out: [Token] = []
        var space = true
        while true {
            // Skip blanks and comments.
            while i < s.count {
                let c = s[i]
                if c == " " || c == "\t" || c == "\r" { i += 1; space = true; continue }
                if c == "#" {
                    while i < s.count && s[i] != "\n" { i += 1 }
                    space = true
                    continue
                }
                break
            }
            if i >= s.count {
                out.append(Token(kind: .eof, range: range(s.count, s.count), spaceBefore: true))
                return out
            }
            let start = i
            let c = s[i]
            if c == "\n" {
                i += 1
                out.append(Token(kind: .newline, range: range(start, i), spaceBefore: space))
                space = true
                continue
            }
            if Lexer.isIdentStart(c) {
                while i < s.count && Lexer.isIdentContinue(s[i]) { i += 1 }
                let name = file.slice(start, i)
                let kind: TokenKind = Keyword(rawValue: name).map { .keyword($0) } ?? .identifier(name)
                out.append(Token(kind: kind, range: range(start, i), spaceBefore: space))
            } else if Lexer.isDigit(c) {
                out.append(Token(kind: .number(try number()), range: range(start, i), spaceBefore: space))
            } else if c == "\"" || c == "'" {
                out.append(Token(kind: .string(try string()), range: range(start, i), spaceBefore: space))
            } else {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if let p = Punct(rawValue: two) {
                    i += 2
                    out.append(Token(kind: .punct(p), range: range(start, i), spaceBefore: space))
                } else if let p = Punct(rawValue: String(c)) {
                    i += 1
                    out.append(Token(kind: .punct(p), range: range(start, i), spaceBefore: space))
                } else {
                    var notes: [String] = []
                    if c == "!" { notes.append("use 'not' for negation; '!=' compares") }
                    if c == "&" || c == "|" { notes.append("use 'and' and 'or'") }
                    if c == "`" || c == "\u{201C}" || c == "\u{201D}" { notes.append("strings use straight quotes: \"…\" or '…'") }
                    throw error("unexpected character '\(String(c))'", start, start + 1, notes: notes)
                }
            }
            space = false
        }
    }

    mutating func number() throws -> Double {
        let start = i
        var text = ""
        func digits() {
            while i < s.count && (Lexer.isDigit(s[i]) || (s[i] == "_" && i + 1 < s.count && Lexer.isDigit(s[i + 1]))) {
                if s[i] != "_" { text.unicodeScalars.append(s[i]) }
                i += 1
            }
        }
        digits()
        if i + 1 < s.count && s[i] == "." && Lexer.isDigit(s[i + 1]) {
            text += "."
            i += 1
            digits()
        }
        if i < s.count && (s[i] == "e" || s[i] == "E") {
            var j = i + 1
            if j < s.count && (s[j] == "+" || s[j] == "-") { j += 1 }
            if j < s.count && Lexer.isDigit(s[j]) {
                text += "e"
                if s[i + 1] == "-" { text += "-" }
                i = j
                digits()
            }
        }
        if i < s.count && Lexer.isIdentContinue(s[i]) {
            var j = i
            while j < s.count && Lexer.isIdentContinue(s[j]) { j += 1 }
            throw error("invalid number '\(file.slice(start, j))'", start, j,
                        notes: ["names cannot start with a digit"])
        }
        guard let v = Double(text) else { throw error("invalid number '\(text)'", start, i) }
        return v
    }

    mutating func string() throws -> String {
        let start = i
        let quote = s[i]
        i += 1
        var out = String.UnicodeScalarView()
        while true {
            guard i < s.count, s[i] != "\n" else {
                throw error("unterminated string", start, i,
                            notes: ["strings end on the line they start; write a newline as \\n"])
            }
            let c = s[i]
            if c == quote { i += 1; return String(out) }
            if c == "\\" {
                guard i + 1 < s.count else { throw error("unterminated string", start, i) }
                let e = s[i + 1]
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\", "\"", "'": out.append(e)
                case "u":
                    // \u{XXXX}
                    var j = i + 2
                    guard j < s.count, s[j] == "{" else { throw error("invalid escape '\\u': write \\u{XXXX}", i, i + 2) }
                    j += 1
                    var hex = ""
                    while j < s.count && s[j] != "}" && hex.count <= 8 { hex.unicodeScalars.append(s[j]); j += 1 }
                    guard j < s.count, s[j] == "}", let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) else {
                        throw error("invalid escape '\\u{\(hex)}'", i, min(j + 1, s.count))
                    }
                    out.append(u)
                    i = j + 1
                    continue
                default:
                    throw error("unknown escape '\\\(String(e))'", i, i + 2,
                                notes: ["known escapes: \\n \\t \\r \\0 \\\\ \\\" \\' \\u{XXXX}"])
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
    }
}
