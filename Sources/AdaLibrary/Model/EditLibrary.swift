import AdaLang
import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// Editing models as views: replace one layer, merge layers of several models, and compare
/// two quantized models module by module. Every edit makes a new view that shares the base
/// and the unchanged layers (a packed layer taken from a quantized model stays packed).
public enum EditLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(replaceCommand)
        r.register(mergeCommand)
        r.register(diffCommand)
    }

    static var replaceCommand: Builtin {
        Builtin(
            name: "replace", category: "model", summary: "A model with one linear layer replaced by a tensor or by another model's layer.",
            help: "The result is a new model; the original is unchanged and shares every other layer with it. A tensor must have the layer's shape [out, in] and finite values; a model must have the same layer shape, and its layer is taken as it is stored (a quantized layer stays packed). The result is a model (its quantization record, if any, is not carried over: `merge` keeps it).",
            examples: ["m2 = replace m \"blk.3.attn_v\" (zeros [192, 576])", "m3 = replace m \"blk.3.attn_v\" q"],
            params: [Param("model", .model, doc: "the model to edit"),
                     Param("layer", .string, doc: "a linear layer name such as blk.3.attn_v"),
                     Param("with", .oneOf([.tensor, .model]), doc: "a tensor of the layer's shape, or a model whose layer to take")],
            returns: "a model",
            run: { a, _ in
                let mv = try a.modelValue("model")
                let id = try a.layerID("layer", in: mv.view)
                let shape = mv.view.base[id].shape
                let layer: any LayerOverlay
                switch a["with"] {
                case .object(let t as TensorValue):
                    guard t.tensor.shape == shape else {
                        throw a.error("with", "\(id) is \(shape[0])×\(shape[1]) [out, in]; the tensor is \(t.tensor.shape.map(String.init).joined(separator: "×"))")
                    }
                    if let bad = Finite.describeFirstNonFinite(t.tensor) { throw a.error("with", "the tensor holds \(bad)") }
                    layer = t.tensor
                default:
                    let src = try a.modelValue("with")
                    try sameShapes(a, "with", mv.view, src.view)
                    layer = src.view.layer(id)
                }
                return .object(LoadedModel(view: mv.view.replacing(id, with: layer), name: "\(mv.name), \(id) replaced"))
            })
    }

    static var mergeCommand: Builtin {
        Builtin(
            name: "merge", category: "model", summary: "A model taking the layers that patterns (or a table) select from other models.",
            help: "merge a b only=\"v\" takes b's v layers and keeps the rest of a; skip= leaves modules out; without only=/skip= every linear layer comes from b. With a list of models and by=, a table with a `layer` (or `module`) column and a `from` column (the index of the model in the list) picks each listed layer's source. When a and the sources are quantized models of the same original, the result is a quantized model whose record (choices, bits, errors, bits per weight) is the merged record, so mixed-precision models can be built from uniform runs.",
            examples: ["mixed = merge q3 q4 only=[\"v\", \"down\"]", "merge q3 [q3, q4] by=t"],
            params: [Param("model", .model, doc: "the model whose layers are kept unless selected"),
                     Param("from", .oneOf([.model, .list(.model)]), doc: "the model to take layers from, or a list of models (with by=)"),
                     Param("only", .oneOf([.string, .list(.string)]), default: .none, doc: "layer patterns of the layers to take (\"v\", \"blk.*.attn_v\", \"blk.0-3.*\")"),
                     Param("skip", .oneOf([.string, .list(.string)]), default: .none, doc: "layer patterns of the layers not to take"),
                     Param("by", .table, default: .none, doc: "a table of layer and from (index into the list of models)")],
            returns: "a model (a quantized model when every part is one)",
            run: { a, _ in try merge(a) })
    }

    static var diffCommand: Builtin {
        Builtin(
            name: "diff", category: "model", summary: "The modules where two quantized models differ: grouping, bits, group size or weight error.",
            help: "One row per module whose dimension, bits or group differ, or whose weight MSE differs by more than `tol` (relative); all=true lists every module. A module kept at full precision shows dim `fp`.",
            examples: ["diff q1 q2", "diff rtn gptq all=true"],
            params: [Param("a", .object("quantized model"), doc: "a quantized model"),
                     Param("b", .object("quantized model"), doc: "another quantized model of the same original"),
                     Param("tol", .number, default: .number(1e-6), doc: "relative difference of weight MSE that counts"),
                     Param("all", .bool, default: .bool(false), doc: "list every module, not only those that differ")],
            returns: "a table (module, dim_a, dim_b, bits_a, bits_b, group_a, group_b, mse_a, mse_b)",
            run: { a, _ in try diff(a) })
    }
}

extension Arguments {
    func modelValue(_ name: String) throws -> any ModelValue {
        guard case .object(let o) = self[name], let m = o as? any ModelValue else { throw error(name, "expected a model") }
        return m
    }

    /// A linear layer of `view` named by the string argument `name`.
    func layerID(_ name: String, in view: ModelView) throws -> LinearID {
        let s = try string(name)
        guard let id = LinearID(s) else {
            throw error(name, "no linear layer '\(s)'\(didYouMean(s, view.linearIDs.map(\.description)))",
                        notes: ["linear layers look like blk.3.attn_v (kinds: " + LinearKind.allCases.map(\.ggufName).joined(separator: ", ") + ")"])
        }
        guard id.block < view.blockCount else { throw error(name, "no block \(id.block): the model has blocks 0…\(view.blockCount - 1)") }
        return id
    }

}

/// Throws under `arg` unless the two views have the same linear layer shapes.
private func sameShapes(_ a: Arguments, _ arg: String, _ x: ModelView, _ y: ModelView) throws {
    guard x.blockCount == y.blockCount else {
        throw a.error(arg, "the models have \(x.blockCount) and \(y.blockCount) blocks")
    }
    if let id = x.linearIDs.first(where: { x.base[$0].shape != y.base[$0].shape }) {
        throw a.error(arg, "\(id) is \(x.base[id].shape) in one model and \(y.base[id].shape) in the other")
    }
}

private func merge(_ a: Arguments) throws -> Value {
    let target = try a.modelValue("model")
    var sources: [any ModelValue] = []
    if case .list(let l) = a["from"] {
        for v in l {
            guard case .object(let o) = v, let m = o as? any ModelValue else { throw a.error("from", "expected models, got \(v.typeWithArticle)") }
            sources.append(m)
        }
        guard !sources.isEmpty else { throw a.error("from", "no models to take layers from") }
    } else {
        sources = [try a.modelValue("from")]
    }
    for s in sources { try sameShapes(a, "from", target.view, s.view) }
    // Which source each taken layer comes from.
    var pick: [LinearID: Int] = [:]
    if case .object(let o) = a["by"], let t = o as? TableValue {
        guard !a.isGiven("only") && !a.isGiven("skip") else { throw a.error("by", "by= replaces only=/skip=: give one or the other") }
        guard let names = t.table.column("layer") ?? t.table.column("module") else {
            throw a.error("by", "the table has no `layer` (or `module`) column (columns: \(t.table.columns.joined(separator: ", ")))")
        }
        guard let from = t.table.column("from") else {
            throw a.error("by", "the table has no `from` column: the index of each layer's model in the list")
        }
        for (n, f) in zip(names, from) {
            guard let s = n.string, let id = LinearID(s), id.block < target.view.blockCount else {
                throw a.error("by", "\(n.summary) is not a linear layer of the model")
            }
            guard let i = f.integer, i >= 0, i < sources.count else {
                throw a.error("by", "from=\(f.summary) for \(id): expected an index 0…\(sources.count - 1) into the list of models")
            }
            pick[id] = i
        }
    } else {
        guard sources.count == 1 else { throw a.error("from", "a list of models needs by= (a table of layer and from)") }
        let ids0 = target.view.linearIDs
        let only = try patterns(a, "only", ids0), skip = try patterns(a, "skip", ids0) ?? []
        let ids: [LinearID]
        do { ids = try selectModules(target.view.linearIDs, only: only, skip: skip) } catch let e as QuantError {
            throw a.error(a.isGiven("only") ? "only" : "skip", e.message)
        }
        for id in ids { pick[id] = 0 }
    }
    var view = target.view
    for (id, i) in pick { view.set(id, sources[i].view.layer(id)) }
    let what = pick.count == 1 ? pick.keys.first!.description : "\(pick.count) layers"
    let name = "\(target.name) + \(what) from \(sources.count == 1 ? sources[0].name : "\(sources.count) models")"
    // Quantized parts of one original: merge their records too.
    if let tq = target as? QuantizedModelValue {
        let qs = sources.compactMap { $0 as? QuantizedModelValue }
        if qs.count == sources.count {
            var reports = Dictionary(uniqueKeysWithValues: tq.quantized.reports.map { ($0.id, $0) })
            var layers = tq.quantized.layers
            for (id, i) in pick {
                reports[id] = qs[i].quantized.reports.first { $0.id == id }
                layers[id] = qs[i].quantized.layers[id]
            }
            let q = QuantizedModel(view: view, options: tq.quantized.options, reports: reports.values.sorted { $0.id < $1.id },
                                   layers: layers, timings: tq.quantized.timings)
            return .object(QuantizedModelValue(q, base: tq.base, name: name))
        }
    }
    return .object(LoadedModel(view: view, name: name))
}

private func diff(_ a: Arguments) throws -> Value {
    guard case .object(let oa) = a["a"], let qa = oa as? QuantizedModelValue else { throw a.error("a", "expected a quantized model") }
    guard case .object(let ob) = a["b"], let qb = ob as? QuantizedModelValue else { throw a.error("b", "expected a quantized model") }
    try sameShapes(a, "b", qa.view, qb.view)
    let tol = try a.number("tol")
    let all: Bool
    if case .bool(let b) = a["all"] { all = b } else { all = false }
    let ra = Dictionary(uniqueKeysWithValues: qa.quantized.reports.map { ($0.id, $0) })
    let rb = Dictionary(uniqueKeysWithValues: qb.quantized.reports.map { ($0.id, $0) })
    var t = Table(columns: ["module", "dim_a", "dim_b", "bits_a", "bits_b", "group_a", "group_b", "mse_a", "mse_b"],
                  title: "\(qa.name) vs \(qb.name)")
    func cells(_ r: ModuleReport?) -> (Value, Value, Value, Value) {
        guard let r else { return (.string("fp"), .none, .none, .number(0)) }
        return (.string(r.dim.rawValue), .int(r.bits), .int(r.group), .number(r.weightMSE))
    }
    for id in qa.view.linearIDs {
        let x = ra[id], y = rb[id]
        let (da, ba, ga, ma) = cells(x), (db, bb, gb, mb) = cells(y)
        let ea = x?.weightMSE ?? 0, eb = y?.weightMSE ?? 0
        let mseDiffers = abs(ea - eb) > tol * max(abs(ea), abs(eb), .leastNonzeroMagnitude)
        let differs = da != db || ba != bb || ga != gb || mseDiffers
        if all || differs { t.rows.append([.string(id.description), da, db, ba, bb, ga, gb, ma, mb]) }
    }
    return .object(TableValue(t))
}
