import Foundation

/// SentencePiece's `tokenizer.model` file (a `ModelProto` protocol buffer), the tokenizer a
/// HuggingFace Gemma directory ships: read into a `SentencePieceTokenizer` and written from
/// one. Hand-written (no protobuf library): only the fields the tokenizer needs are read —
/// the pieces (field 1: piece 1, score 2, type 3), the trainer spec's unknown, BOS and EOS ids
/// (field 2: 40, 41, 42) and the normalizer's `add_dummy_prefix` (field 3: 3); every other
/// field is skipped by its wire type. SentencePiece's piece types (normal 1, unknown 2,
/// control 3, user-defined 4, unused 5, byte 6) are llama.cpp's token types.
public enum SentencePieceModel {
    /// What a `tokenizer.model` holds for the tokenizer.
    public struct Contents: Equatable, Sendable {
        public var pieces: [String] = []
        public var scores: [Float] = []
        public var types: [SentencePieceTokenizer.TokenType] = []
        public var unknown: Int32 = 0
        public var bos: Int32 = 1
        public var eos: Int32 = 2
        public var addDummyPrefix = true
        public init() {}
    }

    /// Reads `path`; a malformed buffer is an error naming the file and the field.
    public static func read(_ path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(file: path, field: "", "cannot read the SentencePiece model")
        }
        return try parse([UInt8](data), file: path)
    }

    public static func parse(_ bytes: [UInt8], file: String) throws -> Contents {
        var c = Contents()
        var r = ProtoReader(bytes: bytes[...], file: file, field: "ModelProto")
        while let (field, wire) = try r.key() {
            switch (field, wire) {
            case (1, 2):
                var p = ProtoReader(bytes: try r.delimited(), file: file, field: "piece \(c.pieces.count)")
                var piece = "", score: Float = 0, type = 1
                while let (f, w) = try p.key() {
                    switch (f, w) {
                    case (1, 2): piece = String(decoding: try p.delimited(), as: UTF8.self)
                    case (2, 5): score = Float(bitPattern: try p.fixed32())
                    case (3, 0): type = Int(truncatingIfNeeded: try p.varint())
                    default: try p.skip(w)
                    }
                }
                guard let t = SentencePieceTokenizer.TokenType(rawValue: type), t != .undefined else {
                    throw ModelFileError(file: file, field: "piece \(c.pieces.count) type", "\(type) is not a SentencePiece piece type (1…6)")
                }
                c.pieces.append(piece)
                c.scores.append(score)
                c.types.append(t)
            case (2, 2):
                var t = ProtoReader(bytes: try r.delimited(), file: file, field: "trainer_spec")
                while let (f, w) = try t.key() {
                    switch (f, w) {
                    case (40, 0): c.unknown = try t.int32("unk_id")
                    case (41, 0): c.bos = try t.int32("bos_id")
                    case (42, 0): c.eos = try t.int32("eos_id")
                    default: try t.skip(w)
                    }
                }
            case (3, 2):
                var n = ProtoReader(bytes: try r.delimited(), file: file, field: "normalizer_spec")
                while let (f, w) = try n.key() {
                    if (f, w) == (3, 0) { c.addDummyPrefix = try n.varint() != 0 } else { try n.skip(w) }
                }
            default: try r.skip(wire)
            }
        }
        guard !c.pieces.isEmpty else { throw ModelFileError(file: file, field: "pieces", "the model holds no pieces") }
        return c
    }

    /// The protocol buffer of `c` (pieces, trainer spec ids, normalizer flag), as `parse` reads it.
    public static func serialize(_ c: Contents) -> [UInt8] {
        var out = ProtoWriter()
        for i in c.pieces.indices {
            var p = ProtoWriter()
            p.bytes(1, Array(c.pieces[i].utf8))
            p.fixed32(2, c.scores[i].bitPattern)
            p.varint(3, UInt64(c.types[i].rawValue))
            out.bytes(1, p.out)
        }
        var t = ProtoWriter()
        for (f, v) in [(40, c.unknown), (41, c.bos), (42, c.eos)] { t.varint(f, UInt64(bitPattern: Int64(v))) }
        out.bytes(2, t.out)
        var n = ProtoWriter()
        n.varint(3, c.addDummyPrefix ? 1 : 0)
        out.bytes(3, n.out)
        return out.out
    }

    /// The contents of a tokenizer (for writing a `tokenizer.model`).
    public static func contents(of t: SentencePieceTokenizer) -> Contents {
        var c = Contents()
        c.pieces = t.tokens
        c.scores = t.scores
        c.types = t.types.map { $0 == .undefined ? .normal : $0 }
        c.unknown = t.unknown ?? 0
        c.bos = t.bos ?? -1
        c.eos = t.eos ?? -1
        c.addDummyPrefix = t.addSpacePrefix
        return c
    }

    /// The tokenizer of a `tokenizer.model` file; `addBOS`/`addEOS` come from the directory's
    /// `tokenizer_config.json` (SentencePiece's model file does not say).
    public static func tokenizer(_ path: String, addBOS: Bool, addEOS: Bool) throws -> SentencePieceTokenizer {
        let c = try read(path)
        func id(_ v: Int32) -> Int32? { v >= 0 && Int(v) < c.pieces.count ? v : nil }
        return try SentencePieceTokenizer(tokens: c.pieces, scores: c.scores, types: c.types, bos: id(c.bos), eos: id(c.eos),
                                          unknown: id(c.unknown), addBOS: addBOS, addEOS: addEOS,
                                          addSpacePrefix: c.addDummyPrefix, file: path)
    }
}

/// Reads protocol-buffer fields from a byte range; every length is checked against what is left.
private struct ProtoReader {
    var bytes: ArraySlice<UInt8>
    let file: String
    let field: String

    func fail(_ m: String) -> ModelFileError { ModelFileError(file: file, field: field, m) }

    /// The next field number and wire type, nil at the end.
    mutating func key() throws -> (Int, Int)? {
        guard !bytes.isEmpty else { return nil }
        let k = try varint()
        guard k >> 3 >= 1, k >> 3 < 1 << 29 else { throw fail("field number \(k >> 3) is not valid") }
        return (Int(k >> 3), Int(k & 7))
    }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard let b = bytes.first else { throw fail("the buffer ends inside a varint") }
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw fail("a varint is longer than 10 bytes") }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }

    mutating func int32(_ name: String) throws -> Int32 {
        let v = Int64(bitPattern: try varint())
        guard let i = Int32(exactly: v) else { throw ModelFileError(file: file, field: "\(field).\(name)", "\(v) is not a 32-bit integer") }
        return i
    }

    mutating func fixed32() throws -> UInt32 {
        guard bytes.count >= 4 else { throw fail("the buffer ends inside a 32-bit field") }
        let b = Array(bytes.prefix(4))
        bytes = bytes.dropFirst(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    /// A length-delimited field's bytes.
    mutating func delimited() throws -> ArraySlice<UInt8> {
        let n = try varint()
        guard n <= UInt64(bytes.count) else { throw fail("a field of \(n) bytes runs past the end (\(bytes.count) left)") }
        let out = bytes.prefix(Int(n))
        bytes = bytes.dropFirst(Int(n))
        return out
    }

    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard bytes.count >= 8 else { throw fail("the buffer ends inside a 64-bit field") }
            bytes = bytes.dropFirst(8)
        case 2: _ = try delimited()
        case 5: _ = try fixed32()
        default: throw fail("wire type \(wire) is not supported")
        }
    }
}

private struct ProtoWriter {
    var out: [UInt8] = []

    mutating func raw(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ v: UInt64) {
        raw(UInt64(field) << 3)
        raw(v)
    }

    mutating func fixed32(_ field: Int, _ v: UInt32) {
        raw(UInt64(field) << 3 | 5)
        for s in [0, 8, 16, 24] { out.append(UInt8((v >> UInt32(s)) & 0xFF)) }
    }

    mutating func bytes(_ field: Int, _ b: [UInt8]) {
        raw(UInt64(field) << 3 | 2)
        raw(UInt64(b.count))
        out += b
    }
}
