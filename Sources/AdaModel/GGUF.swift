import AdaTensor

/// Tensor element types of GGML/GGUF that ada reads: every type llama.cpp's legacy and
/// k-quant recipes write (and IQ4_NL). Block layouts and decoding: `GGMLDequant.swift`.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, iq4_nl = 20, bf16 = 30

    /// Values per block: 1 for plain floats, 32 for the legacy types and IQ4_NL, 256 for k-quants.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .iq4_nl: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block (llama.cpp's `block_*` struct sizes).
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0, .iq4_nl: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .iq4_nl: return "IQ4_NL"
        }
    }

    /// Names of GGML types ada does not decode, for clearer errors.
    static func name(ofUnsupported raw: UInt32) -> String {
        let names: [UInt32: String] = [9: "Q8_1", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS",
                                       18: "IQ3_XXS", 19: "IQ1_S", 21: "IQ3_S", 22: "IQ2_S",
                                       23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64",
                                       28: "F64", 29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0",
                                       39: "MXFP4", 40: "NVFP4", 41: "Q1_0"]
        return names[raw].map { "\($0) (type \(raw)), not supported" } ?? "unknown tensor type \(raw)"
    }
}

/// A GGUF metadata value.
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var array: [GGUFValue]? { if case .array(let a) = self { return a } else { return nil } }

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return b ? "true" : "false"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .array(let a):
            let head = a.prefix(4).map(\.description).joined(separator: ", ")
            return a.count > 4 ? "[\(head), … (\(a.count) items)]" : "[\(head)]"
        default: return int.map(String.init) ?? "?"
        }
    }
}

/// One tensor's entry in a GGUF file.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// GGUF order: `dims[0]` (ne0) is the fastest-varying (input) dimension.
    public let dims: [Int]
    public let type: GGMLType
    /// Offset relative to the start of the data section.
    public let offset: Int
    public let byteCount: Int
    public var elementCount: Int { dims.reduce(1, *) }
    /// Row-major shape (slowest first): the reverse of `dims`.
    public var shape: [Int] { dims.reversed() }
}

/// A parsed, memory-mapped GGUF file (versions 2 and 3). Tensors are dequantized on demand.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    public let dataOffset: Int
    private let file: MappedFile
    private let index: [String: Int]

    public convenience init(path: String) throws {
        try self.init(mapped: try MappedFile(path: path))
    }

    init(mapped: MappedFile) throws {
        file = mapped
        path = mapped.path
        var c = ByteCursor(bytes: mapped.bytes, file: mapped.path)
        let magic = try c.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {
            throw c.fail("magic", "not a GGUF file (magic 0x\(String(magic, radix: 16)))")
        }
        let v = try c.read(UInt32.self, "version")
        guard v == 2 || v == 3 else { throw c.fail("version", "unsupported GGUF version \(v) (2 and 3 are read)") }
        version = Int(v)
        let nTensors = try c.read(UInt64.self, "tensor_count")
        let nKV = try c.read(UInt64.self, "metadata_kv_count")
        // Each tensor info needs at least 8+4+8+4+8 bytes, each key/value at least 8+4+1.
        guard nTensors <= UInt64(c.remaining / 32) else {
            throw c.fail("tensor_count", "claims \(nTensors) tensors, more than the file can hold")
        }
        guard nKV <= UInt64(c.remaining / 13) else {
            throw c.fail("metadata_kv_count", "claims \(nKV) entries, more than the file can hold")
        }
        var meta: [String: GGUFValue] = [:]
        var keys: [String] = []
        for i in 0..<Int(nKV) {
            let key = try Self.readString(&c, "metadata[\(i)].key")
            let field = "metadata '\(key)'"
            let t = try c.read(UInt32.self, field + " type")
            meta[key] = try Self.readValue(&c, type: t, field: field, depth: 0)
            keys.append(key)
        }
        metadata = meta
        metadataKeys = keys
        var align = 32
        if let a = meta["general.alignment"] {
            guard let ai = a.int, ai > 0, ai & (ai - 1) == 0, ai <= 1 << 20 else {
                throw c.fail("metadata 'general.alignment'", "must be a power of two, got \(a)")
            }
            align = ai
        }
        alignment = align
        let (infos, idx) = try Self.readTensorInfos(&c, count: Int(nTensors))
        let start = (c.offset + align - 1) / align * align
        dataOffset = start
        for t in infos {
            guard t.offset % align == 0 else {
                throw c.fail("tensor '\(t.name)' offset", "offset \(t.offset) is not aligned to \(align)")
            }
            guard start <= mapped.size, t.offset <= mapped.size - start,
                  t.byteCount <= mapped.size - start - t.offset else {
                throw c.fail("tensor '\(t.name)' offset",
                             "data [\(t.offset), \(t.offset + t.byteCount)) lies past the end of the file (data section holds \(max(0, mapped.size - start)) bytes)")
            }
        }
        // Tensors may not share bytes (llama.cpp requires them laid out one after another):
        // aliased tensors would let a small file describe any number of large ones.
        var last: GGUFTensorInfo?
        for t in infos.filter({ $0.byteCount > 0 }).sorted(by: { ($0.offset, $0.name) < ($1.offset, $1.name) }) {
            if let l = last, t.offset < l.offset + l.byteCount {
                throw c.fail("tensor '\(t.name)' offset",
                             "data [\(t.offset), \(t.offset + t.byteCount)) overlaps tensor '\(l.name)' [\(l.offset), \(l.offset + l.byteCount))")
            }
            last = t
        }
        tensors = infos
        index = idx
    }

    /// The tensor info table: name, dims, type and offset of each tensor, and the index by name.
    private static func readTensorInfos(_ c: inout ByteCursor, count nTensors: Int) throws
        -> ([GGUFTensorInfo], [String: Int]) {
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(nTensors)
        var idx: [String: Int] = [:]
        for i in 0..<nTensors {
            let name = try readString(&c, "tensor_info[\(i)].name")
            let field = "tensor '\(name)'"
            let nd = try c.read(UInt32.self, field + " n_dims")
            guard nd >= 1 && nd <= 4 else { throw c.fail(field + " n_dims", "must be 1…4, got \(nd)") }
            var dims: [Int] = []
            var product = 1
            for d in 0..<Int(nd) {
                let n = try c.read(UInt64.self, field + " dim[\(d)]")
                guard n <= UInt64(Int32.max) else {
                    throw c.fail(field + " dim[\(d)]", "dimension \(n) is absurd")
                }
                let (p, overflow) = product.multipliedReportingOverflow(by: Int(n))
                guard !overflow, p <= 1 << 40 else {
                    throw c.fail(field + " dims", "element count overflows")
                }
                product = p
                dims.append(Int(n))
            }
            let rawType = try c.read(UInt32.self, field + " type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw c.fail(field + " type", GGMLType.name(ofUnsupported: rawType))
            }
            guard dims[0] % type.blockSize == 0 else {
                throw c.fail(field + " dims", "row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            let off = try c.read(UInt64.self, field + " offset")
            guard off <= UInt64(Int.max / 2) else { throw c.fail(field + " offset", "offset \(off) is absurd") }
            let nbytes = product / type.blockSize * type.bytesPerBlock
            guard idx[name] == nil else { throw c.fail(field, "duplicate tensor name") }
            idx[name] = i
            infos.append(GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(off), byteCount: nbytes))
        }
        return (infos, idx)
    }

    private static func readString(_ c: inout ByteCursor, _ field: String) throws -> String {
        let n = try c.read(UInt64.self, field + " length")
        guard n <= UInt64(c.remaining) else {
            throw c.fail(field, "string length \(n) runs past the end of the file")
        }
        return try c.readString(count: Int(n), field)
    }

    private static func readValue(_ c: inout ByteCursor, type: UInt32, field: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try c.read(UInt8.self, field))
        case 1: return .int8(try c.read(Int8.self, field))
        case 2: return .uint16(try c.read(UInt16.self, field))
        case 3: return .int16(try c.read(Int16.self, field))
        case 4: return .uint32(try c.read(UInt32.self, field))
        case 5: return .int32(try c.read(Int32.self, field))
        case 6: return .float32(try c.readFloat(field))
        case 7:
            let b = try c.read(UInt8.self, field)
            guard b <= 1 else { throw c.fail(field, "bool byte is \(b)") }
            return .bool(b == 1)
        case 8: return .string(try readString(&c, field))
        case 9:
            guard depth < 4 else { throw c.fail(field, "arrays nested too deeply") }
            let et = try c.read(UInt32.self, field + " element type")
            let n = try c.read(UInt64.self, field + " count")
            let minSize: UInt64
            switch et {
            case 0, 1, 7: minSize = 1
            case 2, 3: minSize = 2
            case 4, 5, 6: minSize = 4
            case 8, 10, 11, 12: minSize = 8
            case 9: minSize = 12
            default: throw c.fail(field + " element type", "unknown value type \(et)")
            }
            guard n <= UInt64(c.remaining) / minSize else {
                throw c.fail(field + " count", "array of \(n) items runs past the end of the file")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(n))
            for i in 0..<Int(n) {
                items.append(try readValue(&c, type: et, field: "\(field)[\(i)]", depth: depth + 1))
            }
            return .array(items)
        case 10: return .uint64(try c.read(UInt64.self, field))
        case 11: return .int64(try c.read(Int64.self, field))
        case 12: return .float64(try c.readDouble(field))
        default: throw c.fail(field + " type", "unknown value type \(type)")
        }
    }

    public func info(_ name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// Drops the mapping's resident pages (see `MappedFile.dropResidentPages`).
    public func dropResidentPages() { file.dropResidentPages() }

    /// The raw bytes of a tensor (a view into the mapping).
    public func rawBytes(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataOffset + info.offset
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + info.byteCount)])
    }

    /// Dequantizes a tensor to Float32 with its row-major shape.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else {
            throw ModelFileError(file: path, field: "tensor '\(name)'", "not in file")
        }
        var out = [Float](repeating: 0, count: info.elementCount)
        out.withUnsafeMutableBufferPointer { dst in
            Dequantize.run(info.type, rawBytes(info), into: dst)
        }
        return Tensor(shape: info.shape, data: out)
    }

    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
}
