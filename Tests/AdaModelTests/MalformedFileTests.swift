import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// A hand-built GGUF: header, then the given metadata and tensor-info bytes, padding to 32,
/// then `data`.
private func gguf(magic: String = "GGUF", version: UInt32 = 3, tensors: UInt64, kvs: UInt64,
                  body: (inout Bytes) -> Void, data: [UInt8] = []) -> [UInt8] {
    var b = Bytes()
    b.raw(Array(magic.utf8)); b.u32(version); b.u64(tensors); b.u64(kvs)
    body(&b)
    b.pad(to: 32)
    b.raw(data)
    return b.b
}

/// One tensor info: name, dims (ne0 first), type, offset.
private func tensorInfo(_ b: inout Bytes, _ name: String, dims: [UInt64], type: UInt32, offset: UInt64 = 0) {
    b.str(name); b.u32(UInt32(dims.count)); for d in dims { b.u64(d) }; b.u32(type); b.u64(offset)
}

@Suite("Malformed GGUF files")
struct MalformedGGUFTests {
    /// A valid file: one metadata entry and one F32 tensor `w` of 8 values (32 bytes, so the
    /// file ends exactly at the end of the data).
    static let valid: [UInt8] = gguf(tensors: 1, kvs: 1, body: { b in
        b.str("general.name"); b.u32(8); b.str("tiny")
        tensorInfo(&b, "w", dims: [8], type: 0)
    }, data: (0..<8).flatMap { i -> [UInt8] in
        withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) }
    })

    @Test func validBaselineParses() throws {
        let dir = TempDir()
        let f = try GGUFFile(path: dir.write(Self.valid, "ok.gguf"))
        #expect(try f.tensor("w").data == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(f.string("general.name") == "tiny")
    }

    @Test func everyTruncationThrows() throws {
        let dir = TempDir()
        for n in 0..<Self.valid.count {
            let path = dir.write(Array(Self.valid[0..<n]), "cut-\(n).gguf")
            let e = expectModelFileError(path, "cut at \(n)") { _ = try GGUFFile(path: path) }
            #expect(e.map { !$0.field.isEmpty } ?? true, "cut at \(n): the error names the field it was reading")
        }
    }

    @Test func everyTruncationOfARichFileThrows() throws {
        // The round-trip file (all metadata types, nested arrays, quantized blocks) cut at every
        // length in steps of 3 bytes, and at every length of its header.
        let full = GGUFRoundTripTests.buildFile()
        let dir = TempDir()
        let f = try GGUFFile(path: dir.write(full, "full.gguf"))
        let header = f.dataOffset
        var lengths = Array(stride(from: 0, to: full.count, by: 3))
        lengths += Array(0..<header) + [full.count - 1]
        for n in Set(lengths).sorted() {
            let path = dir.file("cut.gguf")
            _ = FileManager.default.createFile(atPath: path, contents: Data(full[0..<n]))
            let e = expectModelFileError(path, "cut at \(n) of \(full.count)") { _ = try GGUFFile(path: path) }
            #expect(e.map { !$0.field.isEmpty } ?? true, "cut at \(n): the error names the field it was reading")
        }
    }

    @Test func emptyFile() {
        let dir = TempDir()
        let path = dir.write([], "empty.gguf")
        expectModelFileError(path, mentions: ["magic", "end of file"]) { _ = try GGUFFile(path: path) }
    }

    @Test func badMagic() {
        let dir = TempDir()
        var bytes = Self.valid
        bytes[3] = UInt8(ascii: "X")
        let path = dir.write(bytes, "magic.gguf")
        expectModelFileError(path, mentions: ["magic", "not a GGUF"]) { _ = try GGUFFile(path: path) }
        let st = dir.write(Array("{\"a\": 1}".utf8) + [UInt8](repeating: 0, count: 40), "json.gguf")
        expectModelFileError(st, mentions: ["magic"]) { _ = try GGUFFile(path: st) }
    }

    @Test func unsupportedVersions() {
        let dir = TempDir()
        for v: UInt32 in [0, 1, 4, 0xFFFF_FFFF] {
            var bytes = Self.valid
            withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[4 + i] = $0[i] } }
            let path = dir.write(bytes, "v\(v).gguf")
            expectModelFileError(path, mentions: ["version", "\(v)"]) { _ = try GGUFFile(path: path) }
        }
    }

    @Test func moreTensorsClaimedThanPresent() {
        let dir = TempDir()
        // Two tensors claimed, one described: the second info is read from padding/data.
        var two = Self.valid
        two[8] = 2
        let p2 = dir.write(two, "two.gguf")
        expectModelFileError(p2, mentions: ["tensor"]) { _ = try GGUFFile(path: p2) }
        // A count the file cannot possibly hold is refused before any allocation.
        for count: UInt64 in [1_000_000, UInt64(Int.max), UInt64.max] {
            var bytes = Self.valid
            withUnsafeBytes(of: count.littleEndian) { for i in 0..<8 { bytes[8 + i] = $0[i] } }
            let path = dir.write(bytes, "many.gguf")
            expectModelFileError(path, mentions: ["tensor_count"]) { _ = try GGUFFile(path: path) }
        }
    }

    @Test func moreMetadataClaimedThanPresent() {
        let dir = TempDir()
        // Two entries claimed, one present: the tensor info is misread as metadata and parsing
        // fails further on.
        for count: UInt64 in [2, 1 << 40, UInt64.max] {
            var bytes = Self.valid
            withUnsafeBytes(of: count.littleEndian) { for i in 0..<8 { bytes[16 + i] = $0[i] } }
            let path = dir.write(bytes, "kv.gguf")
            expectModelFileError(path, mentions: count == 2 ? [] : ["metadata_kv_count"], "\(count)") {
                _ = try GGUFFile(path: path)
            }
        }
    }

    @Test func tensorDataPastTheEnd() {
        let dir = TempDir()
        let data = [UInt8](repeating: 0, count: 32)
        for offset: UInt64 in [32, 4096, 1 << 40, UInt64.max - 31] {
            let bytes = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "w", dims: [8], type: 0, offset: offset) }, data: data)
            let path = dir.write(bytes, "off.gguf")
            expectModelFileError(path, mentions: ["tensor 'w'", "offset"], "offset \(offset)") { _ = try GGUFFile(path: path) }
        }
        // Offset fine but the tensor is larger than the data that follows.
        let big = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "w", dims: [9], type: 0) }, data: data)
        let pb = dir.write(big, "big.gguf")
        expectModelFileError(pb, mentions: ["tensor 'w'", "past the end"]) { _ = try GGUFFile(path: pb) }
    }

    @Test func misalignedOffset() {
        let dir = TempDir()
        let bytes = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "w", dims: [1], type: 0, offset: 4) },
                         data: [UInt8](repeating: 0, count: 64))
        let path = dir.write(bytes, "align.gguf")
        expectModelFileError(path, mentions: ["tensor 'w'", "aligned"]) { _ = try GGUFFile(path: path) }
    }

    @Test func dimensionProductOverflow() {
        let dir = TempDir()
        let cases: [[UInt64]] = [
            [0x7FFF_FFFF, 0x7FFF_FFFF, 0x7FFF_FFFF],          // 2^93: overflows Int
            [1 << 30, 1 << 30],                                // 2^60: absurd element count
            [1 << 16, 1 << 16, 1 << 16, 1 << 16],              // 2^64: overflows
        ]
        for dims in cases {
            let bytes = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "huge", dims: dims, type: 0) },
                             data: [UInt8](repeating: 0, count: 32))
            let path = dir.write(bytes, "dims.gguf")
            expectModelFileError(path, mentions: ["tensor 'huge'", "overflow"], "dims \(dims)") { _ = try GGUFFile(path: path) }
        }
        let one = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "huge", dims: [1 << 40], type: 0) })
        let p1 = dir.write(one, "dim1.gguf")
        expectModelFileError(p1, mentions: ["tensor 'huge' dim[0]"]) { _ = try GGUFFile(path: p1) }
    }

    @Test func badDimensionCount() {
        let dir = TempDir()
        for dims: [UInt64] in [[], [1, 1, 1, 1, 1]] {
            let bytes = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "w", dims: dims, type: 0) },
                             data: [UInt8](repeating: 0, count: 32))
            let path = dir.write(bytes, "nd.gguf")
            expectModelFileError(path, mentions: ["tensor 'w' n_dims"]) { _ = try GGUFFile(path: path) }
        }
    }

    @Test func unknownAndUnsupportedTensorTypes() {
        let dir = TempDir()
        let data = [UInt8](repeating: 0, count: 4096)
        let cases: [(UInt32, String)] = [(99, "unknown tensor type 99"), (9, "Q8_1"), (15, "Q8_K"),
                                         (23, "IQ4_XS"), (0xFFFF_FFFF, "unknown")]
        for (t, name) in cases {
            let bytes = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "w", dims: [256], type: t) }, data: data)
            let path = dir.write(bytes, "type\(t).gguf")
            expectModelFileError(path, mentions: ["tensor 'w' type", name]) { _ = try GGUFFile(path: path) }
        }
    }

    @Test func rowNotAMultipleOfTheBlockSize() {
        let dir = TempDir()
        let bytes = gguf(tensors: 1, kvs: 0, body: { tensorInfo(&$0, "w", dims: [16, 2], type: 8) },
                         data: [UInt8](repeating: 0, count: 128))
        let path = dir.write(bytes, "block.gguf")
        expectModelFileError(path, mentions: ["tensor 'w'", "Q8_0"]) { _ = try GGUFFile(path: path) }
    }

    @Test func duplicateTensorName() {
        let dir = TempDir()
        let bytes = gguf(tensors: 2, kvs: 0, body: {
            tensorInfo(&$0, "w", dims: [1], type: 0)
            tensorInfo(&$0, "w", dims: [1], type: 0, offset: 32)
        }, data: [UInt8](repeating: 0, count: 64))
        let path = dir.write(bytes, "dup.gguf")
        expectModelFileError(path, mentions: ["tensor 'w'", "duplicate"]) { _ = try GGUFFile(path: path) }
    }

    @Test func badUTF8() {
        let dir = TempDir()
        // Metadata key of bytes FF FE.
        let key = gguf(tensors: 0, kvs: 1, body: { b in
            b.u64(2); b.raw([0xFF, 0xFE]); b.u32(4); b.u32(1)
        })
        let pk = dir.write(key, "key.gguf")
        expectModelFileError(pk, mentions: ["metadata[0].key", "UTF-8"]) { _ = try GGUFFile(path: pk) }
        // A string value with a truncated multi-byte sequence (E2 82 without its last byte).
        let val = gguf(tensors: 0, kvs: 1, body: { b in
            b.str("k"); b.u32(8); b.u64(2); b.raw([0xE2, 0x82])
        })
        let pv = dir.write(val, "val.gguf")
        expectModelFileError(pv, mentions: ["metadata 'k'", "UTF-8"]) { _ = try GGUFFile(path: pv) }
        // A tensor name with a lone continuation byte.
        let name = gguf(tensors: 1, kvs: 0, body: { b in
            b.u64(1); b.raw([0x80]); b.u32(1); b.u64(1); b.u32(0); b.u64(0)
        }, data: [UInt8](repeating: 0, count: 32))
        let pn = dir.write(name, "name.gguf")
        expectModelFileError(pn, mentions: ["tensor_info[0].name", "UTF-8"]) { _ = try GGUFFile(path: pn) }
    }

    @Test func absurdArrayCount() {
        let dir = TempDir()
        for (et, count) in [(UInt32(4), UInt64(1) << 60), (8, UInt64.max), (9, 1 << 40), (0, 1000)] {
            let bytes = gguf(tensors: 0, kvs: 1, body: { b in
                b.str("arr"); b.u32(9); b.u32(et); b.u64(count)
            })
            let path = dir.write(bytes, "arr.gguf")
            expectModelFileError(path, mentions: ["metadata 'arr' count"], "type \(et) count \(count)") {
                _ = try GGUFFile(path: path)
            }
        }
    }

    @Test func absurdStringLength() {
        let dir = TempDir()
        let bytes = gguf(tensors: 0, kvs: 1, body: { b in b.str("s"); b.u32(8); b.u64(UInt64.max) })
        let path = dir.write(bytes, "str.gguf")
        expectModelFileError(path, mentions: ["metadata 's'"]) { _ = try GGUFFile(path: path) }
    }

    @Test func badValueTypes() {
        let dir = TempDir()
        let unknown = gguf(tensors: 0, kvs: 1, body: { b in b.str("k"); b.u32(13); b.u32(0) })
        let pu = dir.write(unknown, "vt.gguf")
        expectModelFileError(pu, mentions: ["metadata 'k' type", "13"]) { _ = try GGUFFile(path: pu) }
        let elem = gguf(tensors: 0, kvs: 1, body: { b in b.str("k"); b.u32(9); b.u32(77); b.u64(1) })
        let pe = dir.write(elem, "et.gguf")
        expectModelFileError(pe, mentions: ["metadata 'k' element type", "77"]) { _ = try GGUFFile(path: pe) }
        let bool = gguf(tensors: 0, kvs: 1, body: { b in b.str("flag"); b.u32(7); b.u8(2) })
        let pb = dir.write(bool, "bool.gguf")
        expectModelFileError(pb, mentions: ["metadata 'flag'", "bool"]) { _ = try GGUFFile(path: pb) }
    }

    @Test func arraysNestedTooDeeply() {
        let dir = TempDir()
        // Six levels of arrays, each of one element, innermost a u8.
        let bytes = gguf(tensors: 0, kvs: 1, body: { b in
            b.str("deep"); b.u32(9)
            for _ in 0..<6 { b.u32(9); b.u64(1) }
            b.u32(0); b.u64(1); b.u8(1)
        })
        let path = dir.write(bytes, "deep.gguf")
        expectModelFileError(path, mentions: ["metadata 'deep'", "nested"]) { _ = try GGUFFile(path: path) }
    }

    @Test func badAlignment() {
        let dir = TempDir()
        for v: GGUFValue in [.uint32(3), .uint32(0), .int32(-32), .string("32"), .uint64(1 << 40)] {
            var w = GGUFWriter()
            w.set("general.alignment", v)
            let path = dir.write(w.bytes(), "al.gguf")
            expectModelFileError(path, mentions: ["general.alignment"], "\(v)") { _ = try GGUFFile(path: path) }
        }
    }

    @Test func notAFile() {
        let dir = TempDir()
        let missing = dir.file("nothing.gguf")
        expectModelFileError(missing, mentions: ["cannot open"]) { _ = try GGUFFile(path: missing) }
        expectModelFileError(dir.path, mentions: ["not a regular file"]) { _ = try GGUFFile(path: dir.path) }
        expectModelFileError(missing, mentions: ["no such file"]) { _ = try LlamaModel.load(path: missing) }
    }

    @Test func modelLoaderNamesMissingPieces() {
        let dir = TempDir()
        var w = GGUFWriter()
        w.set("general.architecture", .string("gpt2"))
        let p1 = dir.write(w.bytes(), "arch.gguf")
        expectModelFileError(p1, mentions: ["general.architecture", "gpt2"]) { _ = try LlamaModel.loadGGUF(p1) }
        w.set("general.architecture", .string("llama"))
        let p2 = dir.write(w.bytes(), "tok.gguf")
        expectModelFileError(p2, mentions: ["tokenizer.ggml.model"]) { _ = try LlamaModel.loadGGUF(p2) }
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array([.string("a"), .string("b")]))
        w.set("tokenizer.ggml.merges", .array([.string("a b")]))
        let p3 = dir.write(w.bytes(), "emb.gguf")
        expectModelFileError(p3, mentions: ["token_embd.weight"]) { _ = try LlamaModel.loadGGUF(p3) }
        w.add("token_embd.weight", .f32(Tensor(zeros: [2, 8])))
        let p4 = dir.write(w.bytes(), "meta.gguf")
        expectModelFileError(p4, mentions: ["llama.embedding_length"]) { _ = try LlamaModel.loadGGUF(p4) }
    }
}

// MARK: - Safetensors

@Suite("Safetensors files")
struct SafetensorsTests {
    /// A safetensors file from a JSON header text and data bytes.
    static func file(header: String, data: [UInt8]) -> [UInt8] {
        var b = Bytes()
        b.u64(UInt64(header.utf8.count))
        b.raw(Array(header.utf8))
        b.raw(data)
        return b.b
    }

    static func validFile() throws -> [UInt8] {
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt", "note": "ünïcode"]
        w.add("a", f32: Tensor(shape: [2, 2], data: [1, -2, 0.5, 1e-30]))
        w.add("h", dtype: "F16", shape: [3], bytes: le16s([0x3C00, 0xC000, 0x7BFF]))
        w.add("bf", dtype: "BF16", shape: [2], bytes: le16s([0x3F80, 0x4049]))
        w.add("u8", dtype: "U8", shape: [2, 2], bytes: [1, 2, 3, 250])
        w.add("scalar", f32: Tensor(shape: [], data: [42]))
        return try w.bytes()
    }

    static func le16s(_ v: [UInt16]) -> [UInt8] { v.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    @Test func roundTrip() throws {
        let dir = TempDir()
        let bytes = try Self.validFile()
        // Header length is the first u64, and the data starts 8-byte aligned.
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + n) % 8 == 0)
        #expect(bytes.count == 8 + n + 16 + 6 + 4 + 4 + 4)
        let path = dir.write(bytes, "ok.safetensors")
        let f = try SafetensorsFile(path: path)
        #expect(Set(f.entries.keys) == ["a", "h", "bf", "u8", "scalar"])
        #expect(f.metadata == ["format": "pt", "note": "ünïcode"])
        #expect(try f.tensor("a") == Tensor(shape: [2, 2], data: [1, -2, 0.5, 1e-30]))
        #expect(try f.tensor("h").data == [1, -2, 65504])
        #expect(try f.tensor("bf").data == [1, 3.140625])
        #expect(try f.tensor("scalar").shape == [])
        #expect(try f.tensor("scalar").data == [42])
        #expect(Array(try f.rawBytes("u8")) == [1, 2, 3, 250])
        #expect(f.entries["u8"]?.shape == [2, 2])
        #expect(f.entries["u8"]?.dtype == "U8")
        expectModelFileError(path, mentions: ["tensor 'u8' dtype"]) { _ = try f.tensor("u8") }
        expectModelFileError(path, mentions: ["tensor 'zz'"]) { _ = try f.tensor("zz") }
        expectModelFileError(path, mentions: ["tensor 'zz'"]) { _ = try f.rawBytes("zz") }
    }

    @Test func everyTruncationThrows() throws {
        let dir = TempDir()
        let bytes = try Self.validFile()
        let path = dir.file("cut.safetensors")
        for n in 0..<bytes.count {
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes[0..<n]))
            let e = expectModelFileError(path, "cut at \(n)") { _ = try SafetensorsFile(path: path) }
            #expect(e.map { !$0.field.isEmpty } ?? true, "cut at \(n): the error names the field it was reading")
        }
    }

    @Test func headerLengthPastEnd() {
        let dir = TempDir()
        for n: UInt64 in [100, 1 << 30, UInt64.max] {
            var b = Bytes()
            b.u64(n); b.raw(Array("{}".utf8))
            let path = dir.write(b.b, "hl.safetensors")
            expectModelFileError(path, mentions: ["header length"], "length \(n)") { _ = try SafetensorsFile(path: path) }
        }
    }

    @Test func offsetsOutsideData() {
        let dir = TempDir()
        let data = [UInt8](repeating: 0, count: 8)
        for offs in ["[0, 16]", "[8, 16]", "[-4, 4]", "[8, 0]", "[0, 1e30]", "[0]", "[0, 99999999999999999999999]",
                     "[0.5, 8.5]", "[0, 8.25]", "[\"0\", 8]", "[0, null]"] {
            let h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\(offs)}}"
            let path = dir.write(Self.file(header: h, data: data), "off.safetensors")
            expectModelFileError(path, mentions: ["tensor 'a'"], offs) { _ = try SafetensorsFile(path: path) }
        }
    }

    @Test func dtypeSizeMismatch() {
        let dir = TempDir()
        let data = [UInt8](repeating: 0, count: 16)
        let cases = [("F32", "[2,2]", "[0,8]", "needs 16"), ("F16", "[2]", "[0,8]", "needs 4"),
                     ("BF16", "[3]", "[0,8]", "needs 6"), ("I64", "[1]", "[0,4]", "needs 8")]
        for (dt, shape, offs, msg) in cases {
            let h = "{\"a\":{\"dtype\":\"\(dt)\",\"shape\":\(shape),\"data_offsets\":\(offs)}}"
            let path = dir.write(Self.file(header: h, data: data), "mm.safetensors")
            expectModelFileError(path, mentions: ["tensor 'a' data_offsets", msg], dt) { _ = try SafetensorsFile(path: path) }
        }
    }

    @Test func invalidJSON() {
        let dir = TempDir()
        for (h, msg) in [("{not json", "JSON"), ("", "JSON"), ("[1, 2]", "not a JSON object"), ("\"x\"", "JSON"),
                         ("{\"a\": 5}", "lacks"), ("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", "lacks"),
                         ("{\"a\": {\"dtype\": \"F8_E4M3\", \"shape\": [1], \"data_offsets\": [0, 1]}}", "unknown dtype"),
                         ("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", "shape"),
                         ("{\"a\": {\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 4]}}", "shape"),
                         // A fractional dimension must not be truncated (1.5 → 1 would match 4 bytes).
                         ("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", "shape"),
                         ("{\"a\": {\"dtype\": \"F32\", \"shape\": [1e300], \"data_offsets\": [0, 4]}}", "shape"),
                         ("{\"a\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 4]}}", "shape")] {
            let path = dir.write(Self.file(header: h, data: [UInt8](repeating: 0, count: 8)), "js.safetensors")
            expectModelFileError(path, mentions: [msg], h) { _ = try SafetensorsFile(path: path) }
        }
        // Bytes that are not UTF-8 in the header.
        var b = Bytes()
        b.u64(4); b.raw([0x7B, 0xFF, 0xFE, 0x7D])
        let path = dir.write(b.b, "utf.safetensors")
        expectModelFileError(path, mentions: ["header"]) { _ = try SafetensorsFile(path: path) }
    }

    @Test func emptyAndMissing() {
        let dir = TempDir()
        let p = dir.write([], "empty.safetensors")
        expectModelFileError(p, mentions: ["header length"]) { _ = try SafetensorsFile(path: p) }
        let m = dir.file("none.safetensors")
        expectModelFileError(m, mentions: ["cannot open"]) { _ = try SafetensorsFile(path: m) }
    }
}

private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
