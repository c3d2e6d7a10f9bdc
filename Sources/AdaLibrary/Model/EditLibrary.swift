import AdaLang
import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// Editing models as views: replace one layer, merge layers of several models, and compare
/// two models layer by layer. Every edit makes a new view that shares the base and the
/// unchanged layers (a packed layer taken from a quantized model stays packed); an edit of a
/// quantized model keeps its record, less the modules that are no longer quantized.
public enum EditLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(replaceCommand)
        r.register(mergeCommand)
        r.register(diffCommand)
    }

    static var replaceCommand: Builtin {
        Builtin(
            name: "replace", category: "model", summary: "A model with one linear layer replaced by a tensor or by another model's layer.",
            help: "The result is a new model; the original is unchanged and shares every other layer with it. A tensor must have the layer's shape [out, in] and finite values; a model must have the same layer shape, and its layer is taken as it is stored (a quantized layer stays packed). Replacing a layer of a quantized model gives a quantized model: a layer from another quantized model brings its record (bits, group, dim, weight MSE); a tensor or a full-precision layer drops the module's record, so it counts as kept (16 bits per weight in bpw).",
            examples: ["m2 = replace m \"blk.3.attn_v\" (zeros [192, 576])", "m3 = replace m \"blk.3.attn_v\" q"],
            params: [Param("model", .model, doc: "the model to edit"),
                     Param("layer", .string, doc: "a linear layer name such as blk.3.attn_v"),
                     Param("with", .oneOf([.tensor, .model]), doc: "a tensor of the layer's shape, or a model whose layer to take")],
            returns: "a model",
            run: { a, _ in
                let mv = try a.modelValue("model")
                var source: (any ModelValue)? = nil
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
                    source = src
                }
                let view = mv.view.replacing(id, with: layer), name = "\(mv.name), \(id) replaced"
                if let q = mv as? QuantizedModelValue { return edited(q, view: view, taken: [id: source], name: name) }
                return .object(LoadedModel(view: view, name: name))
            })
    }

    static var mergeCommand: Builtin {
        Builtin(
            name: "merge", category: "model", summary: "A model taking the layers that patterns (or a table) select from other models.",
            help: "merge a b only=\"v\" takes b's v layers and keeps the rest of a; skip= leaves modules out; without only=/skip= every linear layer comes from b. With a list of models and by=, a table with a `layer` (or `module`) column and a `from` column (the index of the model in the list) picks each listed layer's source. When a is a quantized model, so is the result, and its record (choices, bits, errors, bits per weight, kept) is the merged record: a module taken from a quantized model brings its report, so mixed-precision models can be built from uniform runs; a module taken from a full-precision model is kept at full precision.",
            examples: ["mixed = merge q3 q4 only=[\"v\", \"down\"]", "merge q3 [q3, q4] by=t"],
            params: [Param("model", .model, doc: "the model whose layers are kept unless selected"),
                     Param("from", .oneOf([.model, .list(.model)]), doc: "the model to take layers from, or a list of models (with by=)"),
                     Param("only", .oneOf([.string, .list(.string)]), default: .none, doc: "layer patterns of the layers to take (\"v\", \"blk.*.attn_v\", \"blk.0-3.*\")"),
                     Param("skip", .oneOf([.string, .list(.string)]), default: .none, doc: "layer patterns of the layers not to take"),
                     Param("by", .table, default: .none, doc: "a table of layer and from (index into the list of models)")],
            returns: "a model (a quantized model when the first is one)",
            run: { a, _ in try merge(a) })
    }

    static var diffCommand: Builtin {
        Builtin(
            name: "diff", category: "model", summary: "The linear layers where two models of the same shape differ: how each holds the layer, and by how much they differ.",
            help: "Any two models with the same layer shapes: loaded, edited (replace, merge) or quantized. One row per layer that the two hold differently or whose weights differ by more than `tol`; all=true lists every layer. `a` and `b` say how each model holds the layer: its spec when quantized (w3 g128 oc), `base` for the weights of the model it was loaded as, `replaced` for another tensor. rel_diff is ‖Wa − Wb‖ / ‖Wa‖ (Frobenius norms); mse_a and mse_b are each layer's mean squared difference from its model's base weights (0 for `base`). The layers are compared one at a time, never a whole model in Float32.",
            examples: ["diff q1 q2", "diff m (merge q m only=\"v\")", "diff rtn gptq all=true", "filter (diff q3 q4) b=\"w4 g128 oc\""],
            params: [Param("a", .model, doc: "a model"),
                     Param("b", .model, doc: "a model with the same layer shapes"),
                     Param("tol", .number, default: .number(0), doc: "rel_diff above which layers held alike count as different"),
                     Param("all", .bool, default: .bool(false), doc: "list every layer, not only those that differ")],
            returns: "a table (module, a, b, rel_diff, mse_a, mse_b)",
            run: { a, ctx in try diff(a, ctx) })
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
    if let tq = target as? QuantizedModelValue {
        return edited(tq, view: view, taken: pick.mapValues { sources[$0] }, name: name)
    }
    return .object(LoadedModel(view: view, name: name))
}

/// `target` edited into `view`, its layers `taken` from other models (nil: a tensor): a
/// quantized model whose record keeps target's reports, takes a source's report, packed layer
/// and plan entry for a module quantized there, and drops the others (now full precision,
/// so kept); a plain model when no quantized module is left.
private func edited(_ target: QuantizedModelValue, view: ModelView, taken: [LinearID: (any ModelValue)?], name: String) -> Value {
    let tq = target.quantized
    var reports = Dictionary(uniqueKeysWithValues: tq.reports.map { ($0.id, $0) })
    var layers = tq.layers
    var plan = Dictionary(uniqueKeysWithValues: tq.reports.compactMap { r in tq.options.module(r.id).map { (r.id, $0) } })
    for (id, src) in taken {
        let sq = (src.flatMap { $0 as? QuantizedModelValue })?.quantized
        let r = sq?.reports.first { $0.id == id }
        reports[id] = r
        layers[id] = r == nil ? nil : sq?.layers[id]
        plan[id] = r == nil ? nil : sq?.options.module(id)
    }
    guard !reports.isEmpty else { return .object(LoadedModel(view: view, name: name)) }
    var options = tq.options
    options.plan = QuantPlan(modules: plan)
    let q = QuantizedModel(view: view, options: options, reports: reports.values.sorted { $0.id < $1.id }, layers: layers, timings: tq.timings)
    return .object(QuantizedModelValue(q, base: target.base, name: name))
}

private func diff(_ a: Arguments, _ ctx: Context) throws -> Value {
    let (ma, mb) = (try a.modelValue("a"), try a.modelValue("b"))
    try sameShapes(a, "b", ma.view, mb.view)
    let tol = try a.number("tol")
    guard tol >= 0 else { throw a.error("tol", "tol is a relative difference: 0 or more, got \(formatNumber(tol))") }
    let all = try a.bool("all")
    var t = Table(columns: ["module", "a", "b", "rel_diff", "mse_a", "mse_b"],
                  title: "\(ma.name) vs \(mb.name)")
    let (va, vb) = (ma.view, mb.view)
    for blk in 0..<va.blockCount {
        try ctx.checkCancelled()
        for k in LinearKind.allCases {
            let id = LinearID(block: blk, kind: k)
            let (wa, wb) = (va.weight(id), vb.weight(id))
            let (fa, fb) = (held(va, id, wa), held(vb, id, wb))
            let d = weightDiff(wa, wb, va.base[id], vb.base[id])
            if all || fa != fb || d.rel > tol {
                t.rows.append([.string(id.description), .string(fa), .string(fb), .number(d.rel), .number(d.mseA), .number(d.mseB)])
            }
        }
        ctx.progress("diff", blk + 1, va.blockCount)
    }
    return .object(TableValue(t))
}

/// How `view` holds layer `id` (weights `w`): the spec of a packed layer, `base` for the
/// base model's weights, `replaced` for another tensor.
private func held(_ view: ModelView, _ id: LinearID, _ w: Tensor) -> String {
    switch view.overlay[id] {
    case nil: return "base"
    case let p as PackedLayer: return p.spec.description
    default: return w == view.base[id] ? "base" : "replaced"
    }
}

/// ‖a − b‖ / ‖a‖ (0 when both are zero), and the mean squared differences of `a` from `baseA`
/// and of `b` from `baseB`, accumulated in Float64.
private func weightDiff(_ a: Tensor, _ b: Tensor, _ baseA: Tensor, _ baseB: Tensor) -> (rel: Double, mseA: Double, mseB: Double) {
    var (na, nd, ea, eb) = (0.0, 0.0, 0.0, 0.0)
    for i in 0..<a.count {
        let (x, y) = (Double(a.data[i]), Double(b.data[i]))
        na += x * x
        nd += (x - y) * (x - y)
        ea += (x - Double(baseA.data[i])) * (x - Double(baseA.data[i]))
        eb += (y - Double(baseB.data[i])) * (y - Double(baseB.data[i]))
    }
    let n = Double(max(a.count, 1))
    return (nd == 0 ? 0 : nd.squareRoot() / na.squareRoot(), ea / n, eb / n)
}
