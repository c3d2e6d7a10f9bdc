import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

@Suite("SmolLM2 tokenizer")
struct TokenizerTests {
    func tokenizer() throws -> BPETokenizer {
        try #require(RealModel.tokenizer, "model missing: run scripts/setup")
    }

    @Test func vocabulary() throws {
        let t = try tokenizer()
        #expect(t.vocabularySize == 49152)
        #expect(t.preTokenizer == .smollm)
    }

    @Test(arguments: [
        ("Hello world! 123", [19556, 905, 17, 216, 33, 34, 35] as [Int32]),
        ("Café déjà vu.", [51, 1939, 2756, 32564, 90, 16739, 386, 101, 30]),
        ("  multiple   spaces", [216, 2701, 256, 5600]),
        ("\n", [198]),
    ])
    func referenceVectors(text: String, ids: [Int32]) throws {
        let t = try tokenizer()
        #expect(t.encode(text) == ids)
        #expect(t.decode(ids) == text)
    }

    @Test func startOfPrideAndPrejudice() throws {
        let t = try tokenizer()
        let text = try DataPaths.readText("austen:pride")
        #expect(text.hasPrefix("PRIDE AND PREJUDICE\n\nBy Jane Austen\n\n\n\nChapter 1"))
        let expected: [Int32] = [6886, 24662, 7485, 33460, 58, 11911, 15799, 198, 198, 3087, 12405, 33015]
        let head = String(text.prefix(2000))
        let ids = t.encode(head)
        #expect(Array(ids.prefix(12)) == expected)
        // Those 12 tokens spell a prefix of the text.
        let spelled = t.decode(expected)
        #expect(!spelled.isEmpty && text.hasPrefix(spelled), "\(spelled.debugDescription)")
        #expect(t.decode(ids) == head)
    }

    @Test func preTokenizerPieces() {
        // GPT-2 pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
        // worked by hand; SmolLM first makes every digit a piece of its own.
        let cases: [(String, BPETokenizer.PreTokenizer, [String])] = [
            ("Hello world! 123", .smollm, ["Hello", " world", "!", " ", "1", "2", "3"]),
            ("Hello world! 123", .gpt2, ["Hello", " world", "!", " 123"]),
            ("  multiple   spaces", .gpt2, [" ", " multiple", "  ", " spaces"]),
            ("it's I'LL don't we've", .gpt2, ["it", "'s", " I", "'", "LL", " don", "'t", " we", "'ve"]),
            ("a\n\nb", .gpt2, ["a", "\n", "\n", "b"]),
            ("x  ", .gpt2, ["x", "  "]),
            ("3.14", .smollm, ["3", ".", "1", "4"]),
            ("hello!!! ??", .gpt2, ["hello", "!!!", " ??"]),
            ("", .smollm, []),
            ("日本語 テスト", .gpt2, ["日本語", " テスト"]),
        ]
        for (text, mode, pieces) in cases {
            #expect(BPETokenizer.split(text, mode) == pieces, "\(text.debugDescription) \(mode)")
        }
    }

    @Test func emptyAndSpecial() throws {
        let t = try tokenizer()
        #expect(t.encode("") == [])
        #expect(t.decode([]) == "")
        // Out-of-range ids are skipped by decode and shown as <id> by token().
        #expect(t.decode([-1, 49152, 19556]) == "Hello")
        #expect(t.token(-5) == "<-5>")
        #expect(t.token(19556) == "Hello")
        // Control tokens decode to their text verbatim.
        #expect(t.token(0) == t.tokens[0])
        #expect(t.tokens[0].hasPrefix("<|"))
    }

    @Test func roundTripsOfAwkwardText() throws {
        let t = try tokenizer()
        let samples = [
            "😀👍🏽👨‍👩‍👧‍👦 🇫🇷🏳️‍🌈", "日本語のテキスト、中文字符。한국어 텍스트", "e\u{0301} n\u{0303} a\u{0308}\u{0323}",
            "Zalgo: Z\u{0335}\u{0321}a\u{0337}l\u{0338}g\u{0334}o", "\u{0}\u{1}\u{7}\u{8}\t\u{B}\u{C}\r\n\u{1B}[0m\u{7F}\u{85}\u{9F}",
            "\u{FEFF}BOM \u{200B}zero\u{200D}width \u{2028}line\u{2029}para", "\u{10FFFF}\u{E000}\u{FFFD}\u{1D11E}",
            "   leading and trailing   ", "\n\n\n", " ", "\t\t x", "'''s 've 'LL", "١٢٣ ４５６ Ⅻ ½ ²",
            "Tab\tsep\u{A0}nbsp\u{3000}ideographic", "<|endoftext|><|im_start|>user", "a\r\nb\rc\n",
            String(repeating: "ab", count: 500), String(repeating: " ", count: 100), "0123456789" + String(repeating: "9", count: 50),
        ]
        for s in samples {
            let ids = t.encode(s)
            #expect(t.decode(ids) == s, "round trip of \(s.debugDescription)")
            #expect(ids.allSatisfy { $0 >= 0 && $0 < 49152 })
        }
    }

    /// Bytes with no single-byte token in SmolLM2's vocabulary (measured from the GGUF token
    /// list): six ASCII controls, the never-valid UTF-8 bytes C0 C1 F5–FF, and F1 F2 — the lead
    /// bytes of U+40000…U+BFFFF. Text containing them cannot round-trip; like llama.cpp, the
    /// tokenizer drops such bytes.
    static let bytesWithoutToken: Set<UInt8> = [4, 6, 19, 20, 22, 29, 192, 193, 241, 242,
                                               245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255]

    static func representable(_ s: String) -> Bool { !s.utf8.contains { bytesWithoutToken.contains($0) } }

    @Test func bytesWithoutTokensAreDropped() throws {
        let t = try tokenizer()
        for b in UInt8(0)..<128 {
            let s = String(UnicodeScalar(b))
            let ids = t.encode(s)
            if Self.bytesWithoutToken.contains(b) {
                #expect(ids.isEmpty, "byte \(b)")
                #expect(t.decode(t.encode("a" + s + "b")) == "ab")
            } else {
                #expect(ids.count == 1 && t.decode(ids) == s, "byte \(b)")
            }
        }
        // U+50000 is F1 90 80 80: the lead byte is dropped, the three continuation bytes survive
        // and decode (invalid on their own) to three replacement characters.
        #expect(t.decode(t.encode("\u{50000}")) == "\u{FFFD}\u{FFFD}\u{FFFD}")
        // U+C0000 (F3 …) has tokens for all its bytes.
        #expect(t.decode(t.encode("x\u{C0000}y")) == "x\u{C0000}y")
    }

    @Test func roundTripsOfRandomStrings() throws {
        let t = try tokenizer()
        var rng = TestRNG(seed: 20240607)
        // Scalar pools: ASCII (incl. controls), Latin-1, general BMP, combining marks, CJK,
        // astral planes, whitespace oddities.
        let pools: [ClosedRange<UInt32>] = [0x00...0x7F, 0x20...0x7E, 0x20...0x7E, 0x80...0xFF, 0x100...0xD7FF,
                                            0x300...0x36F, 0x4E00...0x9FFF, 0xE000...0xFFFD, 0x10000...0x10FFFF,
                                            0x2000...0x206F, 0x30...0x39, 0x660...0x669]
        for n in 0..<400 {
            let len = Int(rng.next() % 40)
            var s = String.UnicodeScalarView()
            for _ in 0..<len {
                let pool = pools[Int(rng.next() % UInt64(pools.count))]
                let v = pool.lowerBound + UInt32(rng.next() % UInt64(pool.upperBound - pool.lowerBound + 1))
                let scalar = Unicode.Scalar(v)!
                if !Self.representable(String(scalar)) { continue }
                s.append(scalar)
            }
            let str = String(s)
            #expect(t.decode(t.encode(str)) == str, "random string \(n): \(str.debugDescription)")
        }
    }

    @Test func roundTripOfRandomValidUTF8Bytes() throws {
        // Random byte strings, kept when they are valid UTF-8 (a different distribution from
        // scalars: many short ASCII/continuation mixes).
        let t = try tokenizer()
        var rng = TestRNG(seed: 7)
        var tested = 0
        for _ in 0..<3000 {
            let len = Int(rng.next() % 12)
            let bytes = (0..<len).map { _ -> UInt8 in
                let r = rng.next()
                return r % 3 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : UInt8(0x20 + (r >> 8) % 0x5F)
            }
            guard let s = String(validating: bytes, as: UTF8.self), Self.representable(s) else { continue }
            tested += 1
            #expect(Array(t.decode(t.encode(s)).utf8) == bytes)
        }
        #expect(tested > 500)
    }

    @Test func wholeEmmaRoundTrips() throws {
        let t = try tokenizer()
        let emma = try DataPaths.readText("austen:emma")
        #expect(emma.utf8.count > 800_000)
        let ids = t.encode(emma)
        #expect(ids.count > 150_000 && ids.count < emma.utf8.count / 2)
        #expect(t.decode(ids) == emma)
    }
}
