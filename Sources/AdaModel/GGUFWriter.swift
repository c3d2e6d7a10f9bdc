import AdaTensor
import Foundation

/// Builds a GGUF v3 file: metadata in insertion order, then F32/F16 tensors (or raw blocks).
public struct GGUFWriter {
    public enum Payload {
        case f32(Tensor)
        case f16(Tensor)
        /// Already-encoded blocks of `type` with row-major `shape`.
        case raw(type: GGMLType, shape: [Int], bytes: [UInt8])
    }

    private var meta: [(String, GGUFValue)] = []
    private var tensors: [(String, Payload)] = []
    public var alignment = 32

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = meta.firstIndex(where: { $0.0 == key }) { meta[i].1 = value } else { meta.append((key, value)) }
    }

    public mutating func add(_ name: String, _ payload: Payload) { tensors.append((name, payload)) }

    /// Copies every metadata entry of `file` in its order.
    public mutating func copyMetadata(from file: GGUFFile) {
        for k in file.metadataKeys { if let v = file.metadata[k] { set(k, v) } }
    }

    private static func typeCode(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    private static func put<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func putString(_ out: inout [UInt8], _ s: String) {
        let u = Array(s.utf8)
        put(&out, UInt64(u.count))
        out.append(contentsOf: u)
    }

    private static func putValue(_ out: inout [UInt8], _ v: GGUFValue) {
        switch v {
        case .uint8(let x): put(&out, x)
        case .int8(let x): put(&out, x)
        case .uint16(let x): put(&out, x)
        case .int16(let x): put(&out, x)
        case .uint32(let x): put(&out, x)
        case .int32(let x): put(&out, x)
        case .float32(let x): put(&out, x.bitPattern)
        case .bool(let x): put(&out, UInt8(x ? 1 : 0))
        case .string(let s): putString(&out, s)
        case .array(let a):
            put(&out, a.first.map(typeCode) ?? 4)
            put(&out, UInt64(a.count))
            for e in a { putValue(&out, e) }
        case .uint64(let x): put(&out, x)
        case .int64(let x): put(&out, x)
        case .float64(let x): put(&out, x.bitPattern)
        }
    }

    private static func encode(_ p: Payload) -> (GGMLType, [Int], [UInt8]) {
        switch p {
        case .f32(let t):
            var b = [UInt8](); b.reserveCapacity(t.count * 4)
            for v in t.data { put(&b, v.bitPattern) }
            return (.f32, t.shape, b)
        case .f16(let t):
            var b = [UInt8](); b.reserveCapacity(t.count * 2)
            for v in t.data { put(&b, HalfPrecision.halfBits(from: v)) }
            return (.f16, t.shape, b)
        case .raw(let type, let shape, let bytes):
            return (type, shape, bytes)
        }
    }

    /// The whole file as bytes.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: Array("GGUF".utf8))
        Self.put(&out, UInt32(3))
        Self.put(&out, UInt64(tensors.count))
        Self.put(&out, UInt64(meta.count))
        for (k, v) in meta {
            Self.putString(&out, k)
            Self.put(&out, Self.typeCode(v))
            Self.putValue(&out, v)
        }
        let encoded = tensors.map { Self.encode($0.1) }
        var offset = 0
        for (i, (name, _)) in tensors.enumerated() {
            let (type, shape, data) = encoded[i]
            Self.putString(&out, name)
            Self.put(&out, UInt32(shape.count))
            for d in shape.reversed() { Self.put(&out, UInt64(d)) }
            Self.put(&out, type.rawValue)
            Self.put(&out, UInt64(offset))
            offset += (data.count + alignment - 1) / alignment * alignment
        }
        while out.count % alignment != 0 { out.append(0) }
        for (_, _, data) in encoded {
            out.append(contentsOf: data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file atomically (temporary file in the same folder, then rename).
    public func write(to path: String) throws {
        try AtomicFile.write(Data(bytes()), to: path)
    }
}
