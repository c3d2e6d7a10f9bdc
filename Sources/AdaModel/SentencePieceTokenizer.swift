/// The SentencePiece-style tokenizer of GGUF files whose `tokenizer.ggml.model` is `llama`
/// (Gemma 3, LLaMA 1/2), as llama.cpp runs it:
///
/// 1. user-defined tokens (type 4: Gemma's `\n`, `\n\n`, runs of spaces or tabs, HTML tags) are
///    cut out of the text first, the longest first, each taking its leftmost non-overlapping
///    occurrences in what is still plain text (equal lengths in id order; Gemma has no two of
///    equal length that can overlap); control and unknown tokens are not looked for in the text;
/// 2. each stretch of plain text between them gets a leading space when
///    `tokenizer.ggml.add_space_prefix` is true (llama.cpp's default; Gemma's is false) and the
///    stretch opens the text or follows a user-defined token; spaces become `▁` (U+2581);
/// 3. BPE on scores: start from the UTF-8 characters and repeatedly merge the adjacent pair
///    whose concatenation is a token with the highest `tokenizer.ggml.scores` entry (leftmost
///    on ties), with a priority queue over the pairs; a final symbol that is no token is
///    written as byte tokens `<0xNN>`;
/// 4. BOS first when `tokenizer.ggml.add_bos_token` is true (the default), EOS last when
///    `tokenizer.ggml.add_eos_token` is.
///
/// Decoding is the inverse: `▁` → space, byte tokens → their byte, user-defined tokens as
/// written, control, unknown and unused tokens (BOS, EOS, padding) → nothing; when a space
/// prefix is added, the first piece of text loses one leading space. A `▁` in the input
/// decodes as a space: it is the one character that does not round-trip.
public final class SentencePieceTokenizer: TextTokenizer {
    /// llama.cpp's token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let tokens: [String]
    public let scores: [Float]
    public let types: [TokenType]
    public let addBOS: Bool
    public let addEOS: Bool
    public let addSpacePrefix: Bool
    /// Beginning- and end-of-sequence ids; nil when the file names none.
    public let bos: Int32?
    public let eos: Int32?
    /// EOS and, when the vocabulary has it, `<end_of_turn>` (Gemma's end of a chat turn).
    public let endIDs: Set<Int32>
    /// Written for a byte that has no byte token.
    public let unknown: Int32?

    private let table: TokenByteTable
    private let splitter: UserTokenSplitter
    /// The token written for each byte value in byte fallback.
    private let byteTokens: [Int32]
    /// The byte of each byte token (type 6), -1 for other tokens.
    private let byteValues: [Int16]

    /// Builds the tokenizer; every array must have one entry per token and every id must name
    /// a token. `file` names the source in errors.
    public init(tokens: [String], scores: [Float], types: [TokenType], bos: Int32?, eos: Int32?, unknown: Int32?,
                addBOS: Bool, addEOS: Bool, addSpacePrefix: Bool, file: String) throws {
        func fail(_ key: String, _ msg: String) -> ModelFileError {
            ModelFileError(file: file, field: "metadata 'tokenizer.ggml.\(key)'", msg)
        }
        guard !tokens.isEmpty else { throw fail("tokens", "the vocabulary is empty") }
        guard tokens.count < Int(Int32.max) else { throw fail("tokens", "\(tokens.count) tokens is too many") }
        guard scores.count == tokens.count else {
            throw fail("scores", "has \(scores.count) entries for \(tokens.count) tokens")
        }
        guard types.count == tokens.count else {
            throw fail("token_type", "has \(types.count) entries for \(tokens.count) tokens")
        }
        if let i = scores.firstIndex(where: \.isNaN) { throw fail("scores", "entry \(i) is NaN") }
        for (key, id) in [("bos_token_id", bos), ("eos_token_id", eos), ("unknown_token_id", unknown)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw fail(key, "token id \(id) is outside the vocabulary (\(tokens.count) tokens)")
            }
        }
        if addBOS && bos == nil { throw fail("add_bos_token", "is true, but there is no bos_token_id") }
        if addEOS && eos == nil { throw fail("add_eos_token", "is true, but there is no eos_token_id") }
        let table = try TokenByteTable(tokens) { first, second in
            throw fail("tokens", "tokens \(first) and \(second) are both '\(tokens[first])'")
        }
        self.table = table
        self.byteValues = try Self.byteValues(tokens, types, fail)
        self.byteTokens = try Self.byteFallback(table, unknown, fail)
        let user = types.indices.filter { types[$0] == .userDefined }.map { Int32($0) }
        self.splitter = UserTokenSplitter(tokens: tokens, ids: user)
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.bos = bos
        self.eos = eos
        var ends = Set(eos.map { [$0] } ?? [])
        if let eot = tokens.firstIndex(of: "<end_of_turn>") { ends.insert(Int32(eot)) }
        endIDs = ends
        self.unknown = unknown
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }

    /// The byte of each byte-type token, which must be spelled `<0xNN>`.
    private static func byteValues(_ tokens: [String], _ types: [TokenType],
                                   _ fail: (String, String) -> ModelFileError) throws -> [Int16] {
        var values = [Int16](repeating: -1, count: tokens.count)
        for i in types.indices where types[i] == .byte {
            let u = Array(tokens[i].utf8)
            guard u.count == 6, u.starts(with: Array("<0x".utf8)), u[5] == UInt8(ascii: ">"),
                  let v = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) else {
                throw fail("tokens", "token \(i) is a byte token but is spelled '\(tokens[i])', not <0xNN>")
            }
            values[i] = Int16(v)
        }
        return values
    }

    /// The token for each byte value: `<0xNN>`, else the byte itself as a one-character token,
    /// else the unknown token (as llama.cpp looks them up).
    private static func byteFallback(_ table: TokenByteTable, _ unknown: Int32?,
                                     _ fail: (String, String) -> ModelFileError) throws -> [Int32] {
        let hex = Array("0123456789ABCDEF")
        return try (0..<256).map { b in
            if let id = table.id(of: "<0x\(hex[b >> 4])\(hex[b & 15])>") { return id }
            if b < 0x80, let id = table.id(of: String(UnicodeScalar(UInt8(b)))) { return id }
            if let unknown { return unknown }
            let name = "<0x\(hex[b >> 4])\(hex[b & 15])>"
            throw fail("tokens", "byte 0x\(hex[b >> 4])\(hex[b & 15]) has no token (\(name)) and there is no unknown_token_id")
        }
    }

    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(metadata: gguf.metadata, file: gguf.path)
    }

    /// Builds the tokenizer from GGUF metadata (`tokenizer.ggml.model` must be `llama`; tokens,
    /// scores and token types are required, the flags and special ids take llama.cpp's
    /// defaults for this model: BOS 1, EOS 2, unknown 0, BOS added, space prefix added).
    public convenience init(metadata m: [String: GGUFValue], file: String) throws {
        func fail(_ key: String, _ msg: String) -> ModelFileError {
            ModelFileError(file: file, field: "metadata '\(key)'", msg)
        }
        let model = m["tokenizer.ggml.model"]
        guard model?.string == "llama" else {
            throw fail("tokenizer.ggml.model", "only SentencePiece-style 'llama' vocabularies are read by this tokenizer, got \(model?.description ?? "nothing")")
        }
        let toks: [String] = try Self.items(m, "tokenizer.ggml.tokens", "a string", fail) { $0.string }
        let scores: [Float] = try Self.items(m, "tokenizer.ggml.scores", "a number", fail) { v in
            switch v {
            case .float32(let f): return f
            case .int32(let i): return Float(i)
            default: return nil
            }
        }
        let types: [TokenType] = try Self.items(m, "tokenizer.ggml.token_type", "a token type 0…6", fail) { v in
            v.int.flatMap { TokenType(rawValue: $0) }
        }
        func flag(_ key: String, _ fallback: Bool) throws -> Bool {
            guard let v = m["tokenizer.ggml." + key] else { return fallback }
            guard case .bool(let b) = v else { throw fail("tokenizer.ggml." + key, "not a bool: \(v)") }
            return b
        }
        func id(_ key: String, _ fallback: Int32) throws -> Int32? {
            guard let v = m["tokenizer.ggml." + key] else { return Int(fallback) < toks.count ? fallback : nil }
            guard let i = v.int, let i32 = Int32(exactly: i) else {
                throw fail("tokenizer.ggml." + key, "not a token id: \(v)")
            }
            return i32
        }
        try self.init(tokens: toks, scores: scores, types: types,
                      bos: try id("bos_token_id", 1), eos: try id("eos_token_id", 2),
                      unknown: try id("unknown_token_id", 0),
                      addBOS: try flag("add_bos_token", true), addEOS: try flag("add_eos_token", false),
                      addSpacePrefix: try flag("add_space_prefix", true), file: file)
    }

    /// Every item of an array-valued key, converted by `convert` (nil: not `what`).
    private static func items<T>(_ m: [String: GGUFValue], _ key: String, _ what: String,
                                 _ fail: (String, String) -> ModelFileError,
                                 _ convert: (GGUFValue) -> T?) throws -> [T] {
        guard let list = m[key]?.array else { throw fail(key, "missing or not an array") }
        var out: [T] = []
        out.reserveCapacity(list.count)
        for (i, v) in list.enumerated() {
            guard let x = convert(v) else { throw fail(key, "item \(i) is \(v), not \(what)") }
            out.append(x)
        }
        return out
    }

    public var vocabularySize: Int { tokens.count }

    /// The BOS that `encode` puts first; nil when the file's `add_bos_token` is false.
    public var bosID: Int32? { addBOS ? bos : nil }

    // MARK: Encoding

    /// The token ids of `text`, with BOS (and EOS) as the file asks.
    public func encode(_ text: String) -> [Int32] {
        encode(text, addBOS: addBOS)
    }

    /// The token ids of `text`, with BOS first only when `addBOS` and the file names one (EOS
    /// as the file asks).
    public func encode(_ text: String, addBOS: Bool) -> [Int32] {
        var out: [Int32] = []
        if addBOS, let bos { out.append(bos) }
        let utf8 = Array(text.utf8)
        out.reserveCapacity(out.count + utf8.count / 3)
        utf8.withUnsafeBufferPointer { text in
            var merger = SymbolMerger()
            var piece: [UInt8] = []
            var afterSpecial = true
            var at = 0
            func plain(_ end: Int) {
                guard at < end else { return }
                piece.removeAll(keepingCapacity: true)
                func space() { piece.append(0xE2); piece.append(0x96); piece.append(0x81) }  // ▁
                if addSpacePrefix && afterSpecial { space() }
                for k in at..<end {
                    if text[k] == 0x20 { space() } else { piece.append(text[k]) }
                }
                piece.withUnsafeBufferPointer { merger.encode($0, table: table, scores: scores, byteTokens: byteTokens, into: &out) }
                afterSpecial = false
            }
            for (offset, rank) in splitter.matches(text) {
                plain(offset)
                let t = splitter.ranked[rank]
                out.append(t.id)
                afterSpecial = true
                at = offset + t.length
            }
            plain(text.count)
        }
        if addEOS, let eos { out.append(eos) }
        return out
    }

    // MARK: Decoding

    /// The text of `ids`: see the type's documentation. Ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        var stripSpace = addSpacePrefix
        for id in ids {
            guard id >= 0, Int(id) < tokens.count else { continue }
            let before = bytes.count
            appendPiece(Int(id), to: &bytes)
            if stripSpace && bytes.count > before {
                if bytes[before] == 0x20 { bytes.remove(at: before) }
                stripSpace = false
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func appendPiece(_ i: Int, to bytes: inout [UInt8]) {
        switch types[i] {
        case .normal:
            // `▁` (E2 96 81) is a space.
            let u = Array(tokens[i].utf8)
            var k = 0
            while k < u.count {
                if u[k] == 0xE2 && k + 2 < u.count && u[k + 1] == 0x96 && u[k + 2] == 0x81 {
                    bytes.append(0x20)
                    k += 3
                } else {
                    bytes.append(u[k])
                    k += 1
                }
            }
        case .userDefined:
            bytes.append(contentsOf: tokens[i].utf8)
        case .byte:
            bytes.append(UInt8(byteValues[i]))
        case .control, .unknown, .unused, .undefined:
            break
        }
    }

    /// One token's text for display: special tokens by name (`<bos>`), a byte token as its
    /// character when it is ASCII and as `<0xNN>` otherwise; `<id>` outside the vocabulary.
    public func token(_ id: Int32) -> String {
        guard id >= 0, Int(id) < tokens.count else { return "<\(id)>" }
        let i = Int(id)
        switch types[i] {
        case .normal, .userDefined:
            var bytes: [UInt8] = []
            appendPiece(i, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        case .byte:
            return byteValues[i] < 0x80 ? String(UnicodeScalar(UInt8(byteValues[i]))) : tokens[i]
        case .control, .unknown, .unused, .undefined:
            return tokens[i]
        }
    }
}
