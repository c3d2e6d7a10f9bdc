import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

// MARK: - Hand-built quantized blocks

/// fp16 bit patterns used below: 1.0 = 0x3C00, 0.5 = 0x3800, 2.0 = 0x4000, 0.25 = 0x3400,
/// −1.0 = 0xBC00, −0.25 = 0xB400.
private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

enum HandBlocks {
    /// Q8_0, two blocks (a [2, 32] tensor). Block layout: fp16 d, then 32 int8 q; value = d·q.
    /// Block 0: d = 0.5, q_j = j − 16 → value_j = (j − 16)/2.
    /// Block 1: d = −0.25, q_j = 127 (j even) or −128 (j odd) → −31.75 and 32.
    static let q8_0: (bytes: [UInt8], values: [Float]) = {
        var b = le16(0x3800)
        var v: [Float] = []
        for j in 0..<32 { b.append(UInt8(bitPattern: Int8(j - 16))); v.append(Float(j - 16) / 2) }
        b += le16(0xB400)
        for j in 0..<32 {
            b.append(UInt8(bitPattern: j % 2 == 0 ? 127 : -128))
            v.append(j % 2 == 0 ? -31.75 : 32)
        }
        return (b, v)
    }()

    /// Q4_0, one block: fp16 d, 16 bytes; low nibble of byte j is value j, high nibble is value
    /// j + 16; value = d·(nibble − 8). d = 2, byte j = j | (15 − j) << 4:
    /// value_j = 2(j − 8), value_{j+16} = 2(15 − j − 8) = 2(7 − j).
    static let q4_0: (bytes: [UInt8], values: [Float]) = {
        var b = le16(0x4000)
        var v = [Float](repeating: 0, count: 32)
        for j in 0..<16 {
            b.append(UInt8(j) | UInt8(15 - j) << 4)
            v[j] = Float(2 * (j - 8))
            v[j + 16] = Float(2 * (7 - j))
        }
        return (b, v)
    }()

    /// Q4_1, one block: fp16 d, fp16 m, 16 bytes (nibbles as Q4_0); value = d·nibble + m.
    /// d = 0.25, m = −1, byte j = j | (15 − j) << 4: value_j = j/4 − 1, value_{j+16} = (15 − j)/4 − 1.
    static let q4_1: (bytes: [UInt8], values: [Float]) = {
        var b = le16(0x3400) + le16(0xBC00)
        var v = [Float](repeating: 0, count: 32)
        for j in 0..<16 {
            b.append(UInt8(j) | UInt8(15 - j) << 4)
            v[j] = Float(j) / 4 - 1
            v[j + 16] = Float(15 - j) / 4 - 1
        }
        return (b, v)
    }()

    /// Q4_K (llama.cpp `block_q4_K`, 144 bytes): fp16 d, fp16 dmin, 12 bytes of packed 6-bit
    /// scales/mins for 8 sub-blocks of 32, then 128 bytes of 4-bit quants.
    /// Value i (sub-block j = i/32) = d·scale_j·q_i − dmin·min_j.
    ///
    /// Chosen: scale = [1, 2, 3, 4, 17, 5, 6, 63], min = [0, 1, 2, 3, 33, 4, 5, 10].
    /// Packing (llama.cpp `get_scale_min_k4` / `quantize_row_q4_K_ref`):
    ///   j < 4:  scales[j] low 6 bits = scale_j, scales[j+4] low 6 bits = min_j;
    ///   j ≥ 4:  scales[j+4] = (scale_j & 0xF) | (min_j & 0xF) << 4, and the top 2 bits of
    ///           scale_j go to bits 6–7 of scales[j−4], those of min_j to bits 6–7 of scales[j].
    ///   scales[0]  = 1 | (17 >> 4) << 6 = 1 | 0x40           = 0x41
    ///   scales[1]  = 2 | (5 >> 4) << 6                       = 0x02
    ///   scales[2]  = 3 | (6 >> 4) << 6                       = 0x03
    ///   scales[3]  = 4 | (63 >> 4) << 6 = 4 | 0xC0           = 0xC4
    ///   scales[4]  = 0 | (33 >> 4) << 6 = 0 | 0x80           = 0x80
    ///   scales[5]  = 1 | (4 >> 4) << 6                       = 0x01
    ///   scales[6]  = 2,  scales[7] = 3
    ///   scales[8]  = (17 & 0xF) | (33 & 0xF) << 4 = 1 | 0x10 = 0x11
    ///   scales[9]  = 5 | 4 << 4                              = 0x45
    ///   scales[10] = 6 | 5 << 4                              = 0x56
    ///   scales[11] = (63 & 0xF) | (10 & 0xF) << 4 = 0xF | 0xA0 = 0xAF
    /// Quants: q_i = (7i + i/32) mod 16; 64 values per 32 bytes: byte 32c + l holds q_{64c+l} in
    /// its low nibble and q_{64c+32+l} in its high nibble.
    static let q4KScale: [Float] = [1, 2, 3, 4, 17, 5, 6, 63]
    static let q4KMin: [Float] = [0, 1, 2, 3, 33, 4, 5, 10]
    static let q4KScaleBytes: [UInt8] = [0x41, 0x02, 0x03, 0xC4, 0x80, 0x01, 0x02, 0x03, 0x11, 0x45, 0x56, 0xAF]
    static func q4KQuant(_ i: Int) -> Int { (7 * i + i / 32) % 16 }

    static func q4K(dBits: UInt16, dminBits: UInt16) -> [UInt8] {
        var b = le16(dBits) + le16(dminBits) + q4KScaleBytes
        for c in 0..<4 {
            for l in 0..<32 { b.append(UInt8(q4KQuant(64 * c + l)) | UInt8(q4KQuant(64 * c + 32 + l)) << 4) }
        }
        precondition(b.count == 144)
        return b
    }

    /// Two Q4_K blocks: (d, dmin) = (1, 0.5) and (2, 0.25).
    static let q4_K: (bytes: [UInt8], values: [Float]) = {
        let b = q4K(dBits: 0x3C00, dminBits: 0x3800) + q4K(dBits: 0x4000, dminBits: 0x3400)
        var v: [Float] = []
        for (d, dmin) in [(Float(1), Float(0.5)), (2, 0.25)] {
            for i in 0..<256 { v.append(d * q4KScale[i / 32] * Float(q4KQuant(i)) - dmin * q4KMin[i / 32]) }
        }
        return (b, v)
    }()

    /// Q6_K (llama.cpp `block_q6_K`, 210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits),
    /// 16 int8 scales, fp16 d. Value i = d·scale[i/16]·(L_i − 32) with L_i a 6-bit quant.
    /// Packing (llama.cpp `quantize_row_q6_K_ref`), per half n of 128 values (ql += 64, qh += 32):
    ///   ql[l]    = (L[l] & 0xF)    | (L[l+64] & 0xF) << 4
    ///   ql[l+32] = (L[l+32] & 0xF) | (L[l+96] & 0xF) << 4
    ///   qh[l]    = L[l] >> 4 | (L[l+32] >> 4) << 2 | (L[l+64] >> 4) << 4 | (L[l+96] >> 4) << 6
    /// Chosen: d = 0.5, scale[g] = g + 1 (g even) or −(g + 1) (g odd), L_i = (5i + i/64) mod 64.
    /// Hand values: i = 0: L = 0, scale 1 → 0.5·1·(−32) = −16; i = 17: L = 85 mod 64 = 21,
    /// scale −2 → 0.5·(−2)·(−11) = 11; i = 130: L = 652 mod 64 = 12, scale 9 → 0.5·9·(−20) = −90;
    /// i = 255: L = 1278 mod 64 = 62, scale −16 → 0.5·(−16)·30 = −240.
    static func q6KL(_ i: Int) -> Int { (5 * i + i / 64) % 64 }
    static func q6KScale(_ g: Int) -> Int { g % 2 == 0 ? g + 1 : -(g + 1) }

    static let q6_K: (bytes: [UInt8], values: [Float]) = {
        var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
        for n in 0..<2 {
            let y = 128 * n
            for l in 0..<32 {
                let L = { (k: Int) in UInt8(q6KL(y + k)) }
                ql[64 * n + l] = (L(l) & 0xF) | (L(l + 64) & 0xF) << 4
                ql[64 * n + l + 32] = (L(l + 32) & 0xF) | (L(l + 96) & 0xF) << 4
                qh[32 * n + l] = L(l) >> 4 | (L(l + 32) >> 4) << 2 | (L(l + 64) >> 4) << 4 | (L(l + 96) >> 4) << 6
            }
        }
        let scales = (0..<16).map { UInt8(bitPattern: Int8(q6KScale($0))) }
        let b = ql + qh + scales + le16(0x3800)
        precondition(b.count == 210)
        let v = (0..<256).map { Float(0.5) * Float(q6KScale($0 / 16)) * Float(q6KL($0) - 32) }
        return (b, v)
    }()
}

// MARK: - Round trip

@Suite("GGUF round trip")
struct GGUFRoundTripTests {
    static let metadata: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("f32", .float32(1.5)),
        ("bool.t", .bool(true)), ("bool.f", .bool(false)), ("str", .string("héllo ✓ 日本 🎉")),
        ("empty.str", .string("")),
        ("u64", .uint64(UInt64.max)), ("i64", .int64(Int64.min)), ("f64", .float64(Double.pi)),
        ("arr.i32", .array([.int32(1), .int32(-2), .int32(3)])),
        ("arr.str", .array([.string("a"), .string(""), .string("ü")])),
        ("arr.f32", .array([.float32(0.25), .float32(-8)])),
        ("arr.nested", .array([.array([.uint8(1), .uint8(2)]), .array([.uint8(3)]), .array([])])),
        ("arr.empty", .array([])),
        ("general.alignment", .uint32(64)),
    ]

    static func buildFile(alignment: Int = 64) -> [UInt8] {
        var w = GGUFWriter()
        w.alignment = alignment
        for (k, v) in metadata where k != "general.alignment" { w.set(k, v) }
        w.set("general.alignment", .uint32(UInt32(alignment)))
        w.set("u8", .uint8(200))  // re-setting keeps one entry in its first position
        w.add("f32", .f32(Tensor(shape: [2, 3], data: [1.5, -2, 3.25, 0, 1e-3, -7])))
        w.add("f16", .f16(Tensor(shape: [4], data: [1, -2, 65504, 0.1])))
        w.add("q8_0", .raw(type: .q8_0, shape: [2, 32], bytes: HandBlocks.q8_0.bytes))
        w.add("q4_0", .raw(type: .q4_0, shape: [32], bytes: HandBlocks.q4_0.bytes))
        w.add("q4_1", .raw(type: .q4_1, shape: [1, 32], bytes: HandBlocks.q4_1.bytes))
        w.add("q4_K", .raw(type: .q4_K, shape: [2, 256], bytes: HandBlocks.q4_K.bytes))
        w.add("q6_K", .raw(type: .q6_K, shape: [256], bytes: HandBlocks.q6_K.bytes))
        w.add("bf16", .raw(type: .bf16, shape: [3], bytes: le16(0x3F80) + le16(0x4049) + le16(0xC000)))
        // Last tensor is 16 floats = 64 bytes, so the file ends exactly where its data ends.
        w.add("tail", .f32(Tensor(shape: [4, 4]) { Float($0) - 8 }))
        return w.bytes()
    }

    @Test func metadataOfEveryType() throws {
        let dir = TempDir()
        let path = dir.write(Self.buildFile(), "rt.gguf")
        let f = try GGUFFile(path: path)
        #expect(f.version == 3)
        #expect(f.alignment == 64)
        #expect(f.metadataKeys == Self.metadata.map(\.0))
        for (k, v) in Self.metadata {
            #expect(f.metadata[k] == v, "key \(k): \(String(describing: f.metadata[k])) vs \(v)")
        }
        #expect(f.int("u64") == nil)  // UInt64.max does not fit an Int
        #expect(f.int("i64") == Int(Int64.min))
        #expect(f.int("u32") == 4_000_000_000)
        #expect(f.double("f64") == Double.pi)
        #expect(f.double("f32") == 1.5)
        #expect(f.string("str") == "héllo ✓ 日本 🎉")
        #expect(f.string("u8") == nil)
        #expect(f.metadata["arr.nested"]?.array?[0].array?.count == 2)
    }

    @Test func tensorsDecodeExactly() throws {
        let dir = TempDir()
        let bytes = Self.buildFile()
        let path = dir.write(bytes, "rt.gguf")
        let f = try GGUFFile(path: path)
        #expect(f.tensors.map(\.name) == ["f32", "f16", "q8_0", "q4_0", "q4_1", "q4_K", "q6_K", "bf16", "tail"])
        #expect(f.dataOffset % 64 == 0)
        for t in f.tensors { #expect(t.offset % 64 == 0, "\(t.name) at \(t.offset)") }
        // The file ends exactly at the end of the last tensor's data.
        let last = try #require(f.info("tail"))
        #expect(f.dataOffset + last.offset + last.byteCount == bytes.count)

        let f32 = try f.tensor("f32")
        #expect(f32.shape == [2, 3])
        #expect(f32.data == [1.5, -2, 3.25, 0, 1e-3, -7])
        #expect(f.info("f32")?.dims == [3, 2])  // ne0 first
        #expect(f.info("f32")?.type == .f32)

        let f16 = try f.tensor("f16")
        // 0.1 rounds to fp16 0x2E66 = 1638.4/16384 → 0.0999755859375.
        #expect(f16.data == [1, -2, 65504, 0.0999755859375])
        #expect(f.info("f16")?.byteCount == 8)

        let q8 = try f.tensor("q8_0")
        #expect(q8.shape == [2, 32])
        #expect(q8.data == HandBlocks.q8_0.values)
        #expect(q8.data[0] == -8 && q8.data[31] == 7.5 && q8.data[32] == -31.75 && q8.data[33] == 32)
        #expect(f.info("q8_0")?.byteCount == 68)

        let q40 = try f.tensor("q4_0")
        #expect(q40.shape == [32])
        #expect(q40.data == HandBlocks.q4_0.values)
        #expect(q40.data[0] == -16 && q40.data[15] == 14 && q40.data[16] == 14 && q40.data[31] == -16)

        let q41 = try f.tensor("q4_1")
        #expect(q41.shape == [1, 32])
        #expect(q41.data == HandBlocks.q4_1.values)
        #expect(q41.data[0] == -1 && q41.data[15] == 2.75 && q41.data[16] == 2.75 && q41.data[31] == -1)

        let q4k = try f.tensor("q4_K")
        #expect(q4k.shape == [2, 256])
        #expect(f.info("q4_K")?.byteCount == 288)
        #expect(q4k.data == HandBlocks.q4_K.values)
        // Spot values worked out by hand (block 0: d = 1, dmin = 0.5):
        // i = 33: sub-block 1 (scale 2, min 1), q = (231 + 1) mod 16 = 8 → 16 − 0.5 = 15.5
        // i = 133: sub-block 4 (scale 17, min 33), q = (931 + 4) mod 16 = 7 → 119 − 16.5 = 102.5
        // i = 224: sub-block 7 (scale 63, min 10), q = (1568 + 7) mod 16 = 7 → 441 − 5 = 436
        // i = 255: sub-block 7, q = 1792 mod 16 = 0 → −5
        // block 1 (d = 2, dmin = 0.25), i = 133: 2·17·7 − 0.25·33 = 238 − 8.25 = 229.75
        #expect(q4k.data[0] == 0)
        #expect(q4k.data[33] == 15.5)
        #expect(q4k.data[133] == 102.5)
        #expect(q4k.data[224] == 436)
        #expect(q4k.data[255] == -5)
        #expect(q4k.data[256 + 133] == 229.75)

        let q6k = try f.tensor("q6_K")
        #expect(q6k.shape == [256])
        #expect(f.info("q6_K")?.byteCount == 210)
        #expect(q6k.data == HandBlocks.q6_K.values)
        #expect(q6k.data[0] == -16)
        #expect(q6k.data[17] == 11)
        #expect(q6k.data[130] == -90)
        #expect(q6k.data[255] == -240)

        #expect(try f.tensor("bf16").data == [1, 3.140625, -2])
        #expect(try f.tensor("tail").data == (0..<16).map { Float($0) - 8 })

        expectModelFileError(path, mentions: ["nope"], "missing tensor") { _ = try f.tensor("nope") }
        #expect(f.info("nope") == nil)
    }

    @Test func allQuantizedBlocksDecodeAllZeroBytesToZero() throws {
        // A block of zero bytes is all zeros for every format (d = m = 0; q − 8 or L − 32 times 0).
        for type in GGMLType.allCases {
            let n = type.blockSize * 2
            let src = [UInt8](repeating: 0, count: 2 * type.bytesPerBlock)
            var dst = [Float](repeating: .nan, count: n)
            src.withUnsafeBytes { s in dst.withUnsafeMutableBufferPointer { Dequantize.run(type, s, into: $0) } }
            #expect(dst.allSatisfy { $0 == 0 }, "\(type)")
        }
    }

    @Test func writerMatchesHandEncodedBytes() {
        // A hand-encoded GGUF v3 file: one u32 metadata entry and one F32 tensor of 2 values.
        var w = GGUFWriter()
        w.set("a", .uint32(7))
        w.add("t", .f32(Tensor(shape: [2], data: [1, 2])))
        var b = Bytes()
        b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(1); b.u64(1)
        b.str("a"); b.u32(4); b.u32(7)                       // key, type uint32, value
        b.str("t"); b.u32(1); b.u64(2); b.u32(0); b.u64(0)   // name, n_dims, ne0, F32, offset
        #expect(b.b.count == 74)
        b.pad(to: 32)
        b.f32(1); b.f32(2)
        b.pad(to: 32)
        #expect(w.bytes() == b.b)
        #expect(b.b.count == 128)
    }

    @Test func writeToDiskIsAtomicAndReadable() throws {
        let dir = TempDir()
        var w = GGUFWriter()
        w.set("x", .string("y"))
        let path = dir.file("w.gguf")
        try w.write(to: path)
        #expect(try GGUFFile(path: path).string("x") == "y")
        // Overwriting replaces the file; no temporary files are left behind.
        w.set("x", .string("z"))
        try w.write(to: path)
        #expect(try GGUFFile(path: path).string("x") == "z")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["w.gguf"])
        // Writing into a missing folder fails with a ModelFileError naming the path.
        let bad = dir.file("missing/w.gguf")
        expectModelFileError(bad, "write into missing folder") { try w.write(to: bad) }
    }

    @Test func copyMetadataKeepsOrderAndValues() throws {
        let dir = TempDir()
        let f = try GGUFFile(path: dir.write(Self.buildFile(), "a.gguf"))
        var w = GGUFWriter()
        w.copyMetadata(from: f)
        let g = try GGUFFile(path: dir.write(w.bytes(), "b.gguf"))
        #expect(g.metadataKeys == f.metadataKeys)
        #expect(g.metadata == f.metadata)
        #expect(g.tensors.isEmpty)
    }

    @Test func version2IsRead() throws {
        var bytes = Self.buildFile()
        bytes[4] = 2
        let dir = TempDir()
        let f = try GGUFFile(path: dir.write(bytes, "v2.gguf"))
        #expect(f.version == 2)
        #expect(try f.tensor("q4_1").data == HandBlocks.q4_1.values)
    }
}

// MARK: - The real model file

@Suite("SmolLM2 GGUF file")
struct RealGGUFTests {
    @Test func headerMatchesReference() throws {
        let f = try #require(RealModel.gguf, "model missing: run scripts/setup")
        let size = try FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int
        #expect(size == 98_362_432)
        #expect(f.version == 3)
        #expect(f.string("general.architecture") == "llama")
        #expect(f.int("llama.block_count") == 30)
        #expect(f.int("llama.embedding_length") == 576)
        #expect(f.int("llama.feed_forward_length") == 1536)
        #expect(f.int("llama.attention.head_count") == 9)
        #expect(f.int("llama.attention.head_count_kv") == 3)
        #expect(f.double("llama.rope.freq_base") == 100000)
        #expect(abs((f.double("llama.attention.layer_norm_rms_epsilon") ?? 0) - 1e-5) < 1e-9)
        #expect(f.string("tokenizer.ggml.pre") == "smollm")
        #expect(f.metadata["tokenizer.ggml.tokens"]?.array?.count == 49152)
        #expect(f.info("output.weight") == nil)  // tied to token_embd
        #expect(f.info("token_embd.weight")?.type == .q8_0)
        #expect(f.info("token_embd.weight")?.shape == [49152, 576])
        let gate = try #require(f.info("blk.0.ffn_gate.weight"))
        #expect(gate.dims == [576, 1536])
        #expect(gate.shape == [1536, 576])
        #expect(gate.type == .q4_1)
        #expect(f.info("blk.0.attn_k.weight")?.shape == [192, 576])
        #expect(f.info("blk.29.ffn_down.weight")?.shape == [576, 1536])
        #expect(f.info("blk.0.attn_norm.weight")?.type == .f32)
        for t in f.tensors where t.name.hasSuffix("_norm.weight") { #expect(t.type == .f32, "\(t.name)") }
        for t in f.tensors where t.name.hasPrefix("blk.") && !t.name.hasSuffix("_norm.weight") {
            #expect(t.type == .q4_1, "\(t.name)")
        }
        #expect(f.tensors.count == 30 * 9 + 2)
    }

    @Test func q4_1WeightsDecodeFromTheirBlocks() throws {
        // Decode the first row of blk.0.attn_q by hand from the raw bytes (Q4_1 layout, docs/reference.md §2.2)
        // and compare with the library's dequantization.
        let f = try #require(RealModel.gguf, "model missing: run scripts/setup")
        let info = try #require(f.info("blk.0.attn_q.weight"))
        let raw = f.rawBytes(info)
        #expect(raw.count == 576 * 576 / 32 * 20)
        var firstRow: [Float] = []
        for blk in 0..<(576 / 32) {
            let o = blk * 20
            let d = Float(Float16(bitPattern: UInt16(raw[o]) | UInt16(raw[o + 1]) << 8))
            let m = Float(Float16(bitPattern: UInt16(raw[o + 2]) | UInt16(raw[o + 3]) << 8))
            var vals = [Float](repeating: 0, count: 32)
            for j in 0..<16 {
                vals[j] = d * Float(raw[o + 4 + j] & 0xF) + m
                vals[j + 16] = d * Float(raw[o + 4 + j] >> 4) + m
            }
            firstRow += vals
        }
        let t = try f.tensor("blk.0.attn_q.weight")
        #expect(t.shape == [576, 576])
        #expect(Array(t.row(0)) == firstRow)
    }
}
