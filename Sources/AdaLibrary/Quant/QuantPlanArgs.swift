import AdaLang
import AdaModel
import AdaQuant

// `quantize`'s module-level plans: bits=, group= and dim= as one value, a record by kind or
// a table by layer, and only=/skip= layer patterns, resolved once into the engine's QuantPlan.

/// The type of `quantize`'s per-module options: one value, a record by kind, or a table by layer.
func perModuleType(_ single: ValueType) -> ValueType { .oneOf([single, .record, .table]) }

/// Whether an argument is given in a per-module form (a record or a table).
private func isPerModule(_ v: Value) -> Bool {
    if case .record = v { return true }
    if case .object(let o) = v, o is TableValue { return true }
    return false
}

/// One per-module option: how to read a cell, check it, and its default for kinds a record
/// does not name.
private struct PlanOption<T> {
    let name: String
    let parse: (Value) -> T?
    /// What a value must be, for messages ("an integer 2…8").
    let expected: String
    let check: (T) -> Bool
    let fallback: T
}

/// The plan `quantize`'s arguments ask for, or nil when bits, group and dim are single values
/// and no only=/skip= is given (every module then takes the same spec, as without plans).
func resolvePlan(_ a: Arguments, model m: LlamaModel) throws -> QuantPlan? {
    let names = ["bits", "group", "dim"]
    guard names.contains(where: { isPerModule(a[$0]) }) || a["only"] != .none || a["skip"] != .none else { return nil }
    let ids = m.linearIDs
    let only = try patterns(a, "only", ids)
    let skip = try patterns(a, "skip", ids) ?? []
    let selected = try selectModules(ids, only: only, skip: skip)
    guard !selected.isEmpty else {
        throw a.error(a["skip"] != .none ? "skip" : "only", "only=/skip= leave no module to quantize")
    }
    let criterion = try a.choice("criterion", as: AdaCriterion.self)
    let bits = try resolve(a, PlanOption(name: "bits", parse: { $0.integer }, expected: "an integer 2…8",
                                         check: { (2...8).contains($0) }, fallback: 3), selected, m)
    let group = try resolve(a, PlanOption(name: "group", parse: { $0.integer }, expected: "an integer ≥ 0 (0: per-channel)",
                                          check: { $0 >= 0 }, fallback: 128), selected, m)
    let dim = try resolve(a, PlanOption(name: "dim", parse: { v in v.string.flatMap { dimChoice($0, criterion) } },
                                        expected: "oc, ic or ada", check: { _ in true }, fallback: .fixed(.oc)), selected, m)
    return QuantPlan(modules: Dictionary(uniqueKeysWithValues: selected.map {
        ($0, ModulePlan(bits: bits[$0]!, group: group[$0]!, dim: dim[$0]!))
    }))
}

private func dimChoice(_ s: String, _ criterion: AdaCriterion) -> DimChoice? {
    switch s {
    case "oc": return .fixed(.oc)
    case "ic": return .fixed(.ic)
    case "ada": return .ada(criterion)
    default: return nil
    }
}

/// The layer patterns of only= or skip= (nil when not given); a malformed pattern or one that
/// matches no module of the model is an error under the argument.
func patterns(_ a: Arguments, _ name: String, _ ids: [LinearID]) throws -> [LayerPattern]? {
    let texts: [String]
    switch a[name] {
    case .none: return nil
    case .string(let s): texts = [s]
    case .list(let l):
        texts = try l.map { v in
            guard let s = v.string else { throw a.error(name, "'\(name)' takes layer patterns (strings), got \(v.typeWithArticle)") }
            return s
        }
        guard !texts.isEmpty else { throw a.error(name, "'\(name)' is an empty list of layer patterns") }
    default: throw a.error(name, "'\(name)' takes a layer pattern or a list of them")
    }
    let notes = ["patterns: a kind (\"v\", \"down\"), \"blk.*.attn_v\", \"blk.0-3.*\", \"blk.12.ffn_down\""]
    do {
        let ps = try texts.map(LayerPattern.init)
        for p in ps { _ = try selectModules(ids, only: [p], skip: []) }
        return ps
    } catch let e as QuantError {
        throw a.error(name, "'\(name)': \(e.message)", notes: notes)
    }
}

/// Each selected module's value of one option.
private func resolve<T>(_ a: Arguments, _ opt: PlanOption<T>, _ selected: [LinearID], _ m: LlamaModel) throws -> [LinearID: T] {
    let name = opt.name
    func value(_ v: Value, _ what: String) throws -> T {
        guard let x = opt.parse(v), opt.check(x) else {
            throw a.error(name, "'\(name)' for \(what) must be \(opt.expected), got \(v.summary)")
        }
        return x
    }
    switch a[name] {
    case .record(let r):
        var byKind: [LinearKind: T] = [:]
        var rest = opt.fallback
        for (key, v) in r.fields {
            if key == "rest" || key == "default" { rest = try value(v, "the other kinds"); continue }
            guard let k = LinearKind(name: key) else {
                throw a.error(name, "'\(name)': '\(key)' is not a kind of module\(didYouMean(key, LinearKind.allCases.map(\.rawValue) + ["rest"]))",
                              notes: ["keys: q k v o gate up down, and rest (or default) for the kinds not named"])
            }
            byKind[k] = try value(v, k.rawValue)
        }
        return Dictionary(uniqueKeysWithValues: selected.map { ($0, byKind[$0.kind] ?? rest) })
    case .object(let o) where o is TableValue:
        let cells = try tableCells((o as! TableValue).table, a, name, m)
        var out: [LinearID: T] = [:]
        for (id, v) in cells { out[id] = try value(v, id.description) }
        let missing = selected.filter { out[$0] == nil }
        if let first = missing.first {
            throw a.error(name, "'\(name)': the table has no \(name) for \(first)\(missing.count > 1 ? " (and \(missing.count - 1) more modules)" : "")",
                          notes: ["modules to keep at full precision go in skip= (or leave them out of only=)"])
        }
        return out.filter { selected.contains($0.key) }
    default:
        let x = try value(a[name], "every module")
        return Dictionary(uniqueKeysWithValues: selected.map { ($0, x) })
    }
}

/// The cells of a table by layer: a `layer` (or `module`) column and a column named like the
/// option, or for dim the shape of a quantized model's `choices` (a `block` column and one
/// column per kind; an empty cell or none is a module the table does not give).
private func tableCells(_ t: Table, _ a: Arguments, _ name: String, _ m: LlamaModel) throws -> [LinearID: Value] {
    var out: [LinearID: Value] = [:]
    func add(_ id: LinearID, _ v: Value, _ label: String) throws {
        guard id.block < m.blocks.count else {
            throw a.error(name, "'\(name)': the table names \(label), but the model has blocks 0…\(m.blocks.count - 1)")
        }
        guard out[id] == nil else { throw a.error(name, "'\(name)': the table gives \(id) twice") }
        out[id] = v
    }
    let layerCol = ["layer", "module"].first { t.columns.contains($0) }
    if let lc = layerCol, let col = t.column(name), let layers = t.column(lc) {
        for (l, v) in zip(layers, col) {
            guard let s = l.string, let id = LinearID(s) else {
                throw a.error(name, "'\(name)': \(l.summary) in the table's \(lc) column is not a layer name (blk.N.KIND)")
            }
            try add(id, v, s)
        }
        return out
    }
    let kindCols = t.columns.filter { LinearKind(name: $0) != nil }
    if name == "dim", let blocks = t.column("block"), !kindCols.isEmpty {
        for (i, b) in blocks.enumerated() {
            guard let n = b.integer, n >= 0 else { throw a.error(name, "'dim': \(b.summary) in the table's block column is not a block number") }
            for c in kindCols {
                let v = t.column(c)![i]
                if v == .none || v == .string("") { continue }
                try add(LinearID(block: n, kind: LinearKind(name: c)!), v, "block \(n)")
            }
        }
        return out
    }
    throw a.error(name, "'\(name)': a table needs a layer (or module) column and a \(name) column\(name == "dim" ? ", or a block column and one column per kind (like a quantized model's choices)" : "")",
                  notes: ["this table's columns: " + t.columns.joined(separator: ", ")])
}
