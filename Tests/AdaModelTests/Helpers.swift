import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

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


/// The real model, and the tokenizer built from its GGUF metadata (parsed once).
enum RealModel {
    static let path = DataPaths.model("smollm2")
    /// nil when the data is missing (run scripts/setup); tests then fail on `#require`.
    static let gguf: GGUFFile? = try? GGUFFile(path: path)
    static let tokenizer: BPETokenizer? = gguf.flatMap { try? BPETokenizer(gguf: $0) }
}
