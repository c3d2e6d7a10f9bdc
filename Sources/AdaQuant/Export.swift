import AdaModel
import AdaTensor
import Foundation

/// ada's packed format, in safetensors: for each quantized linear `blk.N.NAME`:
/// - `blk.N.NAME.qweight` (U8): the `[out, in]` integer codes, row-major, bit-packed
///   little-endian (code `i` occupies bits `i·b … i·b+b−1` of the byte stream);
/// - `blk.N.NAME.scales`, `blk.N.NAME.zeros` (F32): per-group parameters,
///   `[out, ⌈in/g⌉]` for per-OC, `[⌈out/g⌉, in]` for per-IC;
/// and in `__metadata__`: `format = ada-packed-1`, and for each module
/// `blk.N.NAME = "bits=3 group=128 dim=ic grid=minmax shape=1536x576"`.
/// Dequantization is `(code − zero)·scale` with the group of each element.
public enum PackedFormat {
    public static let formatName = "ada-packed-1"

    public static func pack(_ codes: [UInt8], bits: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (codes.count * bits + 7) / 8)
        var bit = 0
        for c in codes {
            var v = UInt32(c), b = bit, left = bits
            while left > 0 {
                let byte = b >> 3, off = b & 7
                let take = min(8 - off, left)
                out[byte] |= UInt8((v & ((1 << take) - 1)) << off)
                v >>= take
                b += take
                left -= take
            }
            bit += bits
        }
        return out
    }

    public static func unpack(_ bytes: UnsafeRawBufferPointer, count: Int, bits: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var bit = 0
        for i in 0..<count {
            var v: UInt32 = 0, b = bit, got = 0
            while got < bits {
                let byte = b >> 3, off = b & 7
                let take = min(8 - off, bits - got)
                v |= ((UInt32(bytes[byte]) >> off) & ((1 << take) - 1)) << got
                got += take
                b += take
            }
            out[i] = UInt8(v)
            bit += bits
        }
        return out
    }

    /// Writes the quantized layers of `q` (atomically).
    public static func write(_ q: QuantizedModel, to path: String) throws {
        var w = SafetensorsWriter()
        w.metadata["format"] = formatName
        for id in q.layers.keys.sorted() {
            let t = q.layers[id]!
            let name = id.description
            w.add(name + ".qweight", dtype: "U8", shape: [t.packed.count], bytes: t.packed)
            w.add(name + ".scales", f32: t.scales)
            w.add(name + ".zeros", f32: t.zeros)
            w.metadata[name] = "bits=\(t.spec.bits) group=\(t.groupSize) dim=\(t.spec.dim.rawValue) grid=\(t.spec.grid.rawValue) shape=\(t.shape[0])x\(t.shape[1])"
        }
        try w.write(to: path)
    }

    /// One module's entry in a packed file's `__metadata__`, parsed and checked.
    struct Description {
        let bits: Int, group: Int, dim: QuantDim, grid: GridKind
        let rows: Int, cols: Int
        /// Bytes of the bit-packed codes.
        let packedBytes: Int
        /// Groups along the grouped dimension.
        let groups: Int

        init?(_ desc: String) {
            var kv: [String: String] = [:]
            for part in desc.split(separator: " ") {
                let p = part.split(separator: "=", maxSplits: 1)
                if p.count == 2 { kv[String(p[0])] = String(p[1]) }
            }
            let dims = (kv["shape"] ?? "").split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard let bits = kv["bits"].flatMap(Int.init), (2...8).contains(bits), let g = kv["group"].flatMap(Int.init), g > 0,
                  let dim = kv["dim"].flatMap(QuantDim.init(rawValue:)), let grid = kv["grid"].flatMap(GridKind.init(rawValue:)),
                  dims.count == 2, let rows = dims[0], let cols = dims[1], rows > 0, cols > 0 else { return nil }
            // Overflow-checked: rows·cols·bits bits of codes.
            let (n, o1) = rows.multipliedReportingOverflow(by: cols)
            let (nbits, o2) = n.multipliedReportingOverflow(by: bits)
            guard !o1, !o2, nbits <= Int.max - 7 else { return nil }
            let along = dim == .oc ? cols : rows
            guard g <= along else { return nil }
            (self.bits, self.group, self.dim, self.grid, self.rows, self.cols) = (bits, g, dim, grid, rows, cols)
            packedBytes = (nbits + 7) / 8
            groups = (along + g - 1) / g
        }

        var along: Int { dim == .oc ? cols : rows }
        var paramShape: [Int] { dim == .oc ? [rows, groups] : [groups, cols] }
    }

    /// Reads a packed file back: the quantized tensors by module. With `base`, each module must
    /// be one of the model's, of the same shape, checked before its codes are unpacked.
    public static func read(_ path: String, for base: LlamaModel? = nil) throws -> [LinearID: QuantizedTensor] {
        let f = try SafetensorsFile(path: path)
        guard f.metadata["format"] == formatName else {
            throw ModelFileError(file: path, field: "__metadata__.format", "not an ada packed file (expected \(formatName))")
        }
        var out: [LinearID: QuantizedTensor] = [:]
        for (key, desc) in f.metadata.sorted(by: { $0.key < $1.key }) where key != "format" {
            guard let id = LinearID(key) else {
                if key.hasPrefix("blk.") {
                    throw ModelFileError(file: path, field: "__metadata__.\(key)", "not a layer name (blk.N.KIND with N ≥ 0)")
                }
                continue
            }
            guard let d = Description(desc) else {
                throw ModelFileError(file: path, field: "__metadata__.\(key)", "malformed description '\(desc)'")
            }
            guard out[id] == nil else { throw ModelFileError(file: path, field: "__metadata__.\(key)", "\(id) is described twice") }
            if let base {
                guard id.block < base.blocks.count else {
                    throw ModelFileError(file: path, field: "tensor '\(key)'",
                                         "the base model has no block \(id.block) (it has blocks 0…\(base.blocks.count - 1))")
                }
                guard base[id].shape == [d.rows, d.cols] else {
                    throw ModelFileError(file: path, field: "tensor '\(key)'",
                                         "shape \(d.rows)×\(d.cols) does not match the base model's \(id) \(base[id].shape)")
                }
            }
            out[id] = try readModule(f, key: key, d)
        }
        return out
    }

    /// One module's codes, scales and zeros, sizes checked before anything is unpacked.
    static func readModule(_ f: SafetensorsFile, key: String, _ d: Description) throws -> QuantizedTensor {
        let path = f.path
        let raw = try f.rawBytes(key + ".qweight")
        guard raw.count == d.packedBytes else {
            throw ModelFileError(file: path, field: "tensor '\(key).qweight'",
                                 "holds \(raw.count) bytes, \(d.rows)×\(d.cols) codes of \(d.bits) bits need \(d.packedBytes)")
        }
        for part in ["scales", "zeros"] {
            guard let e = f.entries["\(key).\(part)"] else {
                throw ModelFileError(file: path, field: "tensor '\(key).\(part)'", "not in file")
            }
            guard e.shape == d.paramShape else {
                throw ModelFileError(file: path, field: "tensor '\(key).\(part)'", "shape \(e.shape), expected \(d.paramShape)")
            }
        }
        let scales = try f.tensor(key + ".scales"), zeros = try f.tensor(key + ".zeros")
        for (part, t) in [("scales", scales), ("zeros", zeros)] {
            if let what = Finite.describeFirstNonFinite(t) {
                throw ModelFileError(file: path, field: "tensor '\(key).\(part)'", "holds a non-finite value (\(what))")
            }
        }
        let codes = unpack(raw, count: d.rows * d.cols, bits: d.bits)
        let deq = QuantizedTensor.dequantize(codes: codes, scales: scales, zeros: zeros, rows: d.rows, cols: d.cols,
                                             dim: d.dim, groupSize: d.group)
        if let what = Finite.describeFirstNonFinite(deq) {
            throw ModelFileError(file: path, field: "tensor '\(key).scales'", "dequantizes to a non-finite value (\(what))")
        }
        return QuantizedTensor(spec: QuantSpec(bits: d.bits, group: d.group == d.along ? 0 : d.group, dim: d.dim, grid: d.grid),
                               groupSize: d.group, codes: codes, scales: scales, zeros: zeros, dequantized: deq,
                               ragged: d.along % d.group != 0)
    }

    /// `base` with the packed file's layers applied.
    public static func apply(_ path: String, to base: LlamaModel) throws -> LlamaModel {
        var m = base
        for (id, t) in try read(path, for: base) { m[id] = t.dequantized }
        return m
    }
}
