import AdaTensor
import Foundation

/// A memory-mapped safetensors file (dtypes F32, F16, BF16 are decoded to Float32; integer
/// dtypes are exposed as raw bytes for ada's packed format).
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let begin: Int
        public let end: Int
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let file: MappedFile
    private let dataStart: Int

    static let dtypeSizes: [String: Int] = ["F32": 4, "F16": 2, "BF16": 2, "U8": 1, "I8": 1,
                                            "U16": 2, "I16": 2, "U32": 4, "I32": 4, "I64": 8, "F64": 8]

    public init(path: String) throws {
        let f = try MappedFile(path: path)
        file = f
        self.path = path
        var c = ByteCursor(bytes: f.bytes, file: path)
        let n = try c.read(UInt64.self, "header length")
        guard n <= UInt64(c.remaining), n <= 100_000_000 else {
            throw c.fail("header length", "header of \(n) bytes runs past the end of the file")
        }
        let header = try c.readBytes(Int(n), "header")
        dataStart = c.offset
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header))
        } catch {
            throw c.fail("header", "not valid JSON")
        }
        guard let dict = json as? [String: Any] else { throw c.fail("header", "not a JSON object") }
        var entries: [String: Entry] = [:]
        var meta: [String: String] = [:]
        let dataSize = f.size - dataStart
        for (name, value) in dict {
            if name == "__metadata__" {
                if let m = value as? [String: Any] {
                    for (k, v) in m { meta[k] = v as? String ?? "\(v)" }
                }
                continue
            }
            let field = "tensor '\(name)'"
            guard let d = value as? [String: Any], let dtype = d["dtype"] as? String,
                  let shapeAny = d["shape"] as? [Any], let offs = d["data_offsets"] as? [Any], offs.count == 2 else {
                throw c.fail(field, "entry lacks dtype, shape or data_offsets")
            }
            guard let size = Self.dtypeSizes[dtype] else { throw c.fail(field + " dtype", "unknown dtype \(dtype)") }
            var shape: [Int] = []
            var count = 1
            for s in shapeAny {
                guard let k = Self.integer(s), k >= 0, k <= Int(Int32.max) else {
                    throw c.fail(field + " shape", "bad dimension \(s)")
                }
                let (p, o) = count.multipliedReportingOverflow(by: k)
                guard !o, p <= 1 << 40 else { throw c.fail(field + " shape", "element count overflows") }
                count = p
                shape.append(k)
            }
            guard let b = Self.integer(offs[0]), let e = Self.integer(offs[1]),
                  b >= 0, e >= b, e <= dataSize else {
                throw c.fail(field + " data_offsets", "offsets \(offs) lie outside the data section (\(dataSize) bytes)")
            }
            guard e - b == count * size else {
                throw c.fail(field + " data_offsets", "holds \(e - b) bytes, shape \(shape) of \(dtype) needs \(count * size)")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, begin: b, end: e)
        }
        // Tensors may not share bytes: aliased entries would let a small file describe any
        // number of large tensors (each decoded into its own allocation).
        var last: Entry?
        for e in entries.values.filter({ $0.end > $0.begin }).sorted(by: { ($0.begin, $0.name) < ($1.begin, $1.name) }) {
            if let l = last, e.begin < l.end {
                throw c.fail("tensor '\(e.name)' data_offsets",
                             "bytes [\(e.begin), \(e.end)) overlap those of tensor '\(l.name)' [\(l.begin), \(l.end))")
            }
            last = e
        }
        self.entries = entries
        metadata = meta
    }

    /// A JSON number that is an exact integer below 2^53 (`NSNumber.intValue` would silently
    /// truncate 2.5 to 2 and wrap huge values).
    static func integer(_ v: Any) -> Int? {
        guard let n = v as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let e = entries[name] else { throw ModelFileError(file: path, field: "tensor '\(name)'", "not in file") }
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + e.begin)..<(dataStart + e.end)])
    }

    /// Decodes a floating-point tensor to Float32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else { throw ModelFileError(file: path, field: "tensor '\(name)'", "not in file") }
        guard ["F32", "F16", "BF16"].contains(e.dtype) else {
            throw ModelFileError(file: path, field: "tensor '\(name)' dtype", "\(e.dtype) is not a floating-point type")
        }
        let raw = try rawBytes(name)
        let n = e.shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { dst in
            switch e.dtype {
            case "F32": Dequantize.run(.f32, raw, into: dst)
            case "F16": Dequantize.run(.f16, raw, into: dst)
            case "BF16": Dequantize.run(.bf16, raw, into: dst)
            default: break
            }
        }
        return Tensor(shape: e.shape, data: out)
    }
}

/// Writes a safetensors file atomically.
public struct SafetensorsWriter {
    private var items: [(String, String, [Int], [UInt8])] = []
    public var metadata: [String: String] = [:]
    public init() {}

    public mutating func add(_ name: String, f32 t: Tensor) {
        var b = [UInt8](); b.reserveCapacity(t.count * 4)
        for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { b.append(contentsOf: $0) } }
        items.append((name, "F32", t.shape, b))
    }

    public mutating func add(_ name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
        items.append((name, dtype, shape, bytes))
    }

    public func bytes() throws -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, dtype, shape, b) in items {
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + b.count]]
            offset += b.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for (_, _, _, b) in items { out.append(contentsOf: b) }
        return out
    }

    public func write(to path: String) throws {
        try AtomicFile.write(Data(try bytes()), to: path)
    }
}
