import AdaModel
import Foundation

/// Reads only the header and metadata of a GGUF file, written apart from `GGUFFile`.
/// `GGUFFile(path:)` also reads the tensor table and refuses tensor types it cannot decode
/// (Gemma 3 270M has Q5_0 tensors); a tokenizer needs only the metadata. The "metadata
/// reader" test checks it against `GGUFFile` on SmolLM2.
enum GGUFMetadataReader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func metadata(path: String) throws -> [String: GGUFValue] {
        let file = try MappedFile(path: path)
        // The mapping must outlive the cursor over its bytes.
        return try withExtendedLifetime(file) {
            var c = Cursor(bytes: file.bytes)
            guard try c.u32() == 0x4655_4747 else { throw Failure(description: "\(path): not a GGUF file") }
            let version = try c.u32()
            guard version == 2 || version == 3 else { throw Failure(description: "\(path): GGUF version \(version)") }
            _ = try c.u64()  // tensor count
            let count = try c.u64()
            var out: [String: GGUFValue] = [:]
            for _ in 0..<count {
                let key = try c.string()
                out[key] = try c.value(type: try c.u32())
            }
            return out
        }
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        mutating func take<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let n = MemoryLayout<T>.size
            guard at + n <= bytes.count else { throw Failure(description: "truncated at byte \(at)") }
            defer { at += n }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        mutating func u32() throws -> UInt32 { try take(UInt32.self) }
        mutating func u64() throws -> UInt64 { try take(UInt64.self) }

        mutating func string() throws -> String {
            let n = Int(try u64())
            guard n <= bytes.count - at else { throw Failure(description: "string runs past the end at \(at)") }
            defer { at += n }
            guard let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)]), as: UTF8.self) else {
                throw Failure(description: "string at byte \(at) is not UTF-8")
            }
            return s
        }

        mutating func value(type: UInt32) throws -> GGUFValue {
            switch type {
            case 0: return .uint8(try take(UInt8.self))
            case 1: return .int8(try take(Int8.self))
            case 2: return .uint16(try take(UInt16.self))
            case 3: return .int16(try take(Int16.self))
            case 4: return .uint32(try u32())
            case 5: return .int32(try take(Int32.self))
            case 6: return .float32(Float(bitPattern: try u32()))
            case 7: return .bool(try take(UInt8.self) != 0)
            case 8: return .string(try string())
            case 9:
                let element = try u32()
                let n = try u64()
                guard n <= UInt64(bytes.count - at) else { throw Failure(description: "array of \(n) items at \(at)") }
                var items: [GGUFValue] = []
                items.reserveCapacity(Int(n))
                for _ in 0..<n { items.append(try value(type: element)) }
                return .array(items)
            case 10: return .uint64(try u64())
            case 11: return .int64(try take(Int64.self))
            case 12: return .float64(Double(bitPattern: try u64()))
            default: throw Failure(description: "unknown value type \(type) at byte \(at)")
            }
        }
    }
}
