import AdaLang
import AdaLibrary
import Foundation

/// Completion candidates for a line being typed, given the text before the cursor and the
/// word under it. Used by the REPL; public for tests.
public struct Completer {
    public let interpreter: Interpreter
    public init(interpreter: Interpreter) { self.interpreter = interpreter }

    /// Candidates for `word`, the text between the last word break and the cursor, where
    /// `prefix` is the whole line before `word`.
    public func complete(prefix: String, word: String) -> [String] {
        let reg = interpreter.registry
        // Inside a string?
        var quote: Character?
        for ch in prefix {
            if let q = quote { if ch == q { quote = nil } } else if ch == "\"" || ch == "'" { quote = ch }
        }
        if quote != nil {
            let before = String(prefix.dropLast())  // the text before the opening quote
            let trimmed = before.trimmingCharacters(in: .whitespaces)
            var names: [String] = []
            // m["…  or  command … m "…
            var subject = ""
            if trimmed.hasSuffix("[") {
                subject = lastIdentifier(String(trimmed.dropLast()))
            } else {
                subject = lastIdentifier(trimmed)
            }
            if let v = interpreter.variable(subject), case .object(let o) = v, let m = o as? any ModelValue {
                names = m.layerNames
            } else if !subject.isEmpty, interpreter.variable(subject) == nil, reg[subject] != nil {
                // A string argument right after a command: a text or model name.
                names = ["austen:emma", "austen:pride", "austen:persuasion", "austen:mansfieldpark",
                         "austen:northangerabbey", "austen:sensesensibility", "gemma3", "smollm2"]
            } else {
                names = layerNamesInLine(prefix)
            }
            return names.filter { $0.hasPrefix(word) }.sorted()
        }
        // Field access: r.pp
        if let dot = word.lastIndex(of: ".") {
            let base = String(word[..<dot]), f = String(word[word.index(after: dot)...])
            var fields: [String] = []
            if let v = interpreter.variable(base) {
                if case .record(let r) = v { fields = r.keys }
                if case .object(let o) = v { fields = o.fieldNames }
            }
            return fields.filter { $0.hasPrefix(f) }.map { base + "." + $0 }.sorted()
        }
        var out = Set<String>()
        // key= names of the command being typed.
        if let head = commandHead(prefix), let b = reg[head] {
            let given = Set(prefix.split(whereSeparator: { " (,".contains($0) }).compactMap { w -> String? in
                guard let i = w.firstIndex(of: "=") else { return nil }
                return String(w[..<i])
            })
            for p in b.params where !given.contains(p.name) { out.insert(p.name + "=") }
            for p in b.params { for c in p.type.choices { out.insert(c) } }
        }
        for k in Keyword.allCases { out.insert(k.rawValue) }
        for n in reg.order { out.insert(n) }
        for n in reg.constantOrder { out.insert(n) }
        for n in interpreter.state.globals.keys { out.insert(n) }
        return out.filter { $0.hasPrefix(word) }.sorted()
    }

    func lastIdentifier(_ s: String) -> String {
        var id = ""
        for ch in s.reversed() {
            if ch.isLetter || ch.isNumber || ch == "_" { id.insert(ch, at: id.startIndex) } else { break }
        }
        return id
    }

    /// Layer names of any model variable named on the line (for a string argument after it).
    func layerNamesInLine(_ line: String) -> [String] {
        for w in line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).reversed() {
            if let v = interpreter.variable(String(w)), case .object(let o) = v, let m = o as? any ModelValue { return m.layerNames }
        }
        return []
    }

    /// The command whose arguments are being typed: the first name of the statement (after
    /// `x =`), or the name after the innermost unclosed '('.
    func commandHead(_ prefix: String) -> String? {
        var depth = 0
        var start = prefix.startIndex
        var i = prefix.endIndex
        while i > prefix.startIndex {
            i = prefix.index(before: i)
            let ch = prefix[i]
            if ch == ")" { depth += 1 } else if ch == "(" {
                if depth == 0 { start = prefix.index(after: i); break }
                depth -= 1
            } else if ch == "{" || ch == ";" { if depth == 0 { start = prefix.index(after: i); break } }
        }
        var s = prefix[start...].trimmingCharacters(in: .whitespaces)
        // Skip `x =` and `for x in`.
        if let eq = s.range(of: "=") {
            let lhs = s[..<eq.lowerBound].trimmingCharacters(in: .whitespaces)
            if Parser.isValidName(lhs) { s = s[eq.upperBound...].trimmingCharacters(in: .whitespaces) }
        }
        if s.hasPrefix("for "), let r = s.range(of: " in ") { s = String(s[r.upperBound...]) }
        if s.hasPrefix("if ") { s = String(s.dropFirst(3)) }
        let head = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !head.isEmpty, s.count > head.count else { return nil }
        return String(head)
    }
}

