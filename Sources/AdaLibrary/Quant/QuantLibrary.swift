import AdaLang
import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// A quantized model: runs like a model (its dequantized weights) and carries the record of
/// what was done to every module.
public final class QuantizedModelValue: ModelValue {
    public let quantized: QuantizedModel
    public let base: LlamaModel
    public let name: String
    /// The linear modules left at full precision (not in the run's plan).
    public let kept: [LinearID]
    /// Average bits per linear weight: codes, a 16-bit scale and zero per group, and 16 bits
    /// for each weight of a kept module.
    public let bpw: Double
    public convenience init(_ q: QuantizedModel, base: LlamaModel, baseName: String) {
        let kept = q.view.linearIDs.count - q.reports.count
        self.init(q, base: base, name: "\(baseName) \(q.options.description)" + (kept <= 0 ? "" : ", \(kept) kept"))
    }

    /// A quantized model under a given name (a merge of several runs).
    public init(_ q: QuantizedModel, base: LlamaModel, name: String) {
        quantized = q
        self.base = base
        let done = Set(q.reports.map(\.id))
        kept = base.linearIDs.filter { !done.contains($0) }
        bpw = bitsPerWeight(q.reports, keptWeights: kept.reduce(0) { $0 + base[$1].count })
        self.name = name
    }
    public var view: ModelView { quantized.view }
    public var typeName: String { "quantized model" }
    public var kinds: [String] { ["quantized model", "model"] }

    /// The choices as a compact map (one line per kind of module, one letter per block:
    /// `O` per-OC, `I` per-IC), a note on ragged groups, then a table of errors by kind.
    public func outputs(_ style: DisplayStyle) -> [RichOutput] {
        var head = ["quantized model \(name)"]
        head.append("  grouping per module (O: per-OC, I: per-IC\(kept.isEmpty ? "" : ", .: kept at full precision")), one letter per block:")
        head += choiceMap(quantized, blocks: base.blocks.count, width: style.width)
        if quantized.reports.contains(where: \.ragged) {
            head.append("  ragged last groups in \(quantized.reports.filter(\.ragged).count) modules (the group size does not divide the grouped dimension)")
        }
        head.append("  \(String(format: "%.3f", bpw)) bits per weight (codes, a 16-bit scale and zero per group\(kept.isEmpty ? "" : ", 16 bits in kept modules"))")
        return [.text(wrapLines(head.joined(separator: "\n"), width: style.width)), .table(kindErrorTable(quantized))]
    }


    public var fieldNames: [String] {
        ["name", "method", "bits", "group", "dim", "bpw", "kept", "choices", "errors", "ic_counts", "gguf_types", "seconds"]
            + ["path", "blocks", "hidden", "ffn", "heads", "kv_heads", "vocab", "layers"]
    }

    public func field(_ f: String) -> Value? {
        let o = quantized.options
        switch f {
        case "name": return .string(name)
        case "method": return .string(o.method.rawValue)
        case "bits": return perKindField(quantized.reports.map { ($0.id.kind, $0.bits) }) ?? .int(o.bits)
        case "group": return perKindField(quantized.reports.map { ($0.id.kind, $0.group) }) ?? .int(o.group)
        case "dim":
            guard let plan = o.plan else { return .string(o.dim.description) }
            return .string(Set(plan.modules.values.map(\.dim.description)).sorted().joined(separator: "/"))
        case "bpw": return .number(bpw)
        case "kept": return .list(kept.map { .string($0.description) })
        case "choices": return .object(TableValue(choiceTable(quantized, blocks: base.blocks.count)))
        case "errors": return .object(TableValue(reportTable(quantized)))
        case "ic_counts":
            let c = quantized.icCounts
            return .record(Record(LinearKind.allCases.map { ($0.rawValue, .int(c[$0] ?? 0)) }))
        case "gguf_types": return try? .object(TableValue(ggufTypeTable(quantized)))
        case "seconds": return .number(quantized.timings.total)
        default: return modelField(model, f)
        }
    }
}

/// A per-module number as a field: the number when every quantized module has the same, else
/// a record by kind (a kind whose modules differ: none); nil when there are no modules.
func perKindField(_ values: [(LinearKind, Int)]) -> Value? {
    guard let first = values.first?.1 else { return nil }
    if values.allSatisfy({ $0.1 == first }) { return .int(first) }
    return .record(Record(LinearKind.allCases.compactMap { k in
        let xs = Set(values.filter { $0.0 == k }.map(\.1))
        return xs.isEmpty ? nil : (k.rawValue, xs.count == 1 ? .int(xs.first!) : .none)
    }))
}

/// The compact map of choices: one line per kind of module, one letter per block (`O`
/// per-OC, `I` per-IC), with a ruler of block numbers; wrapped to `width` columns.
func choiceMap(_ q: QuantizedModel, blocks n: Int? = nil, width: Int = 80) -> [String] {
    var byBlock: [Int: [LinearKind: QuantDim]] = [:]
    for r in q.reports { byBlock[r.id.block, default: [:]][r.id.kind] = r.dim }
    let blocks = n.map { Array(0..<$0) } ?? byBlock.keys.sorted()
    guard !blocks.isEmpty else { return ["  (no modules)"] }
    let labelW = 8
    let per = max(10, min(blocks.count, (width - labelW - 12) / 10 * 10))
    var lines: [String] = []
    for start in stride(from: 0, to: blocks.count, by: per) {
        let chunk = Array(blocks[start..<min(start + per, blocks.count)])
        var ruler = [Character](repeating: " ", count: chunk.count + 6)
        for (i, b) in chunk.enumerated() where b % 10 == 0 || i == 0 {
            let label = Array(String(b))
            if i + label.count <= ruler.count && (i == 0 || ruler[i - 1] == " ") && ruler[i..<(i + label.count)].allSatisfy({ $0 == " " }) {
                for (k, ch) in label.enumerated() { ruler[i + k] = ch }
            }
        }
        lines.append("  " + padRight("block", labelW - 2) + String(ruler).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        for k in LinearKind.allCases {
            let letters = chunk.map { byBlock[$0]?[k] == .ic ? "I" : (byBlock[$0]?[k] == nil ? "." : "O") }.joined()
            let ic = chunk.filter { byBlock[$0]?[k] == .ic }.count
            lines.append("  " + padRight(k.rawValue, labelW - 2) + letters + "   \(ic) I")
        }
    }
    return lines
}

/// Errors by kind of module, averaged over blocks: how many chose per-IC, the weight MSE,
/// and AdaDim's candidate errors when it chose.
func kindErrorTable(_ q: QuantizedModel) -> Table {
    let hasCandidates = q.reports.contains { $0.errorOC != nil || $0.errorIC != nil }
    let mixed = (bits: Set(q.reports.map(\.bits)).count > 1, group: Set(q.reports.map(\.group)).count > 1)
    func distinct(_ xs: [Int]) -> Value { .string(Set(xs).sorted().map(String.init).joined(separator: "/")) }
    var t = Table(columns: ["kind", "per_ic"] + (mixed.bits ? ["bits"] : []) + (mixed.group ? ["group"] : []) + ["weight_mse"]
                    + (hasCandidates ? ["err_oc", "err_ic"] : []),
                  title: "errors by kind of module (means over blocks\(hasCandidates ? "; err_oc/err_ic: AdaDim's criterion" : ""))")
    func mean(_ xs: [Double]) -> Value { xs.isEmpty ? .none : .number(xs.reduce(0, +) / Double(xs.count)) }
    for k in LinearKind.allCases {
        let rs = q.reports.filter { $0.id.kind == k }
        guard !rs.isEmpty else { continue }
        var row: [Value] = [.string(k.rawValue), .string("\(rs.filter { $0.dim == .ic }.count)/\(rs.count)")]
        if mixed.bits { row.append(distinct(rs.map(\.bits))) }
        if mixed.group { row.append(distinct(rs.map(\.group))) }
        row.append(mean(rs.map(\.weightMSE)))
        if hasCandidates { row += [mean(rs.compactMap(\.errorOC)), mean(rs.compactMap(\.errorIC))] }
        t.rows.append(row)
    }
    return t
}

func choiceTable(_ q: QuantizedModel, blocks n: Int? = nil) -> Table {
    var byBlock: [Int: [LinearKind: QuantDim]] = [:]
    for r in q.reports { byBlock[r.id.block, default: [:]][r.id.kind] = r.dim }
    return Table(columns: ["block"] + LinearKind.allCases.map(\.rawValue),
                 rows: (n.map { Array(0..<$0) } ?? byBlock.keys.sorted()).map { b in
                     [.int(b)] + LinearKind.allCases.map { byBlock[b]?[$0].map { .string($0.rawValue) } ?? .none }
                 })
}

func reportTable(_ q: QuantizedModel) -> Table {
    Table(columns: ["module", "dim", "bits", "group", "weight_mse", "err_oc", "err_ic", "ragged"],
          rows: q.reports.map { r in
              [.string(r.id.description), .string(r.dim.rawValue), .int(r.bits), .int(r.group), .number(r.weightMSE),
               r.errorOC.map(Value.number) ?? .none, r.errorIC.map(Value.number) ?? .none, .bool(r.ragged)]
          })
}

/// The GGML type each quantized layer takes in `export … type=native`, and why.
func ggufTypeTable(_ q: QuantizedModel) throws -> Table {
    let plan = try exportPlan(q.view, as: .native).filter { $0.layer != nil }
    return Table(columns: ["module", "type", "reason"],
                 rows: plan.map { [.string($0.layer!.description), .string($0.type.description), .string($0.reason)] })
}

/// Input-activation statistics of every linear module (from `capture`).
public final class ActivationsValue: EngineValue {
    public let stats: ActivationStats
    public let modelName: String
    public let datasetName: String
    init(_ s: ActivationStats, model: String, dataset: String) {
        stats = s
        modelName = model
        datasetName = dataset
    }
    public var typeName: String { "activations" }
    public var summary: String { "<activations of \(modelName) on \(datasetName): \(stats.tokens) tokens>" }
    /// The summary, the layers with the largest outlier channel, and how to see more.
    public func outputs(_ style: DisplayStyle) -> [RichOutput] {
        var t = Table(columns: ["layer", "channel", "max_abs", "ratio"], title: "layers with the largest input channel against their median:")
        var best: [(LinearID, Int, Float, Float)] = []
        for (id, st) in stats.byModule {
            let r = st.outlierRatio
            guard let j = r.indices.max(by: { r[$0] < r[$1] }) else { continue }
            best.append((id, j, st.maxAbs[j], r[j]))
        }
        // Layers sharing an input (q/k/v, gate/up) share statistics: keep the first name.
        var shown: [(LinearID, Int, Float, Float)] = []
        for b in best.sorted(by: { $0.3 != $1.3 ? $0.3 > $1.3 : $0.0 < $1.0 }) {
            if shown.contains(where: { $0.0.block == b.0.block && $0.1 == b.1 && $0.2 == b.2 }) { continue }
            shown.append(b)
            if shown.count == 5 { break }
        }
        for b in shown { t.rows.append([.string(b.0.description), .int(b.1), .number(Double(b.2)), .number(Double(b.3))]) }
        let head = "activations of \(modelName) on \(datasetName): \(stats.tokens) tokens in \(stats.windows) windows, \(stats.byModule.count) layers"
        let tail = wrapWords("acts[\"blk.3.ffn_down\"] is a layer's per-channel table; `outliers acts` ranks the outlier channels of every layer", width: style.width, indent: "").joined(separator: "\n")
        return [.text(head), .table(t), .text(tail)]
    }
    public var fieldNames: [String] { ["tokens", "windows", "layers"] }
    public func field(_ f: String) -> Value? {
        switch f {
        case "tokens": return .int(stats.tokens)
        case "windows": return .int(stats.windows)
        case "layers": return .list(stats.byModule.keys.sorted().map { .string($0.description) })
        default: return nil
        }
    }
    public func index(_ items: [IndexKey]) throws -> Value? {
        guard items.count == 1, case .value(.string(let s)) = items[0] else {
            throw BuiltinError("activations are indexed by a layer name: acts[\"blk.3.ffn_down\"]")
        }
        guard let id = LinearID(s), let st = stats.byModule[id] else {
            throw BuiltinError("no layer '\(s)'\(didYouMean(s, stats.byModule.keys.map(\.description)))")
        }
        return .object(TableValue(channelTable(st, title: "input channels of \(id)")))
    }
}

func channelTable(_ s: ChannelStats, title: String?, label: String = "channel") -> Table {
    let ratio = s.outlierRatio
    return Table(columns: [label, "max_abs", "mean_abs", "rms", "kurtosis", "ratio"],
                 rows: (0..<s.channels).map { j in
                     [.int(j), .number(Double(s.maxAbs[j])), .number(Double(s.meanAbs[j])), .number(Double(s.rms[j])),
                      .number(Double(s.kurtosis[j])), .number(Double(ratio[j]))]
                 }, title: title)
}

func tensorValue(_ t: Tensor) -> Value { .object(TensorValue(t)) }

extension Arguments {
    func tensorArg(_ name: String) throws -> Tensor {
        guard case .object(let o) = self[name], let t = o as? TensorValue else { throw error(name, "expected a tensor") }
        return t.tensor
    }

    /// The model argument's weights, materialized (free for a loaded model; a quantized
    /// model's layers are dequantized into a transient copy).
    func modelArg(_ name: String) throws -> (LlamaModel, String) {
        guard case .object(let o) = self[name], let m = o as? any ModelValue else { throw error(name, "expected a model") }
        return (m.model, m.name)
    }

    /// The model argument as a view, for the block-streamed commands.
    func viewArg(_ name: String) throws -> (ModelView, String) {
        guard case .object(let o) = self[name], let m = o as? any ModelValue else { throw error(name, "expected a model") }
        return (m.view, m.name)
    }

    func datasetArg(_ name: String) throws -> DatasetValue {
        guard case .object(let o) = self[name], let d = o as? DatasetValue else { throw error(name, "expected a dataset (see `text`)") }
        return d
    }
}

/// Quantization: the dimension constants, quantize, rtn, export, load_packed; the statistics and error builtins come from StatsLibrary and EvaluateLibrary.
public enum QuantLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.constant("oc", .string("oc"), doc: "per-OC grouping: g consecutive input columns of one output row")
        r.constant("ic", .string("ic"), doc: "per-IC grouping: g consecutive output rows of one input column")
        r.constant("ada", .string("ada"), doc: "AdaDim: per module, the dimension with the smaller block-level error")

        r.register(quantizeCommand)
        r.register(rtnCommand)
        r.register(awqCommand)
        r.register(allocateCommand)
        r.register(exportCommand)
        r.register(loadPackedCommand)
    }

    static var quantizeCommand: Builtin {
        Builtin(
            name: "quantize", category: "quantize",
            summary: "Quantize every linear layer of a model: RTN or GPTQ, per-OC, per-IC or AdaDim.",
            help: """
            dim=oc groups g input columns of one output row (the usual grouping); dim=ic groups g output rows of one input column, isolating outlier input channels; dim=ada picks per module the dimension whose quantized block reconstructs the calibration outputs best (criterion=block: q/k/v judged at the attention output, gate/up at the MLP output, greedy in module order; criterion=module: each module's own output; criterion=quantizer: as block, with the candidates made by the run's quantizer, GPTQ in both dimensions under method=gptq; criterion=kl: the model's KL divergence from the full-precision next-token distributions on the first kl_windows calibration windows, one coordinate sweep over units of one kind in kl_blocks consecutive blocks, starting from the better of all per-OC and all per-IC). GPTQ and AdaDim need calib (a dataset). GPTQ+AdaDim chooses with the RTN criterion (criterion=block or module), then runs GPTQ once in the chosen dimension. group=0 means per-channel. A group size that does not divide the grouped dimension leaves a ragged last group (reported). The block criterion judges on the first `select` calibration windows; GPTQ's Hessians use all of them. ^C stops between blocks.

            Module-level plans: bits=, group= and dim= also take a record by kind (`dim={v: ic, down: ic}`, `bits={v: 4, down: 4, rest: 3}`; kinds not named take the record's `rest` (or `default`) key, else the parameter's default: 3 bits, group 128, per-OC) or a table by layer (a `layer` or `module` column and a `bits`/`group`/`dim` column, such as another run's `errors`; dim also takes a run's `choices` table), which replays those values exactly; a table must cover every module quantized. only= and skip= take layer patterns (a kind "v" or "ffn_down", "blk.*.attn_v", "blk.0-3.*", or a list): the modules not selected stay at full precision, shown as `.` in the choice map. AdaDim modules (dim=ada, or ada for some kinds) are judged with the other modules of their block applied as planned.

            """ + clipHelp + """
             With quantize the search runs wherever a group's range is fitted: RTN groups, both AdaDim candidates, GPTQ's static per-OC groups (on the original weights) and its per-IC groups (on the error-updated column as it is reached). clip=weighted reads the Hessian diagonal of each module's input site from calib (all windows), so it needs calib even for RTN.
            """,
            examples: ["q = quantize m method=rtn bits=3 group=128 dim=oc", "q = quantize m bits={v: 4, down: 4, rest: 3} dim={v: ic, down: ic} skip=\"blk.0.*\"", "q = quantize m method=gptq bits=3 dim=ada calib=calib", "for d in [oc, ic, ada] {\n  q = quantize m bits=4 dim=d calib=calib\n  print d, (perplexity q \"austen:pride\").ppl\n}"],
            params: [Param("model", .model, doc: "the full-precision model"),
                     Param("method", choice: QuantMethod.self, default: .rtn, doc: "rtn or gptq"),
                     Param("bits", perModuleType(.int), default: .int(3), doc: "2…8; or by kind {v: 4, rest: 3}, or a table by layer (layer/module and bits columns)"),
                     Param("group", perModuleType(.int), default: .int(128), doc: "group size, 0: per-channel; or by kind, or a table by layer"),
                     Param("dim", perModuleType(.choice(["oc", "ic", "ada"])), default: .string("oc"),
                           doc: "grouping dimension, or ada to choose per module; or by kind {v: ic, down: ada}, or a table by layer (layer/module and dim columns, or a quantized model's choices)"),
                     Param("only", .oneOf([.string, .list(.string)]), default: .none,
                           doc: "quantize only the modules these layer patterns match (\"blk.*.attn_v\", \"blk.0-3.*\", \"down\"); the rest stay at full precision"),
                     Param("skip", .oneOf([.string, .list(.string)]), default: .none, doc: "keep the modules these layer patterns match at full precision"),
                     Param("calib", .dataset, default: .none, doc: "calibration windows (needed by gptq and ada)"),
                     Param("criterion", choice: AdaCriterion.self, default: .block, doc: "AdaDim's criterion"),
                     Param("grid", choice: GridKind.self, default: .minmax, doc: "minmax (asymmetric, integer zero point), reference (zero clamped as in the reference code), gptq, symmetric, float-zero"),
                     Param("select", .int, default: .int(16), doc: "calibration windows the block criterion judges on"),
                     Param("kl_windows", .int, default: .int(4), doc: "calibration windows criterion=kl judges on"),
                     Param("kl_blocks", .int, default: .int(5), doc: "criterion=kl: consecutive blocks whose modules of one kind share a choice"),
                     Param("damp", .number, default: .number(0.01), doc: "GPTQ damping, fraction of the mean Hessian diagonal"),
                     Param("blocksize", .int, default: .int(128), doc: "GPTQ lazy-batch block size"),
                     Param("actorder", .bool, default: .bool(true), doc: "GPTQ: quantize columns by descending Hessian diagonal"),
                     Param("inputs", .choice(["fp", "quantized"]), default: .string("fp"), doc: "block inputs from the full-precision model or from the already-quantized blocks")]
                + clipParams,
            returns: "a quantized model (runs like a model; fields choices, errors, ic_counts, gguf_types, bpw, kept)",
            run: { a, ctx in
                let (m, mname) = try a.modelArg("model")
                let plan = try resolvePlan(a, model: m)
                var o: QuantizeOptions
                if plan == nil {
                    let dim: DimChoice = try a.string("dim") == "ada" ? .ada(try a.choice("criterion", as: AdaCriterion.self))
                        : .fixed(try a.choice("dim", as: QuantDim.self))
                    o = QuantizeOptions(method: try a.choice("method", as: QuantMethod.self), bits: try a.int("bits", min: 2, max: 8),
                                        group: try a.int("group", min: 0), dim: dim, grid: try a.choice("grid", as: GridKind.self))
                } else {
                    // The engine reads every module's spec from the plan; these are the defaults.
                    o = QuantizeOptions(method: try a.choice("method", as: QuantMethod.self), bits: 3, group: 128, dim: .fixed(.oc),
                                        grid: try a.choice("grid", as: GridKind.self))
                    o.plan = plan
                }
                o.selectionWindows = try a.int("select", min: 1)
                o.klWindows = try a.int("kl_windows", min: 1)
                o.klBlocks = try a.int("kl_blocks", min: 1)
                o.clip = try a.clipArg()
                o.gptq = GPTQOptions(damp: try a.number("damp"), blockSize: try a.int("blocksize", min: 1), actOrder: try a.bool("actorder"))
                o.quantizedInputs = try a.string("inputs") == "quantized"
                if o.quantizedInputs && o.usesKL {
                    throw a.error("inputs", "criterion=kl takes its inputs from the full-precision model (inputs=quantized is not supported)")
                }
                var windows: [[Int32]] = []
                if case .object = a["calib"] { windows = try a.datasetArg("calib").windows }
                if o.needsCalibration && windows.isEmpty {
                    let dimText = a["dim"].string.map { "dim=\($0)" } ?? "AdaDim modules"
                    throw a.error("calib", "\(o.method.rawValue) with \(dimText) needs calibration data", notes: ["calib = text \"austen:emma\" windows=128 ctx=512"])
                }
                if o.method == .rtn && o.needsCalibration && o.clip.mode != .weighted { windows = Array(windows.prefix(o.usesKL ? o.klWindows : (o.selectionWindows ?? windows.count))) }
                let q = try engine(a, "group") {
                    try quantizeModel(m, options: o, calibration: windows, progress: { label, d, t in ctx.progress("quantize: " + label, d, t) },
                                      shouldStop: ctx.shouldStop)
                }
                return .object(QuantizedModelValue(q, base: m, baseName: mname))
            })
    }

    static var rtnCommand: Builtin {
        Builtin(
            name: "rtn", category: "quantize", summary: "Round-to-nearest quantization of one tensor: codes, scales, zeros and the dequantized values.",
            help: "scale = (max − min)/(2^b − 1), zero = round(−min/scale), q = clamp(round(w/scale) + zero), ŵ = (q − zero)·scale, with round-half-to-even. Per-OC parameters form an [out, ⌈in/g⌉] grid, per-IC an [⌈out/g⌉, in] grid.\n\n" + clipHelp
                + " With rtn, clip=weighted takes the second moments from importance= (one non-negative number per input column, e.g. the squares of a layer's `rms` column from `capture`).",
            examples: ["w = m[\"blk.3.ffn_down\"]\nr = rtn w bits=3 group=128 dim=ic\nprint r.mse, r.ragged", "rtn (tensor [[0.5, 0.6, 0.7, 1.0]]) bits=2 group=4 grid=reference",
                       "r = rtn m[\"blk.3.ffn_down\"] bits=3 clip=mse\nprint r.mse"],
            params: [Param("tensor", .tensor, doc: "a 2-D weight [out, in]"),
                     Param("bits", .int, default: .int(3), doc: "2…8"),
                     Param("group", .int, default: .int(128), doc: "group size; 0: per-channel"),
                     Param("dim", choice: QuantDim.self, default: .oc, doc: "grouping dimension"),
                     Param("grid", choice: GridKind.self, default: .minmax, doc: "the grid")]
                + clipParams + [Param("importance", .oneOf([.tensor, .list(.number)]), default: .none,
                                      doc: "clip=weighted: the input's second moment per input column (a tensor or list of in numbers)")],
            returns: "a record {codes, scales, zeros, dequantized, error, mse, ragged}",
            run: { a, _ in
                let w = try a.tensorArg("tensor")
                // The engine's codes are integers: nan, inf and values beyond Float's range after
                // scaling would trap there.
                guard w.data.allSatisfy({ $0.isFinite && abs($0) < 1e30 }) else {
                    throw a.error("tensor", "rtn needs finite values (below 1e30 in size): this tensor has nan, inf or huge entries")
                }
                let spec = QuantSpec(bits: try a.int("bits"), group: try a.int("group", min: 0), dim: try a.choice("dim", as: QuantDim.self),
                                     grid: try a.choice("grid", as: GridKind.self), clip: try a.clipArg())
                let imp = try importanceArg(a, spec: spec, cols: w.rank == 2 ? w.shape[1] : 0)
                let q = try engine(a, "group") { try quantizeRTN(w, spec, importance: imp) }
                let err = try q.dequantized.subtracting(w)
                let mse = err.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(err.count, 1))
                return .record(Record([("codes", tensorValue(Tensor(shape: q.shape, data: q.codes.map(Float.init)))),
                                       ("scales", tensorValue(q.scales)), ("zeros", tensorValue(q.zeros)),
                                       ("dequantized", tensorValue(q.dequantized)), ("error", tensorValue(err)),
                                       ("mse", .number(mse)), ("ragged", .bool(q.ragged))]))
            })
    }







    static var exportCommand: Builtin {
        Builtin(
            name: "export", category: "quantize", summary: "Write a quantized model: fake-quant GGUF (F32/F16 weights, original metadata and tokenizer) or ada's packed safetensors.",
            help: "format=gguf writes a GGUF that ada and llama.cpp load, one tensor at a time: type=f32 or f16 stores every linear layer dequantized; type=native stores per-OC layers whose group is a multiple of 32 in GGML's own block types (Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0: the smallest that holds the codes exactly, up to fp16 scales), so llama.cpp runs them from its quantized kernels, and the other layers as F16 (`q.gguf_types` shows each layer's type and why). format=packed writes the integer codes bit-packed with their scales and zero points (see docs/language.md), which `load_packed` reads back bit-exactly. Files are written atomically.",
            examples: ["export q \"smollm2-w3.gguf\"", "export q \"smollm2-w4.gguf\" type=native", "export q \"smollm2-w3.safetensors\" format=packed"],
            params: [Param("model", .object("quantized model"), doc: "the quantized model"), Param("path", .string, doc: "output file"),
                     Param("format", .choice(["gguf", "packed"]), default: .string("gguf"), doc: "gguf or packed"),
                     Param("type", choice: ExportType.self, default: .f32,
                           doc: "GGUF linear weights: f32 or f16 fake-quant, or native (GGML block types where they hold the codes)")],
            returns: "the path",
            run: { a, _ in
                guard case .object(let o) = a["model"], let q = o as? QuantizedModelValue else { throw a.error("model", "expected a quantized model") }
                let path = try a.string("path")
                try engine(a, "path") {
                    if try a.string("format") == "packed" {
                        try PackedFormat.write(q.quantized, to: path)
                    } else {
                        try exportGGUF(q.quantized, to: path, as: try a.choice("type", as: ExportType.self))
                    }
                }
                return .string(path)
            })
    }

    static var loadPackedCommand: Builtin {
        Builtin(
            name: "load_packed", category: "quantize", summary: "Apply a packed safetensors file (from `export … format=packed`) to its base model.",
            examples: ["q2 = load_packed \"smollm2-w3.safetensors\" m"],
            params: [Param("path", .string, doc: "the packed file"), Param("model", .model, doc: "the base model it was quantized from")],
            returns: "a model",
            run: { a, _ in
                let (m, name) = try a.modelArg("model")
                let path = try a.string("path")
                let applied = try engine(a, "path") { try PackedFormat.apply(path, to: m) }
                return .object(LoadedModel(model: applied, name: "\(name) + \((path as NSString).lastPathComponent)"))
            })
    }
}
