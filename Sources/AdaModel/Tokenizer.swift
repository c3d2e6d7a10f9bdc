import Foundation

/// GPT-2 byte-level BPE tokenizer (as used by LLaMA-family models such as SmolLM2), built
/// from a GGUF vocabulary and merge list or from a HuggingFace `tokenizer.json`.
public final class BPETokenizer: @unchecked Sendable {
    public enum PreTokenizer: String, Sendable {
        /// GPT-2's split regex only.
        case gpt2
        /// SmolLM: every digit becomes a piece of its own, then the GPT-2 regex.
        case smollm
    }

    public let tokens: [String]
    public let preTokenizer: PreTokenizer
    private let vocab: [String: Int32]
    private let ranks: [String: Int]
    /// Token ids whose text is written verbatim when decoding (control tokens).
    private let verbatim: Set<Int32>
    private let lock = NSLock()
    private var cache: [String: [Int32]] = [:]

    static let byteToUnicode: [Character] = {
        var bs: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) {
            bs.append(b)
            cs.append(256 + n)
            n += 1
        }
        var table = [Character](repeating: " ", count: 256)
        for (b, c) in zip(bs, cs) { table[b] = Character(Unicode.Scalar(UInt32(c))!) }
        return table
    }()

    static let unicodeToByte: [Character: UInt8] = {
        var d: [Character: UInt8] = [:]
        for (b, c) in byteToUnicode.enumerated() { d[c] = UInt8(b) }
        return d
    }()

    public init(tokens: [String], merges: [String], preTokenizer: PreTokenizer, controlTokens: Set<Int32> = []) {
        self.tokens = tokens
        self.preTokenizer = preTokenizer
        var v: [String: Int32] = [:]
        v.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where v[t] == nil { v[t] = Int32(i) }
        vocab = v
        var r: [String: Int] = [:]
        r.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() where r[m] == nil { r[m] = i }
        ranks = r
        verbatim = controlTokens
    }

    public var vocabularySize: Int { tokens.count }

    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    public convenience init(gguf: GGUFFile) throws {
        func fail(_ key: String, _ msg: String) -> ModelFileError {
            ModelFileError(file: gguf.path, field: "metadata '\(key)'", msg)
        }
        guard gguf.string("tokenizer.ggml.model") == "gpt2" else {
            throw fail("tokenizer.ggml.model", "only GPT-2 byte-level BPE is supported, got \(gguf.metadata["tokenizer.ggml.model"]?.description ?? "nothing")")
        }
        guard let toks = gguf.metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string), !toks.isEmpty else {
            throw fail("tokenizer.ggml.tokens", "missing or not a string array")
        }
        guard let merges = gguf.metadata["tokenizer.ggml.merges"]?.array?.compactMap(\.string) else {
            throw fail("tokenizer.ggml.merges", "missing or not a string array")
        }
        let pre = gguf.string("tokenizer.ggml.pre") ?? "default"
        let types = gguf.metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
        var control = Set<Int32>()
        for (i, t) in types.enumerated() where t == 3 || t == 4 { control.insert(Int32(i)) }
        self.init(tokens: toks, merges: merges, preTokenizer: pre == "smollm" ? .smollm : .gpt2, controlTokens: control)
    }

    /// Builds the tokenizer of a HuggingFace `tokenizer.json` (BPE model).
    public convenience init(tokenizerJSON path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelFileError(file: path, field: "", "cannot read")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = root["model"] as? [String: Any],
              let vocab = model["vocab"] as? [String: Any] else {
            throw ModelFileError(file: path, field: "model.vocab", "missing or not an object")
        }
        var toks = [String](repeating: "", count: vocab.count)
        for (k, v) in vocab {
            guard let i = (v as? NSNumber)?.intValue, i >= 0, i < toks.count else {
                throw ModelFileError(file: path, field: "model.vocab", "id of '\(k)' out of range")
            }
            toks[i] = k
        }
        var control = Set<Int32>()
        for t in (root["added_tokens"] as? [[String: Any]]) ?? [] {
            guard let id = (t["id"] as? NSNumber)?.intValue, let content = t["content"] as? String else { continue }
            while toks.count <= id { toks.append("") }
            toks[id] = content
            if (t["special"] as? Bool) == true { control.insert(Int32(id)) }
        }
        let rawMerges = (model["merges"] as? [Any]) ?? []
        let merges: [String] = rawMerges.compactMap { m in
            if let s = m as? String { return s }
            if let p = m as? [String], p.count == 2 { return p[0] + " " + p[1] }
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        let pre: PreTokenizer = text.contains("\"individual_digits\": true") || text.contains("\"individual_digits\":true") ? .smollm : .gpt2
        self.init(tokens: toks, merges: merges, preTokenizer: pre, controlTokens: control)
    }

    // MARK: Encoding

    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3)
        for piece in Self.split(text, preTokenizer) {
            lock.lock()
            let cached = cache[piece]
            lock.unlock()
            if let c = cached { out.append(contentsOf: c); continue }
            let ids = bpe(piece)
            lock.lock()
            if cache.count < 200_000 { cache[piece] = ids }
            lock.unlock()
            out.append(contentsOf: ids)
        }
        return out
    }

    private func bpe(_ piece: String) -> [Int32] {
        var symbols: [String] = piece.utf8.map { String(Self.byteToUnicode[Int($0)]) }
        while symbols.count > 1 {
            var best = Int.max
            var bestIndex = -1
            for i in 0..<(symbols.count - 1) {
                if let r = ranks[symbols[i] + " " + symbols[i + 1]], r < best {
                    best = r
                    bestIndex = i
                }
            }
            if bestIndex < 0 { break }
            let left = symbols[bestIndex], right = symbols[bestIndex + 1]
            var merged: [String] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i < symbols.count - 1 && symbols[i] == left && symbols[i + 1] == right {
                    merged.append(left + right)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        var ids: [Int32] = []
        for s in symbols {
            if let id = vocab[s] {
                ids.append(id)
            } else {
                // Unknown merged symbol: fall back to its single bytes.
                for ch in s { if let id = vocab[String(ch)] { ids.append(id) } }
            }
        }
        return ids
    }

    @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    /// Pre-tokenization into pieces (each then byte-level BPE encoded).
    public static func split(_ text: String, _ mode: PreTokenizer) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = []
        func emit(_ r: Range<Int>) {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            pieces.append(String(s))
        }
        if mode == .smollm {
            var start = 0
            for i in 0..<scalars.count where isNumber(scalars[i]) {
                if start < i { gpt2Split(scalars, start..<i, emit) }
                emit(i..<(i + 1))
                start = i + 1
            }
            if start < scalars.count { gpt2Split(scalars, start..<scalars.count, emit) }
        } else {
            gpt2Split(scalars, 0..<scalars.count, emit)
        }
        return pieces
    }

    /// GPT-2's pattern: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    static func gpt2Split(_ s: [Unicode.Scalar], _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        var i = range.lowerBound
        let n = range.upperBound
        func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }
        while i < n {
            let c = s[i]
            // Contractions.
            if c == "'" && i + 1 < n {
                let c1 = s[i + 1]
                if c1 == "s" || c1 == "t" || c1 == "m" || c1 == "d" { emit(i..<(i + 2)); i += 2; continue }
                if i + 2 < n {
                    let c2 = s[i + 2]
                    if (c1 == "r" && c2 == "e") || (c1 == "v" && c2 == "e") || (c1 == "l" && c2 == "l") {
                        emit(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // Optional single space, then a run of one class.
            let j = (c == " " && i + 1 < n) ? i + 1 : i
            let d = s[j]
            let classes: [(Unicode.Scalar) -> Bool] = [isLetter, isNumber, isOther]
            var matched = false
            for cls in classes where cls(d) && (j == i || c == " ") {
                var e = j + 1
                while e < n && cls(s[e]) { e += 1 }
                emit(i..<e)
                i = e
                matched = true
                break
            }
            if matched { continue }
            // Whitespace runs.
            if isSpace(c) {
                var e = i + 1
                while e < n && isSpace(s[e]) { e += 1 }
                if e == n || e - i == 1 {
                    emit(i..<e)
                    i = e
                } else {
                    // \s+(?!\S): leave the last whitespace to attach to the next word.
                    emit(i..<(e - 1))
                    i = e - 1
                }
                continue
            }
            // Unreachable in practice; consume one scalar to guarantee progress.
            emit(i..<(i + 1))
            i += 1
        }
    }

    // MARK: Decoding

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard id >= 0, Int(id) < tokens.count else { continue }
            let t = tokens[Int(id)]
            if verbatim.contains(id) {
                bytes.append(contentsOf: Array(t.utf8))
                continue
            }
            for ch in t {
                if let b = Self.unicodeToByte[ch] { bytes.append(b) } else { bytes.append(contentsOf: Array(String(ch).utf8)) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func token(_ id: Int32) -> String {
        guard id >= 0, Int(id) < tokens.count else { return "<\(id)>" }
        return decode([id])
    }
}
