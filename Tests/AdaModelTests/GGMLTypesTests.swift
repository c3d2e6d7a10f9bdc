import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// One type's blocks and expected values from Tests/fixtures/ggml/ggml_dequant.json, written
/// once by make_ggml_fixtures.py with the `gguf` package's dequantization (an implementation
/// independent of ada's).
struct GGMLFixture: CustomStringConvertible {
    let name: String
    let type: UInt32
    let blockSize: Int
    let bytesPerBlock: Int
    let bytes: [UInt8]
    /// Float32 bit patterns.
    let values: [UInt32]
    var description: String { name }

    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/ggml/ggml_dequant.json").path

    /// All fixtures, in file order (empty, and the tests fail, if the file cannot be read).
    static let all: [GGMLFixture] = {
        guard let data = FileManager.default.contents(atPath: path),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let types = doc["types"] as? [[String: Any]] else { return [] }
        return types.compactMap { t in
            guard let name = t["name"] as? String, let type = t["type"] as? Int,
                  let bs = t["block_size"] as? Int, let bpb = t["bytes_per_block"] as? Int,
                  let hex = t["bytes"] as? String, let vals = t["values"] as? [String],
                  let bytes = hexBytes(hex) else { return nil }
            let bits = vals.compactMap { UInt32($0, radix: 16) }
            guard bits.count == vals.count else { return nil }
            return GGMLFixture(name: name, type: UInt32(type), blockSize: bs, bytesPerBlock: bpb, bytes: bytes, values: bits)
        }
    }()

    static func hexBytes(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        for i in stride(from: 0, to: u.count, by: 2) {
            guard let b = UInt8(String(decoding: u[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }
}

/// Distance in units in the last place between two finite floats of the same sign (larger
/// when the signs differ), for failure messages.
private func ulps(_ a: Float, _ b: Float) -> Int {
    let ia = Int(Int32(bitPattern: a.bitPattern)), ib = Int(Int32(bitPattern: b.bitPattern))
    return abs(ia - ib)
}

/// Compares decoded values with the fixture's bit patterns. Tolerance: none (bit-identical,
/// sign of zero included): ada multiplies in the same order as llama.cpp and gguf-py.
private func expectSame(_ got: [Float], _ f: GGMLFixture, _ what: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == f.values.count, "\(f) \(what): \(got.count) values", sourceLocation: sourceLocation)
    var bad: [String] = []
    for (i, (g, e)) in zip(got, f.values).enumerated() where g.bitPattern != e {
        let ef = Float(bitPattern: e)
        bad.append("[\(i)] \(g) vs \(ef) (\(ulps(g, ef)) ulp)")
    }
    if !bad.isEmpty {
        Issue.record("\(f) \(what): \(bad.count) values differ: \(bad.prefix(6).joined(separator: ", "))",
                     sourceLocation: sourceLocation)
    }
}

@Suite("GGMLTypes dequantization against the gguf package")
struct GGMLTypesTests {
    @Test func fixturesCoverEveryType() throws {
        let names = GGMLFixture.all.map(\.name)
        #expect(names.count == 14, "fixtures read from \(GGMLFixture.path): \(names)")
        #expect(Set(names) == Set(GGMLType.allCases.map(\.description)))
        for f in GGMLFixture.all {
            let t = try #require(GGMLType(rawValue: f.type), "\(f)")
            #expect(t.description == f.name)
            #expect(t.blockSize == f.blockSize, "\(f) block size")
            #expect(t.bytesPerBlock == f.bytesPerBlock, "\(f) bytes per block")
            #expect(f.bytes.count == f.values.count / f.blockSize * f.bytesPerBlock, "\(f) fixture size")
        }
    }

    @Test func kernelsMatchTheReference() throws {
        for f in GGMLFixture.all {
            let t = try #require(GGMLType(rawValue: f.type))
            var out = [Float](repeating: .nan, count: f.values.count)
            f.bytes.withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { Dequantize.run(t, s, into: $0) } }
            expectSame(out, f, "kernel")
        }
    }

    @Test func filesOfEveryTypeReadBack() throws {
        // Each fixture as a tensor of whole rows (two to 64 of them) in a GGUF file: the reader's
        // byte counts and offsets must agree with the block sizes, the second tensor included.
        let dir = TempDir()
        var w = GGUFWriter()
        for f in GGMLFixture.all {
            let t = try #require(GGMLType(rawValue: f.type))
            let row = f.blockSize == 1 ? 32 : f.blockSize
            w.add("t.\(f.name)", .raw(type: t, shape: [f.values.count / row, row], bytes: f.bytes))
        }
        let path = dir.file("types.gguf")
        try w.write(to: path)
        let file = try GGUFFile(path: path)
        for f in GGMLFixture.all {
            let info = try #require(file.info("t.\(f.name)"))
            #expect(info.byteCount == f.bytes.count, "\(f) byte count")
            #expect(Array(file.rawBytes(info)) == f.bytes, "\(f) raw bytes")
            expectSame(try file.tensor("t.\(f.name)").data, f, "from a file")
        }
    }

    @Test func rowsThatAreNotWholeBlocksAreRefusedAtHeaderRead() throws {
        // ne0 = 320 for a 256-value k-quant, 48 for a 32-value type: refused when the header is
        // read, with one line naming the file, the tensor, the type and its block size.
        let dir = TempDir()
        for t in GGMLType.allCases where t.blockSize > 1 {
            let ne0 = t.blockSize == 256 ? 320 : 48
            var w = GGUFWriter()
            w.add("blk.0.ffn_down.weight", .raw(type: t, shape: [2, ne0], bytes: [UInt8](repeating: 0, count: 4 * t.bytesPerBlock)))
            let path = dir.write(w.bytes(), "row-\(t).gguf")
            let e = expectModelFileError(path, mentions: ["tensor 'blk.0.ffn_down.weight'", "row length \(ne0)",
                                                          "\(t) block size \(t.blockSize)"], "\(t)") {
                _ = try GGUFFile(path: path)
            }
            #expect(e.map { !$0.description.contains("\n") } ?? false, "\(t): one line")
        }
        // The case from a real mistake: a Q4_K tensor with rows of 320 values.
        var w = GGUFWriter()
        w.add("w", .raw(type: .q4_K, shape: [1, 320], bytes: [UInt8](repeating: 0, count: 2 * 144)))
        let path = dir.write(w.bytes(), "q4k-320.gguf")
        let e = expectModelFileError(path, mentions: ["tensor 'w'", "320", "Q4_K", "256"]) { _ = try GGUFFile(path: path) }
        #expect(e?.description == "\(path): tensor 'w' dims: row length 320 is not a multiple of the Q4_K block size 256")
    }
}
