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
    /// The ids that end a generated text (EOS, end of turn), from the file.
    public let endIDs: Set<Int32>
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

    public init(tokens: [String], merges: [String], preTokenizer: PreTokenizer, controlTokens: Set<Int32> = [],
                endIDs: Set<Int32> = []) {
        self.tokens = tokens
        self.endIDs = endIDs.filter { $0 >= 0 && Int($0) < tokens.count }
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
        /// Every element of a string array (a non-string element would shift the ids after it).
        func strings(_ key: String) throws -> [String] {
            guard let items = gguf.metadata[key]?.array else { throw fail(key, "missing or not a string array") }
            return try items.enumerated().map { i, v in
                guard let s = v.string else { throw fail(key, "item \(i) is \(v), not a string") }
                return s
            }
        }
        let toks = try strings("tokenizer.ggml.tokens")
        guard !toks.isEmpty else { throw fail("tokenizer.ggml.tokens", "missing or not a string array") }
        guard toks.count < Int(Int32.max) else { throw fail("tokenizer.ggml.tokens", "\(toks.count) tokens is too many") }
        let merges = try strings("tokenizer.ggml.merges")
        let pre = gguf.string("tokenizer.ggml.pre") ?? "default"
        var control = Set<Int32>()
        if let v = gguf.metadata["tokenizer.ggml.token_type"] {
            guard let types = v.array, types.count == toks.count else {
                throw fail("tokenizer.ggml.token_type", "must be an array of one integer per token (\(toks.count)), got \(v)")
            }
            for (i, t) in types.enumerated() {
                guard let ti = t.int else { throw fail("tokenizer.ggml.token_type", "item \(i) is \(t), not an integer") }
                if ti == 3 || ti == 4 { control.insert(Int32(i)) }
            }
        }
        // EOS and end-of-turn ids (range-checked against the embedding by the loader).
        let ends = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"].compactMap { gguf.metadata[$0]?.int }
            .compactMap { Int32(exactly: $0) }
        self.init(tokens: toks, merges: merges, preTokenizer: pre == "smollm" ? .smollm : .gpt2, controlTokens: control,
                  endIDs: Set(ends))
    }

    /// Builds the tokenizer of a HuggingFace `tokenizer.json` (BPE model). The vocabulary's ids
    /// must be 0…n−1, each once; every merge must join two tokens of the vocabulary into a
    /// third (as the HF library requires); added tokens must agree with the vocabulary.
    public convenience init(tokenizerJSON path: String, endIDs: Set<Int32> = []) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelFileError(file: path, field: "", "cannot read")
        }
        func fail(_ field: String, _ msg: String) -> ModelFileError { ModelFileError(file: path, field: field, msg) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw fail("", "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw fail("model", "missing or not an object") }
        if let type = model["type"], !(type is NSNull) {
            guard (type as? String) == "BPE" else { throw fail("model.type", "only BPE is supported, got \(type)") }
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw fail("model.vocab", "missing or not an object") }
        var toks = try Self.vocabulary(vocab, fail)
        let vocabCount = toks.count
        let control = try Self.addedTokens(root["added_tokens"], into: &toks, vocabCount: vocabCount, fail)
        let merges = try Self.merges(model["merges"], toks: toks, vocabCount: vocabCount, fail)
        let text = String(decoding: data, as: UTF8.self)
        let pre: PreTokenizer = text.contains("\"individual_digits\": true") || text.contains("\"individual_digits\":true") ? .smollm : .gpt2
        self.init(tokens: toks, merges: merges, preTokenizer: pre, controlTokens: control, endIDs: endIDs)
    }

    /// `model.vocab` as a token list: ids must be exact integers 0…n−1, each used once.
    private static func vocabulary(_ vocab: [String: Any], _ fail: (String, String) -> ModelFileError) throws -> [String] {
        var toks = [String?](repeating: nil, count: vocab.count)
        for (k, v) in vocab.sorted(by: { $0.key < $1.key }) {
            guard let i = JSONConfig.integer(v) else { throw fail("model.vocab", "id of '\(k)' is \(v), not an integer") }
            guard i >= 0 && i < toks.count else {
                throw fail("model.vocab", "id \(i) of '\(k)' is outside 0…\(toks.count - 1) (the vocabulary has \(toks.count) tokens)")
            }
            if let other = toks[i] { throw fail("model.vocab", "id \(i) is given to both '\(other)' and '\(k)'") }
            toks[i] = k
        }
        return toks.map { $0! }
    }

    /// Adds `added_tokens` to `toks` (beyond the vocabulary, or repeating a vocabulary entry
    /// exactly); returns the special ones' ids.
    private static func addedTokens(_ raw: Any?, into toks: inout [String], vocabCount: Int,
                                    _ fail: (String, String) -> ModelFileError) throws -> Set<Int32> {
        guard let raw, !(raw is NSNull) else { return [] }
        guard let list = raw as? [Any] else { throw fail("added_tokens", "not an array") }
        var control = Set<Int32>()
        var seen = Set<Int>()
        let limit = vocabCount + list.count
        for (n, item) in list.enumerated() {
            let field = "added_tokens[\(n)]"
            guard let t = item as? [String: Any], let idv = t["id"], let id = JSONConfig.integer(idv),
                  let content = t["content"] as? String else {
                throw fail(field, "needs an integer id and a string content")
            }
            guard id >= 0 && id < limit else {
                throw fail(field, "id \(id) is outside 0…\(limit - 1) (\(vocabCount) vocabulary tokens and \(list.count) added)")
            }
            guard seen.insert(id).inserted else { throw fail(field, "id \(id) is added twice") }
            if id < vocabCount && toks[id] != content {
                throw fail(field, "id \(id) is '\(content)' here but '\(toks[id])' in model.vocab")
            }
            while toks.count <= id { toks.append("") }
            toks[id] = content
            if (t["special"] as? Bool) == true { control.insert(Int32(id)) }
        }
        return control
    }

    /// `model.merges` (strings "a b" or pairs ["a", "b"]): each must join two vocabulary tokens
    /// into a third.
    private static func merges(_ raw: Any?, toks: [String], vocabCount: Int,
                               _ fail: (String, String) -> ModelFileError) throws -> [String] {
        guard let list = raw as? [Any] else { throw fail("model.merges", "missing or not an array") }
        let known = Set(toks.prefix(vocabCount))
        return try list.enumerated().map { i, m in
            let parts: [String]
            if let s = m as? String {
                parts = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let p = m as? [Any], p.count == 2, let a = p[0] as? String, let b = p[1] as? String {
                parts = [a, b]
            } else {
                throw fail("model.merges[\(i)]", "not a string \"a b\" or a pair of strings")
            }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw fail("model.merges[\(i)]", "'\(m)' is not two tokens separated by one space")
            }
            for t in [parts[0], parts[1], parts[0] + parts[1]] where !known.contains(t) {
                throw fail("model.merges[\(i)]", "merge '\(parts[0]) \(parts[1])' uses '\(t)', which is not in model.vocab")
            }
            return parts[0] + " " + parts[1]
        }
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
