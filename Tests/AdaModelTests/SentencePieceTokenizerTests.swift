import AdaModel
import AdaTestSupport
import Foundation
import Testing

/// Gemma 3 270M's tokenizer, built once from the fetched GGUF file's metadata.
enum Gemma {
    static let path = DataPaths.root + "/models/gemma-3-270m-q4_k_m.gguf"
    static let present = FileManager.default.fileExists(atPath: path)
    /// Outside CI the tests that need the model are skipped when it is missing; in CI they
    /// run, and a missing model fails them.
    static let runs = present || ProcessInfo.processInfo.environment["CI"] != nil
    static let skipNote: Comment = "needs \(path) (run scripts/setup); always runs in CI"

    static let loaded: (tokenizer: SentencePieceTokenizer?, error: String) = {
        do {
            // GGUFFile reads the tensor table too, and refuses types it cannot decode (Q5_0 here);
            // the metadata alone is then read by the tests' own reader.
            if let g = try? GGUFFile(path: path) { return (try SentencePieceTokenizer(gguf: g), "") }
            return (try SentencePieceTokenizer(metadata: try GGUFMetadataReader.metadata(path: path), file: path), "")
        } catch {
            return (nil, "\(error)")
        }
    }()

    static func tokenizer() throws -> SentencePieceTokenizer {
        try #require(loaded.tokenizer, "Gemma tokenizer not built: \(loaded.error) (run scripts/setup)")
    }
}

@Suite("SentencePiece tokenizer: Gemma 3 270M", .enabled(if: Gemma.runs, Gemma.skipNote))
struct SentencePieceGemmaTests {
    @Test func vocabulary() throws {
        let t = try Gemma.tokenizer()
        #expect(t.vocabularySize == 262_144)
        #expect(t.bosID == 2 && t.addBOS && !t.addEOS && !t.addSpacePrefix)
        #expect(t.token(2) == "<bos>" && t.token(1) == "<eos>")
        #expect(t.token(107) == "\n" && t.token(108) == "\n\n" && t.token(138) == "  ")
        #expect(t.token(236743) == " " && t.token(1902) == " world")
        #expect(t.token(238) == "\u{0}" && t.token(493) == "<0xFF>")
        #expect(t.token(-1) == "<-1>" && t.token(262_144) == "<262144>")
    }

    /// llama.cpp's tokenization of the model (docs/reference.md §3.1), BOS included.
    @Test(arguments: [
        ("Hello world! 123", [2, 9259, 1902, 236888, 236743, 236770, 236778, 236800] as [Int32]),
        ("Café déjà vu.", [2, 160319, 236859, 29234, 11042, 236761]),
        ("  multiple   spaces", [2, 138, 43819, 139, 35220]),
        ("\n", [2, 107]),
        ("PRIDE AND PREJUDICE\n\nBy Jane Austen", [2, 7719, 21073, 4715, 19214, 179353, 10067, 108, 2292, 18821, 146616]),
    ])
    func referenceVectors(text: String, ids: [Int32]) throws {
        let t = try Gemma.tokenizer()
        #expect(t.encode(text) == ids)
        #expect(t.decode(ids) == text)
        #expect(t.encode(text, addBOS: false) == Array(ids.dropFirst()))
    }

    /// Byte fallback and user-defined tokens inside text. The ids come from a separate
    /// transcription of llama.cpp's algorithm that reproduces the vectors above.
    @Test(arguments: [
        ("ඞ", [2, 462, 420, 396] as [Int32]),                    // U+0D9E: no token, three byte tokens
        ("\u{10FFFD}", [2, 482, 381, 429, 427]),
        ("\u{0}\u{1}\u{7F}", [2, 238, 249732, 251541]),
        ("a<table>b", [2, 236746, 168, 236763]),                  // an HTML tag is user-defined
        ("\t\t\tx", [2, 255970, 236781]),
        ("  \n  ", [2, 138, 107, 138]),
        ("<bos>", [2, 236820, 46757, 236813]),                    // control tokens are not cut out
        ("[multimodal]", [2, 5]),
    ])
    func fallbackAndUserTokens(text: String, ids: [Int32]) throws {
        let t = try Gemma.tokenizer()
        #expect(t.encode(text) == ids)
        #expect(t.decode(ids) == text)
    }

    @Test func emptyAndSpecial() throws {
        let t = try Gemma.tokenizer()
        #expect(t.encode("") == [2])
        #expect(t.encode("", addBOS: false) == [])
        #expect(t.decode([]) == "")
        // BOS, EOS, padding and unused tokens decode to nothing; out-of-range ids are skipped.
        #expect(t.decode([2, 1, 0, 6, -3, 262_144, 9259]) == "Hello")
        // U+2581 is how the vocabulary writes a space: it decodes as one.
        #expect(t.decode(t.encode("a\u{2581}b")) == "a b")
    }

    @Test func roundTripsOfAwkwardText() throws {
        let t = try Gemma.tokenizer()
        let samples = [
            "😀👍🏽👨‍👩‍👧‍👦 🇫🇷🏳️‍🌈", "日本語のテキスト、中文字符。한국어 텍스트", "e\u{0301} n\u{0303} a\u{0308}\u{0323}",
            "Ελληνικά, русский, עברית, العربية, हिन्दी, ไทย", "\u{0}\u{1}\u{7}\u{8}\t\u{B}\u{C}\r\n\u{1B}[0m\u{7F}\u{85}\u{9F}",
            "\u{FEFF}BOM \u{200B}zero\u{200D}width \u{2028}line\u{2029}para", "\u{10FFFF}\u{E000}\u{FFFD}\u{1D11E}",
            "   leading and trailing   ", "\n\n\n", " ", "\t\t x", String(repeating: " ", count: 100),
            String(repeating: "\n", count: 70) + "x" + String(repeating: "\t", count: 33),
            "<h1>Title</h1>\n<table><tr><td>1</td></tr></table>", "<start_of_turn>user\n<end_of_turn>",
            "<0x41> <unk> <pad>", String(repeating: "ab", count: 500), "0123456789" + String(repeating: "9", count: 50),
        ]
        for s in samples {
            let ids = t.encode(s)
            #expect(t.decode(ids) == s, "round trip of \(s.debugDescription)")
            #expect(ids.first == 2 && ids.allSatisfy { $0 >= 0 && $0 < 262_144 })
        }
    }

    @Test func roundTripsOfRandomStrings() throws {
        let t = try Gemma.tokenizer()
        var rng = TestRNG(seed: 20250301)
        for n in 0..<600 {
            let s = Self.randomText(&rng)
            let ids = t.encode(s)
            #expect(t.decode(ids) == s, "string \(n): \(s.debugDescription) → \(ids)")
            #expect(ids.first == 2 && ids.dropFirst().allSatisfy { $0 != 2 && $0 >= 0 && $0 < 262_144 })
        }
        // Random bytes made into a string (invalid UTF-8 becomes U+FFFD).
        for n in 0..<200 {
            let bytes = (0..<rng.int(0...60)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let s = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{2581}", with: "")
            #expect(t.decode(t.encode(s)) == s, "bytes \(n): \(bytes)")
        }
    }

    /// A mix of ASCII, whitespace runs (some longer than Gemma's longest run token), controls,
    /// Latin, CJK, emoji, HTML tags and any other scalar but U+2581.
    static func randomText(_ rng: inout TestRNG) -> String {
        var s = ""
        for _ in 0..<rng.int(0...30) {
            switch rng.int(0...9) {
            case 0...2: s.unicodeScalars.append(Unicode.Scalar(UInt8(rng.int(0x20...0x7E))))
            case 3: s += String(repeating: [" ", "\n", "\t", "\r\n"][rng.int(0...3)], count: rng.int(1...40))
            case 4: s.unicodeScalars.append(Unicode.Scalar(UInt8([0, 1, 8, 0x1B, 0x7F, 0x0B][rng.int(0...5)])))
            case 5: s.unicodeScalars.append(Unicode.Scalar(UInt32(rng.int(0xA0...0x24F)))!)
            case 6: s.unicodeScalars.append(Unicode.Scalar(UInt32(rng.int(0x4E00...0x9FFF)))!)
            case 7: s.unicodeScalars.append(Unicode.Scalar(UInt32(rng.int(0x1F300...0x1FAFF)))!)
            case 8: s += ["<table>", "</b>", "[multimodal]", "<bos>", "<0x41>", "\u{2028}", "e\u{301}"][rng.int(0...6)]
            default:
                var v = UInt32(rng.int(0...0x10FFFF))
                while (0xD800...0xDFFF).contains(v) || v == 0x2581 { v = UInt32(rng.int(0...0x10FFFF)) }
                s.unicodeScalars.append(Unicode.Scalar(v)!)
            }
        }
        return s
    }

    /// The whole novel: it encodes, round-trips, and gives as many tokens as llama.cpp.
    @Test func prideAndPrejudice() throws {
        let t = try Gemma.tokenizer()
        let text = try DataPaths.readText("austen:pride")
        #expect(text.utf8.count == 684_767)
        let clock = ContinuousClock()
        var ids: [Int32] = []
        let encodeTime = clock.measure { ids = t.encode(text) }
        var back = ""
        let decodeTime = clock.measure { back = t.decode(ids) }
        print("SentencePiece: Pride and Prejudice, \(text.count) characters → \(ids.count) tokens; encode \(encodeTime), decode \(decodeTime)")
        #expect(back == text)
        #expect(ids.first == 2 && ids.allSatisfy { $0 >= 0 && $0 < 262_144 })
        // Counted with the separate transcription of llama.cpp's algorithm mentioned above.
        #expect(ids.count == 161_111)
        #expect(Array(ids.prefix(11)) == [2, 7719, 21073, 4715, 19214, 179353, 10067, 108, 2292, 18821, 146616])
        // llama-perplexity -c 512 cuts the first 50,000 characters into 23 chunks.
        let head = String(text.unicodeScalars.prefix(50_000))
        #expect(t.encode(head).count / 512 == 23)
    }

    @Test func bothTokenizersAsTextTokenizer() throws {
        var all: [any TextTokenizer] = [try Gemma.tokenizer()]
        if let smol = RealModel.tokenizer { all.append(smol) }
        for t in all {
            let ids = t.encode("Hello, world.")
            #expect(t.decode(ids) == "Hello, world.")
            #expect(ids.first == t.bosID || t.bosID == nil)
            #expect(ids.allSatisfy { Int($0) < t.vocabularySize })
        }
        #expect(all[0].bosID == 2)
        if all.count > 1 { #expect(all[1].bosID == nil) }
    }
}

/// The algorithm and the checks on hand-made vocabularies.
@Suite("SentencePiece tokenizer: small vocabularies")
struct SentencePieceVocabularyTests {
    typealias T = SentencePieceTokenizer
    static let file = "tiny.gguf"

    /// `<unk>`, `<s>`, `</s>`, the 256 byte tokens, then `pieces` (text, score, type).
    static func vocabulary(_ pieces: [(String, Float, T.TokenType)], bytes: Bool = true)
        -> (tokens: [String], scores: [Float], types: [T.TokenType]) {
        var all: [(String, Float, T.TokenType)] = [("<unk>", 0, .unknown), ("<s>", 0, .control), ("</s>", 0, .control)]
        if bytes { all += (0..<256).map { (String(format: "<0x%02X>", $0), 0, .byte) } }
        all += pieces
        return (all.map(\.0), all.map(\.1), all.map(\.2))
    }

    static func tokenizer(_ pieces: [(String, Float, T.TokenType)], bytes: Bool = true, spacePrefix: Bool = false,
                          addEOS: Bool = false) throws -> T {
        let v = vocabulary(pieces, bytes: bytes)
        return try T(tokens: v.tokens, scores: v.scores, types: v.types, bos: 1, eos: 2, unknown: 0,
                     addBOS: true, addEOS: addEOS, addSpacePrefix: spacePrefix, file: file)
    }

    /// Ids of token texts (byte tokens by their `<0xNN>` names).
    static func ids(_ t: T, _ names: [String]) -> [Int32] {
        names.map { n in Int32(t.tokens.firstIndex(of: n)!) }
    }

    @Test func highestScoreFirstLeftmostOnTies() throws {
        let letters: [(String, Float, T.TokenType)] = [("a", -5, .normal), ("b", -5, .normal), ("c", -5, .normal)]
        var t = try Self.tokenizer(letters + [("ab", -1, .normal), ("bc", -1, .normal)])
        #expect(t.encode("abc") == Self.ids(t, ["<s>", "ab", "c"]))
        t = try Self.tokenizer(letters + [("ab", -1, .normal), ("bc", -0.5, .normal)])
        #expect(t.encode("abc") == Self.ids(t, ["<s>", "a", "bc"]))
        // A merge opens new pairs: "ab" then "abc", although "bc" scores higher than "abc".
        t = try Self.tokenizer(letters + [("ab", -1, .normal), ("bc", -2, .normal), ("abc", -3, .normal)])
        #expect(t.encode("abc") == Self.ids(t, ["<s>", "abc"]))
        // Pairs made stale by a merge are skipped: aaaa → aa|aa → aaaa.
        t = try Self.tokenizer([("a", -5, .normal), ("aa", -1, .normal), ("aaaa", -2, .normal)])
        #expect(t.encode("aaaaa") == Self.ids(t, ["<s>", "aaaa", "a"]))
        #expect(t.decode(t.encode("aaaaa")) == "aaaaa")
    }

    @Test func spacesAndPrefix() throws {
        let pieces: [(String, Float, T.TokenType)] = [("\u{2581}", -9, .normal), ("a", -5, .normal), ("\u{2581}a", -1, .normal)]
        var t = try Self.tokenizer(pieces)
        #expect(t.encode("a a") == Self.ids(t, ["<s>", "a", "\u{2581}a"]))
        #expect(t.decode(t.encode("a a")) == "a a")
        t = try Self.tokenizer(pieces, spacePrefix: true, addEOS: true)
        #expect(t.encode("a a") == Self.ids(t, ["<s>", "\u{2581}a", "\u{2581}a", "</s>"]))
        #expect(t.decode(t.encode("a a")) == "a a")
        #expect(t.decode(t.encode(" a")) == " a")
    }

    @Test func byteFallbackAndUnknown() throws {
        var t = try Self.tokenizer([("a", -1, .normal)])
        #expect(t.encode("aé") == Self.ids(t, ["<s>", "a", "<0xC3>", "<0xA9>"]))
        #expect(t.decode(t.encode("aé")) == "aé")
        #expect(t.token(Self.ids(t, ["<0xC3>"])[0]) == "<0xC3>" && t.token(Self.ids(t, ["<0x41>"])[0]) == "A")
        // Without byte tokens a byte falls back to its one-character token, else to <unk>.
        t = try Self.tokenizer([("a", -1, .normal), ("z", -1, .normal)], bytes: false)
        #expect(t.encode("za\u{1}") == Self.ids(t, ["<s>", "z", "a", "<unk>"]))
        #expect(t.decode(t.encode("za\u{1}")) == "za")
    }

    /// User-defined tokens are cut out longest first, not leftmost-longest: in "xyzw" the
    /// three-byte "yzw" is taken before "xy" is looked for.
    @Test func userDefinedTokensLongestFirst() throws {
        let t = try Self.tokenizer([("xy", 0, .userDefined), ("yzw", 0, .userDefined), ("<s>x", 0, .userDefined)])
        #expect(t.encode("xyzw") == Self.ids(t, ["<s>", "<0x78>", "yzw"]))
        #expect(t.encode("xyxy") == Self.ids(t, ["<s>", "xy", "xy"]))
        #expect(t.decode(t.encode("xyzwxyx")) == "xyzwxyx")
        // Control tokens are not looked for in the text; user-defined ones are.
        #expect(t.encode("<s>x") == Self.ids(t, ["<s>", "<s>x"]))
        #expect(t.encode("<s>") == Self.ids(t, ["<s>", "<0x3C>", "<0x73>", "<0x3E>"]))
        #expect(t.decode(t.encode("<s>")) == "<s>")
    }

    /// Valid metadata for a small vocabulary, to be broken one key at a time.
    static func metadata() -> [String: GGUFValue] {
        let v = vocabulary([("a", -1, .normal)])
        return [
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array(v.tokens.map { .string($0) }),
            "tokenizer.ggml.scores": .array(v.scores.map { .float32($0) }),
            "tokenizer.ggml.token_type": .array(v.types.map { .int32(Int32($0.rawValue)) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.add_bos_token": .bool(true),
            "tokenizer.ggml.add_space_prefix": .bool(false),
        ]
    }

    @Test func metadataDefaults() throws {
        var m = Self.metadata()
        var t = try T(metadata: m, file: Self.file)
        #expect(t.bosID == 1 && t.eos == 2 && t.unknown == 0 && !t.addSpacePrefix)
        #expect(t.encode("a") == [1, Int32(t.tokens.firstIndex(of: "a")!)])
        m["tokenizer.ggml.add_bos_token"] = nil
        m["tokenizer.ggml.add_space_prefix"] = nil
        m["tokenizer.ggml.scores"] = .array(Self.vocabulary([("a", -1, .normal)]).scores.map { .int32(Int32($0)) })
        t = try T(metadata: m, file: Self.file)
        #expect(t.addBOS && t.addSpacePrefix && t.bosID == 1)
        m["tokenizer.ggml.add_bos_token"] = .bool(false)
        #expect(try T(metadata: m, file: Self.file).bosID == nil)
    }

    @Test func malformedMetadata() {
        let n = Self.metadata()["tokenizer.ggml.tokens"]!.array!.count
        let cases: [(String, GGUFValue?, [String])] = [
            ("tokenizer.ggml.model", .string("gpt2"), ["tokenizer.ggml.model", "gpt2"]),
            ("tokenizer.ggml.model", nil, ["tokenizer.ggml.model", "nothing"]),
            ("tokenizer.ggml.tokens", nil, ["tokenizer.ggml.tokens", "missing"]),
            ("tokenizer.ggml.tokens", .array([]), ["tokenizer.ggml.tokens", "empty"]),
            ("tokenizer.ggml.tokens", .array([.string("a"), .uint8(1)]), ["tokenizer.ggml.tokens", "item 1"]),
            ("tokenizer.ggml.scores", .array([.float32(0)]), ["tokenizer.ggml.scores", "1 entries for \(n) tokens"]),
            ("tokenizer.ggml.scores", .array((0..<n).map { _ in .string("x") }), ["tokenizer.ggml.scores", "item 0"]),
            ("tokenizer.ggml.scores", .array((0..<n).map { _ in .float32(.nan) }), ["tokenizer.ggml.scores", "NaN"]),
            ("tokenizer.ggml.scores", .float32(0), ["tokenizer.ggml.scores", "not an array"]),
            ("tokenizer.ggml.token_type", .array((0..<n).map { _ in .int32(9) }), ["tokenizer.ggml.token_type", "item 0", "0…6"]),
            ("tokenizer.ggml.token_type", .array([.int32(1)]), ["tokenizer.ggml.token_type", "1 entries"]),
            ("tokenizer.ggml.bos_token_id", .uint32(UInt32(n)), ["tokenizer.ggml.bos_token_id", "outside"]),
            ("tokenizer.ggml.bos_token_id", .string("1"), ["tokenizer.ggml.bos_token_id", "not a token id"]),
            ("tokenizer.ggml.unknown_token_id", .int64(-1), ["tokenizer.ggml.unknown_token_id", "outside"]),
            ("tokenizer.ggml.add_bos_token", .uint8(1), ["tokenizer.ggml.add_bos_token", "not a bool"]),
            ("tokenizer.ggml.add_space_prefix", .string("no"), ["tokenizer.ggml.add_space_prefix", "not a bool"]),
        ]
        for (key, value, mentions) in cases {
            var m = Self.metadata()
            m[key] = value
            expectModelFileError(Self.file, mentions: mentions, "\(key) = \(value?.description ?? "nil")") {
                _ = try T(metadata: m, file: Self.file)
            }
        }
    }

    @Test func malformedVocabularies() {
        func build(_ v: (tokens: [String], scores: [Float], types: [T.TokenType]), unknown: Int32? = 0,
                   bos: Int32? = 1, addBOS: Bool = true, addEOS: Bool = false) throws {
            _ = try T(tokens: v.tokens, scores: v.scores, types: v.types, bos: bos, eos: nil, unknown: unknown,
                      addBOS: addBOS, addEOS: addEOS, addSpacePrefix: false, file: Self.file)
        }
        // Error messages stay on one line even for a token made of newlines.
        let dup = expectModelFileError(Self.file, mentions: ["tokenizer.ggml.tokens", "are both", "\\n\\n"]) {
            try build(Self.vocabulary([("\n\n", 0, .userDefined), ("\n\n", 0, .normal)]))
        }
        #expect(dup.map { !$0.description.contains("\n") } == true)
        expectModelFileError(Self.file, mentions: ["byte token", "<0x4G>"]) {
            try build(Self.vocabulary([("<0x4G>", 0, .byte)]))
        }
        expectModelFileError(Self.file, mentions: ["byte 0x00 has no token", "unknown_token_id"]) {
            try build(Self.vocabulary([("a", 0, .normal)], bytes: false), unknown: nil)
        }
        expectModelFileError(Self.file, mentions: ["add_bos_token", "no bos_token_id"]) {
            try build(Self.vocabulary([]), bos: nil)
        }
        expectModelFileError(Self.file, mentions: ["add_eos_token", "no eos_token_id"]) {
            try build(Self.vocabulary([]), addEOS: true)
        }
    }

    @Test func metadataReaderAgreesWithGGUFFile() throws {
        let g = try #require(RealModel.gguf, "SmolLM2 missing: run scripts/setup")
        let m = try GGUFMetadataReader.metadata(path: g.path)
        #expect(m == g.metadata)
    }
}
