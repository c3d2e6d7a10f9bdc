import AdaModel
import AdaTensor
import Foundation

/// How a GGUF export stores the linear weights.
public enum ExportType: String, Sendable, CaseIterable {
    /// Every linear layer dequantized ("fake-quant") as F32 or F16.
    case f32, f16
    /// Quantized per-OC layers in GGML's own block types (`NativeLayer`), the other quantized
    /// layers as F16, layers the model left unchanged in their stored encoding.
    case native
}

/// What an export writes for one tensor.
public struct ExportedTensor: Sendable {
    public let name: String
    public let type: GGMLType
    /// Why it has that type (one line).
    public let reason: String
    /// The quantized layer it encodes (nil for copied and dense tensors).
    public let layer: LinearID?
}

/// The tensors an export of `view` as `type` writes, in file order, with their types: what
/// `exportGGUF` would do, without writing anything.
public func exportPlan(_ view: ModelView, as type: ExportType) throws -> [ExportedTensor] {
    try GGUFExporter(view, type).tensors.map(\.record)
}

/// Writes `view` as a GGUF file, tensor by tensor (one layer's weights in memory at a time):
/// the source file's metadata and tokenizer; every tensor the model holds unchanged copied in
/// its stored encoding; norms an edit changed (activation-aware scaling folds its scales into
/// them) as F32; the linear weights as `type` says. The file loads in ada and in llama.cpp.
/// Written atomically. Returns what was written.
@discardableResult
public func exportGGUF(_ view: ModelView, to path: String, as type: ExportType = .f32) throws -> [ExportedTensor] {
    let e = try GGUFExporter(view, type)
    try e.write(to: path)
    return e.tensors.map(\.record)
}

/// `exportGGUF` of a model's own weights (an edited or folded model, or a materialized one).
@discardableResult
public func exportGGUF(_ model: LlamaModel, to path: String, as type: ExportType = .f32) throws -> [ExportedTensor] {
    try exportGGUF(ModelView(base: model), to: path, as: type)
}

/// `exportGGUF` of a quantized model's view (its packed layers over the original model).
@discardableResult
public func exportGGUF(_ q: QuantizedModel, to path: String, as type: ExportType = .f32) throws -> [ExportedTensor] {
    try exportGGUF(q.view, to: path, as: type)
}

/// The plan of one export: each tensor of the source file with where its bytes come from.
struct GGUFExporter {
    enum Content {
        case raw(GGUFTensorInfo)
        case floats(Tensor, GGMLType)
        case weight(LinearID, GGMLType)
        case native(LinearID, PackedLayer, NativeLayer)
    }

    struct Item {
        let record: ExportedTensor
        let shape: [Int]
        let content: Content
    }

    let view: ModelView
    let src: GGUFFile
    let type: ExportType
    private(set) var tensors: [Item] = []

    init(_ view: ModelView, _ type: ExportType) throws {
        guard let src = view.base.gguf else {
            throw QuantError("GGUF export needs a model loaded from a GGUF file (this one came from \(view.base.sourcePath))", origin: .file)
        }
        (self.view, self.src, self.type) = (view, src, type)
        let linear = Dictionary(uniqueKeysWithValues: view.linearIDs.map { ("\($0).weight", $0) })
        for info in src.tensors {
            if let id = linear[info.name] {
                tensors.append(try linearItem(id, info))
            } else {
                tensors.append(try otherItem(info))
            }
        }
    }

    private func linearItem(_ id: LinearID, _ info: GGUFTensorInfo) throws -> Item {
        let name = info.name, shape = info.shape
        switch type {
        case .f32, .f16:
            let t: GGMLType = type == .f32 ? .f32 : .f16
            return Item(record: ExportedTensor(name: name, type: t, reason: "dequantized weights", layer: view.overlay[id] == nil ? nil : id),
                        shape: shape, content: .weight(id, t))
        case .native:
            if let p = view.overlay[id] as? PackedLayer {
                let n = NativeLayer(p)
                return Item(record: ExportedTensor(name: name, type: n.type, reason: n.reason, layer: id), shape: shape,
                            content: n.encoded ? .native(id, p, n) : .weight(id, n.type))
            }
            // A block read from the file as stored is unchanged without decoding the layer.
            if view.overlay[id] == nil, try view.base.blocks.isFromFile(id.block) || unchanged(id.block, name, view.base[id]) {
                return Item(record: ExportedTensor(name: name, type: info.type, reason: "unchanged, as stored", layer: nil),
                            shape: shape, content: .raw(info))
            }
            return Item(record: ExportedTensor(name: name, type: .f16, reason: "a dense replacement", layer: nil),
                        shape: shape, content: .weight(id, .f16))
        }
    }

    /// Norms, embeddings and the head: copied as stored unless the model's values differ from
    /// the file's (then F32).
    private func otherItem(_ info: GGUFTensorInfo) throws -> Item {
        let raw = Item(record: ExportedTensor(name: info.name, type: info.type, reason: "as stored", layer: nil),
                       shape: info.shape, content: .raw(info))
        guard let (block, value) = modelValue(info.name) else { return raw }
        guard try !unchanged(block, info.name, value) else { return raw }
        return Item(record: ExportedTensor(name: info.name, type: .f32, reason: "changed by an edit (e.g. folded scales)", layer: nil),
                    shape: info.shape, content: .floats(value, .f32))
    }

    /// The model's own value of a non-linear tensor of the file, and its block (nil for the
    /// model-level ones); nil for tensors ada does not hold.
    private func modelValue(_ name: String) -> (Int?, Tensor)? {
        let m = view.base
        func vec(_ v: [Float]?) -> Tensor? { v.map { Tensor(shape: [$0.count], data: $0) } }
        switch name {
        case "token_embd.weight": return (nil, m.tokenEmbedding)
        case "output.weight": return m.output.map { (nil, $0) }
        case "output_norm.weight": return (nil, vec(m.outputNorm)!)
        default: break
        }
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk", parts[3] == "weight", let b = Int(parts[1]), b >= 0, b < m.blocks.count else { return nil }
        if m.blocks.isFromFile(b) { return nil }
        let blk = m.blocks[b]
        let v: [Float]?
        switch parts[2] {
        case "attn_norm": v = blk.attnNorm
        case "ffn_norm": v = blk.ffnNorm
        case "attn_q_norm": v = blk.qNorm
        case "attn_k_norm": v = blk.kNorm
        case "post_attention_norm": v = blk.postAttnNorm
        case "post_ffw_norm": v = blk.postFFNNorm
        default: v = nil
        }
        return vec(v).map { (b, $0) }
    }

    /// Whether `value` is what the file holds for `name` (a block read from the file as
    /// stored always is). Compared row by row, so an embedding is not decoded whole.
    private func unchanged(_ block: Int?, _ name: String, _ value: Tensor) throws -> Bool {
        if let block, view.base.blocks.isFromFile(block) { return true }
        guard let info = src.info(name), info.elementCount == value.count, let cols = info.dims.first, cols > 0 else { return false }
        let rowBytes = cols / info.type.blockSize * info.type.bytesPerBlock
        let raw = src.rawBytes(info)
        var row = [Float](repeating: 0, count: cols)
        return value.data.withUnsafeBufferPointer { v in
            for r in 0..<(info.elementCount / cols) {
                row.withUnsafeMutableBufferPointer {
                    Dequantize.run(info.type, UnsafeRawBufferPointer(rebasing: raw[(r * rowBytes)..<((r + 1) * rowBytes)]), into: $0)
                }
                for c in 0..<cols where row[c] != v[r * cols + c] { return false }
            }
            return true
        }
    }

    /// `general.file_type`: llama.cpp's code for the most common linear type.
    private var fileType: UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .native:
            var count: [GGMLType: Int] = [:]
            for t in tensors where t.record.layer != nil { count[t.record.type, default: 0] += 1 }
            let top = count.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key
            let codes: [GGMLType: UInt32] = [.f32: 0, .f16: 1, .q4_0: 2, .q4_1: 3, .q8_0: 7, .q5_0: 8, .q5_1: 9]
            return top.flatMap { codes[$0] } ?? src.metadata["general.file_type"].flatMap { v -> UInt32? in
                if case .uint32(let x) = v { return x }
                return nil
            } ?? 1
        }
    }

    func write(to path: String) throws {
        var w = GGUFStreamWriter()
        w.copyMetadata(from: src)
        w.set("general.file_type", .uint32(fileType))
        w.set("general.alignment", .uint32(UInt32(GGUFStreamWriter.alignment)))
        for t in tensors { try w.declare(t.record.name, type: t.record.type, shape: t.shape) }
        try w.write(to: path) { i, _, sink in
            switch tensors[i].content {
            case .raw(let info): try sink.write(src.rawBytes(info))
            case .floats(let t, let type): try Self.put(t, type, sink)
            case .weight(let id, let type): try Self.put(view.weight(id), type, sink)
            case .native(_, let p, let n): try n.encode(p).bytes.withUnsafeBytes { try sink.write($0) }
            }
        }
    }

    private static func put(_ t: Tensor, _ type: GGMLType, _ sink: GGUFStreamWriter.Sink) throws {
        if type == .f16 {
            let bits = t.data.map { HalfPrecision.halfBits(from: $0).littleEndian }
            try bits.withUnsafeBufferPointer { try sink.write(halfBits: $0) }
        } else {
            try t.data.withUnsafeBufferPointer { try sink.write(floats: $0) }
        }
    }
}
