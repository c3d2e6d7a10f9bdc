import AdaModel
import AdaTensor
import Foundation
import Testing

/// A fresh temporary directory, removed when the value is deinitialized.
final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/ada-model-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func write(_ bytes: [UInt8], _ name: String) -> String {
        let p = file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// SplitMix64: a small seeded generator so that the tests are deterministic.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
}

/// Little-endian byte builder for hand-made files.
struct Bytes {
    var b: [UInt8] = []
    mutating func u8(_ v: UInt8) { b.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { b.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func raw(_ v: [UInt8]) { b.append(contentsOf: v) }
    /// GGUF string: u64 length then bytes.
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); b.append(contentsOf: Array(s.utf8)) }
    mutating func pad(to a: Int) { while b.count % a != 0 { b.append(0) } }
}

/// Runs `body`, expecting a ModelFileError whose description names `path` and contains each
/// of `mentions`; returns the error.
@discardableResult
func expectModelFileError(_ path: String, mentions: [String] = [], _ what: String = "",
                          sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> Void) -> ModelFileError? {
    do {
        try body()
        Issue.record("\(what): expected a ModelFileError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let e as ModelFileError {
        #expect(e.file == path, "\(what): error names \(e.file)", sourceLocation: sourceLocation)
        #expect(e.description.contains(path), "\(what): \(e)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(e.description.contains(m), "\(what): '\(e)' should mention '\(m)'", sourceLocation: sourceLocation)
        }
        return e
    } catch {
        Issue.record("\(what): expected a ModelFileError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
    return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The real model, and the tokenizer built from its GGUF metadata (parsed once).
enum RealModel {
    static let path = DataPaths.model("smollm2")
    /// nil when the data is missing (run scripts/setup); tests then fail on `#require`.
    static let gguf: GGUFFile? = try? GGUFFile(path: path)
    static let tokenizer: BPETokenizer? = gguf.flatMap { try? BPETokenizer(gguf: $0) }
}
