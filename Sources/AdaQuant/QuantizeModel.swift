import AdaModel
import AdaTensor
import Foundation

public enum QuantMethod: String, Sendable, CaseIterable, Codable {
    case rtn, gptq
}

/// How AdaDim judges a candidate dimension.
public enum AdaCriterion: String, Sendable, CaseIterable, Codable {
    /// The reference recipe: q/k/v at the attention output, gate/up at the MLP output, o and
    /// down at their own outputs; greedy in module order with earlier choices applied.
    case block
    /// Each module's own output MSE on its full-precision inputs.
    case module
    /// As `block`, with candidates made by the run's quantizer: GPTQ candidates in both
    /// dimensions for GPTQ (the block criterion judges RTN candidates there); for RTN it is
    /// `block` (whose candidates already use the run's grid and clip search).
    case quantizer
    /// Model level: the mean KL divergence of the final logits from the full-precision ones on
    /// a few calibration windows, minimised by one coordinate sweep over units of (kind, run of
    /// blocks), starting from the better of all-per-OC and all-per-IC (ModelCriterion.swift).
    case kl
}

/// The dimension choice for a whole model: fixed, or adaptive per module.
public enum DimChoice: Sendable, Equatable, CustomStringConvertible {
    case fixed(QuantDim)
    case ada(AdaCriterion)

    public var description: String {
        switch self {
        case .fixed(let d): return d.rawValue
        case .ada(.block): return "ada"
        case .ada(.module): return "ada-module"
        case .ada(.quantizer): return "ada-quantizer"
        case .ada(.kl): return "ada-kl"
        }
    }

    public init?(name: String) {
        switch name {
        case "oc": self = .fixed(.oc)
        case "ic": self = .fixed(.ic)
        case "ada", "ada-block", "adadim": self = .ada(.block)
        case "ada-module": self = .ada(.module)
        case "ada-quantizer": self = .ada(.quantizer)
        case "ada-kl": self = .ada(.kl)
        default: return nil
        }
    }
}

public struct QuantizeOptions: Sendable {
    public var method: QuantMethod
    public var bits: Int
    public var group: Int
    public var dim: DimChoice
    public var grid: GridKind = .minmax
    /// The range search per group, for every module (none: min and max).
    public var clip: ClipSearch = .none
    public var gptq = GPTQOptions()
    /// Feed each block the outputs of the already-quantized blocks (default: full precision).
    public var quantizedInputs = false
    /// Calibration windows used for AdaDim's block criterion (nil: all). The criterion's cost
    /// is several block evaluations per window, so the default judges on the first 16
    /// windows (8k tokens at ctx 512); GPTQ's Hessians always use every window.
    public var selectionWindows: Int? = 16
    /// The KL criterion's windows (the first of the calibration windows) and its unit: that
    /// many consecutive blocks of one kind share a dimension choice.
    public var klWindows = 4
    public var klBlocks = 5
    /// Per-module bits, group and dimension, and which modules are quantized at all (those
    /// it does not list stay at full precision). nil: every module takes `bits`, `group`
    /// and `dim`.
    public var plan: QuantPlan?

    public init(method: QuantMethod, bits: Int, group: Int, dim: DimChoice, grid: GridKind = .minmax) {
        self.method = method
        self.bits = bits
        self.group = group
        self.dim = dim
        self.grid = grid
    }

    public var needsCalibration: Bool {
        if let plan { return !plan.modules.isEmpty && (method == .gptq || plan.hasAdaptive || clip.mode == .weighted) }
        if method == .gptq || clip.mode == .weighted { return true }
        if case .ada = dim { return true }
        return false
    }

    /// How module `id` is quantized: the plan's entry (nil: kept at full precision), or the
    /// options' bits, group and dimension when there is no plan.
    public func module(_ id: LinearID) -> ModulePlan? {
        guard let plan else { return ModulePlan(bits: bits, group: group, dim: dim) }
        return plan[id]
    }

    public var description: String {
        let c = clip.isOn ? " \(clip)" : ""
        guard let plan else { return "\(method.rawValue) w\(bits) \(group == 0 ? "per-channel" : "g\(group)") \(dim)\(c)" }
        return "\(method.rawValue) \(plan.summary)\(c)"
    }
}

/// What happened to one linear module.
public struct ModuleReport: Sendable {
    public let id: LinearID
    public let dim: QuantDim
    public let bits: Int
    /// The group size asked for (0: per-channel).
    public let group: Int
    /// Weights in the module, and groups (pairs of scale and zero point) they form.
    public let weights: Int
    public let groups: Int
    /// AdaDim's candidate errors (nil for a fixed dimension).
    public let errorOC: Double?
    public let errorIC: Double?
    public let ragged: Bool
    /// Mean squared difference between quantized and original weights.
    public let weightMSE: Double
}

/// Seconds spent in each stage.
public struct QuantTimings: Sendable {
    public var capture: Double = 0
    public var hessian: Double = 0
    public var gptq: Double = 0
    public var selection: Double = 0
    public var rtn: Double = 0
    public var total: Double { capture + hessian + gptq + selection + rtn }
}

/// A model whose linear weights were quantized, with the per-module record of what was done.
/// It is a view of the original model with an overlay of packed layers: the quantized layers
/// cost their packed size, everything else is shared with the original.
public struct QuantizedModel: Sendable {
    /// The original model with the quantized layers as its overlay.
    public var view: ModelView
    public let options: QuantizeOptions
    public var reports: [ModuleReport]
    /// Codes, scales and zeros per module (the overlay's layers), for inspection and export.
    public var layers: [LinearID: PackedLayer]
    public var timings: QuantTimings

    public init(view: ModelView, options: QuantizeOptions, reports: [ModuleReport], layers: [LinearID: PackedLayer],
                timings: QuantTimings) {
        self.view = view
        self.options = options
        self.reports = reports
        self.layers = layers
        self.timings = timings
    }

    /// The model with dequantized ("fake-quant") linear weights, materialized: a full
    /// Float32 copy of every quantized layer. Block-streamed consumers use `view`.
    public var model: LlamaModel { view.materialized() }

    /// How many modules of each kind chose per-IC.
    public var icCounts: [LinearKind: Int] {
        var c: [LinearKind: Int] = [:]
        for k in LinearKind.allCases { c[k] = 0 }
        for r in reports where r.dim == .ic { c[r.id.kind, default: 0] += 1 }
        return c
    }
}

@inline(__always)
func mse(_ a: Tensor, _ b: Tensor) -> Double {
    var s: Double = 0
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            var chunk: Float = 0
            for i in 0..<pa.count {
                let d = pa[i] - pb[i]
                chunk += d * d
                if i & 1023 == 1023 { s += Double(chunk); chunk = 0 }
            }
            s += Double(chunk)
        }
    }
    return s / Double(max(a.count, 1))
}

/// Mean squared output error of replacing `w` by `wq` on inputs whose Hessian sum is `h`:
/// `tr(ΔW · Σxxᵀ · ΔWᵀ) / (N · out)`.
public func outputMSE(_ w: Tensor, _ wq: Tensor, hessian h: Hessian) -> Double {
    let (rows, cols) = (w.shape[0], w.shape[1])
    guard h.tokens > 0 else { return .nan }
    let dw = (try? wq.subtracting(w)) ?? w
    // Full symmetric Σxxᵀ from its upper triangle.
    var s = h.sum
    for i in 0..<cols { for j in 0..<i { s[i * cols + j] = s[j * cols + i] } }
    var prod = [Float](repeating: 0, count: rows * cols)
    dw.data.withUnsafeBufferPointer { pd in
        s.withUnsafeBufferPointer { ps in
            prod.withUnsafeMutableBufferPointer { pp in
                sgemm(transA: false, transB: false, m: rows, n: cols, k: cols, alpha: 1, a: pd.baseAddress!, lda: cols,
                      b: ps.baseAddress!, ldb: cols, beta: 0, c: pp.baseAddress!, ldc: cols)
            }
        }
    }
    var t: Double = 0
    for i in 0..<(rows * cols) { t += Double(prod[i]) * Double(dw.data[i]) }
    return max(t, 0) / Double(h.tokens * rows)
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

extension QuantizeOptions {
    /// The options' bits, group and grid in dimension `d`.
    func spec(_ d: QuantDim) -> QuantSpec { QuantSpec(bits: bits, group: group, dim: d, grid: grid, clip: clip) }

    /// Module plan `mp`'s recipe in dimension `d` with the run's grid and clip search.
    func spec(_ mp: ModulePlan, _ d: QuantDim) -> QuantSpec { mp.spec(d, grid: grid, clip: clip) }

    /// Whether some module's dimension is chosen by the model-level KL criterion.
    public var usesKL: Bool {
        guard let plan else { return dim == .ada(.kl) }
        return plan.modules.values.contains { $0.dim == .ada(.kl) }
    }

    /// Whether every module that is quantized has a fixed dimension (RTN then needs no data).
    var allFixed: Bool {
        guard let plan else { if case .fixed = dim { return true } else { return false } }
        return !plan.hasAdaptive
    }
}

/// Quantizes every linear module of `model` (RTN or GPTQ, per-OC, per-IC or AdaDim).
/// `calibration` windows are needed for GPTQ and AdaDim; block inputs come from the
/// full-precision model unless `options.quantizedInputs`.
public func quantizeModel(_ model: LlamaModel, options: QuantizeOptions, calibration: [[Int32]] = [],
                          progress: ((String, Int, Int) -> Void)? = nil,
                          shouldStop: (() -> Bool)? = nil) throws -> QuantizedModel {
    try validatePlan(model, options)
    if options.needsCalibration && calibration.isEmpty {
        throw QuantError("\(options.description) needs calibration windows", origin: .calibration)
    }
    try requireFiniteModel(model, calibrated: options.needsCalibration)
    // Plain RTN in fixed dimensions needs no data (unless a weighted clip search reads the inputs).
    if options.allFixed, options.method == .rtn, options.clip.mode != .weighted {
        return try quantizeRTNModel(model, options: options, progress: progress, shouldStop: shouldStop)
    }
    if options.usesKL {
        return try quantizeModelKL(model, options: options, calibration: calibration, progress: progress, shouldStop: shouldStop)
    }
    var record = QuantizationRecord(model: model)
    let stream = BlockStream(model: model, windows: calibration)
    let nSel = min(options.selectionWindows ?? calibration.count, calibration.count)
    for b in 0..<model.blocks.count {
        if shouldStop?() == true { throw CancellationError() }
        let fp = model.blocks[b]
        // 1. Full-precision traces: Hessians of the four input sites, stored inputs for selection.
        var capture = try captureBlock(stream, weights: fp, selectionWindows: nSel, quantizedInputs: options.quantizedInputs,
                                       shouldStop: shouldStop, timings: &record.timings)
        // 2. Dimension per module.
        let tSel0 = now()
        let selection = try selectDims(model: model, block: b, fp, capture: capture, options: options, rope: stream.rope,
                                       shouldStop: shouldStop)
        record.timings.selection += now() - tSel0
        capture.attnIns = []
        capture.mlpIns = []
        // 3. Quantize in the chosen dimension.
        let qblock = try quantizeBlock(b, fp, hessians: capture.hessians, selection: selection, options: options,
                                       shouldStop: shouldStop, record: &record)
        // 4. Next block's inputs (already advanced when they come from full precision).
        if options.quantizedInputs {
            let t2 = now()
            stream.advance(weights: qblock)
            record.timings.capture += now() - t2
        }
        progress?("block", b + 1, model.blocks.count)
    }
    return record.result(options)
}

/// What a model quantization builds up, module by module.
struct QuantizationRecord {
    var view: ModelView
    var reports: [ModuleReport] = []
    var layers: [LinearID: PackedLayer] = [:]
    var timings = QuantTimings()

    init(model: LlamaModel) { view = ModelView(base: model) }

    /// Keeps module `id`'s quantized tensor, packed, in the view's overlay, and its report.
    mutating func add(_ id: LinearID, _ q: QuantizedTensor, dim: QuantDim, original: Tensor,
                      errorOC: Double? = nil, errorIC: Double? = nil) {
        let p = PackedLayer(q)
        layers[id] = p
        view.set(id, p)
        reports.append(ModuleReport(id: id, dim: dim, bits: q.spec.bits, group: q.spec.group, weights: q.codes.count,
                                    groups: q.scales.count, errorOC: errorOC, errorIC: errorIC, ragged: q.ragged,
                                    weightMSE: mse(q.dequantized, original)))
    }

    func result(_ options: QuantizeOptions) -> QuantizedModel {
        QuantizedModel(view: view, options: options, reports: reports, layers: layers, timings: timings)
    }
}

/// Checks that a plan names only the model's modules, and each module's spec against its
/// shape up front (both dimensions when AdaDim may pick either), naming the module (and its
/// shape) that it does not fit.
private func validatePlan(_ model: LlamaModel, _ options: QuantizeOptions) throws {
    if let plan = options.plan {
        let known = Set(model.linearIDs)
        if let stray = plan.modules.keys.sorted().first(where: { !known.contains($0) }) {
            throw QuantError("the plan names \(stray), which the model does not have (blocks 0…\(model.blocks.count - 1))",
                             origin: .layer)
        }
    }
    for id in model.linearIDs {
        guard let mp = options.module(id) else { continue }
        let w = model[id]
        for d in mp.candidateDims {
            do {
                _ = try options.spec(mp, d).validate(rows: w.shape[0], cols: w.shape[1])
            } catch let e as QuantError {
                throw QuantError("\(id) \(w.shape[0])×\(w.shape[1]) per-\(d.rawValue.uppercased()): \(e.message)",
                                 origin: e.origin ?? .group)
            }
        }
    }
}

/// RTN of every planned module in its fixed dimension: no calibration data, no block pass.
private func quantizeRTNModel(_ model: LlamaModel, options: QuantizeOptions,
                              progress: ((String, Int, Int) -> Void)?, shouldStop: (() -> Bool)?) throws -> QuantizedModel {
    var record = QuantizationRecord(model: model)
    let t0 = now()
    for (i, id) in model.linearIDs.enumerated() {
        if shouldStop?() == true { throw CancellationError() }
        guard let mp = options.module(id), case .fixed(let d) = mp.dim else { continue }
        let q = try quantizeRTN(model[id], options.spec(mp, d), name: "\(id)")
        record.add(id, q, dim: d, original: model[id])
        progress?("rtn", i + 1, model.linearIDs.count)
    }
    record.timings.rtn = now() - t0
    return record.result(options)
}

/// One block's full-precision traces: the Hessians of its four input sites, and the
/// attention and MLP inputs of the selection windows.
private struct BlockCapture {
    var hessians: SiteHessians
    var attnIns: [Tensor] = []
    var mlpIns: [Tensor] = []
}

/// Runs the stream's current block with `fp` on every window, accumulating the Hessians and
/// keeping the first `nSel` windows' inputs. With full-precision inputs the stream moves to
/// the next block right here; with quantized inputs it waits for the quantized block.
private func captureBlock(_ stream: BlockStream, weights fp: LlamaBlock, selectionWindows nSel: Int,
                          quantizedInputs: Bool, shouldStop: (() -> Bool)?,
                          timings: inout QuantTimings) throws -> BlockCapture {
    var capture = BlockCapture(hessians: SiteHessians(config: stream.model.config))
    var tCapture = 0.0, tHess = 0.0
    var t0 = now()
    let consume = { (i: Int, tr: BlockTrace) throws in
        if shouldStop?() == true { throw CancellationError() }
        let t1 = now()
        tCapture += t1 - t0
        capture.hessians.add(tr)
        if i < nSel { capture.attnIns.append(tr.attnIn); capture.mlpIns.append(tr.mlpIn) }
        t0 = now()
        tHess += t0 - t1
    }
    if quantizedInputs {
        try stream.trace(weights: fp) { i, tr, _ in try consume(i, tr) }
    } else {
        try stream.traceAndAdvance(weights: fp, consume)
    }
    timings.capture += tCapture
    timings.hessian += tHess
    return capture
}

/// The dimension chosen for each module of a block, AdaDim's candidate errors, and the RTN
/// candidates already computed for the choice.
private struct DimSelection {
    var dims: [LinearKind: QuantDim] = [:]
    var errors: [LinearKind: (Double, Double)] = [:]
    var rtn: [LinearKind: [QuantDim: QuantizedTensor]] = [:]
    /// The run's GPTQ results already made for the choice (`criterion=quantizer`), reused as is.
    var made: [LinearKind: QuantizedTensor] = [:]
}

/// GPTQ tensors made while judging, by kind and dimension.
private final class MadeTensors {
    var tensors: [LinearKind: [QuantDim: QuantizedTensor]] = [:]
}

/// Chooses each planned module's dimension: the fixed one, or AdaDim's choice by its
/// criterion. Modules judged by the block criterion are chosen greedily with the block's
/// other planned modules applied in order (fixed ones as their RTN weights); kept modules
/// stay at full precision there.
private func selectDims(model: LlamaModel, block b: Int, _ fp: LlamaBlock, capture: BlockCapture, options: QuantizeOptions,
                        rope: RoPETable, shouldStop: (() -> Bool)?) throws -> DimSelection {
    var sel = DimSelection()
    // Block-criterion candidates are made at their turn (`blockCriterionChoices`), so the
    // selection holds one module's pair; RTN then quantizes the chosen dimension again
    // (deterministic: the same codes). GPTQ keeps no RTN candidate.
    var judged: [LinearKind: () throws -> (oc: Tensor, ic: Tensor)] = [:]
    let made = MadeTensors()
    // criterion=quantizer under GPTQ: every module of the block is judged as GPTQ makes it.
    let gptqJudged = options.method == .gptq && LinearKind.allCases.contains {
        options.module(LinearID(block: b, kind: $0))?.dim == .ada(.quantizer)
    }
    let gptq = { (k: LinearKind, spec: QuantSpec) throws -> QuantizedTensor in
        if let hit = made.tensors[k]?[spec.dim] { return hit }
        let q = try quantizeGPTQ(fp[k], hessian: capture.hessians[k], spec: spec, options: options.gptq,
                                 name: "\(LinearID(block: b, kind: k))", shouldStop: shouldStop)
        made.tensors[k, default: [:]][spec.dim] = q
        return q
    }
    for k in LinearKind.allCases {
        guard let mp = options.module(LinearID(block: b, kind: k)) else { continue }
        guard case .ada(let criterion) = mp.dim else {
            if case .fixed(let d) = mp.dim { sel.dims[k] = d }
            continue
        }
        let spec = { (d: QuantDim) in options.spec(mp, d) }
        let imp = importance(capture.hessians, k, options)
        if criterion == .module {
            let cand = (oc: try quantizeRTN(fp[k], spec(.oc), importance: imp, name: k.ggufName),
                        ic: try quantizeRTN(fp[k], spec(.ic), importance: imp, name: k.ggufName))
            if options.method == .rtn { sel.rtn[k] = [.oc: cand.oc, .ic: cand.ic] }
            let h = capture.hessians[k]
            let e = (outputMSE(fp[k], cand.oc.dequantized, hessian: h), outputMSE(fp[k], cand.ic.dequantized, hessian: h))
            sel.errors[k] = e
            sel.dims[k] = e.1 < e.0 ? .ic : .oc
        } else if gptqJudged {
            judged[k] = { (try gptq(k, spec(.oc)).dequantized, try gptq(k, spec(.ic)).dequantized) }
        } else {
            let w = fp[k]
            judged[k] = {
                (try quantizeRTN(w, spec(.oc), importance: imp, name: k.ggufName).dequantized,
                 try quantizeRTN(w, spec(.ic), importance: imp, name: k.ggufName).dequantized)
            }
        }
    }
    guard !judged.isEmpty else { return sel }
    var fixed: [LinearKind: Tensor] = [:]
    for (k, d) in sel.dims {
        guard let mp = options.module(LinearID(block: b, kind: k)) else { continue }
        if gptqJudged {
            fixed[k] = try gptq(k, options.spec(mp, d)).dequantized
            continue
        }
        if sel.rtn[k]?[d] == nil {
            sel.rtn[k, default: [:]][d] = try quantizeRTN(fp[k], options.spec(mp, d), importance: importance(capture.hessians, k, options),
                                                          name: k.ggufName)
        }
        fixed[k] = sel.rtn[k]![d]!.dequantized
    }
    let chosen = try blockCriterionChoices(model: model, block: fp, candidates: judged, fixed: fixed,
                                           attnIns: capture.attnIns, mlpIns: capture.mlpIns, rope: rope, shouldStop: shouldStop)
    sel.dims.merge(chosen.dims) { _, new in new }
    sel.errors.merge(chosen.errors) { _, new in new }
    for (k, d) in sel.dims { if let q = made.tensors[k]?[d] { sel.made[k] = q } }
    return sel
}

/// Quantizes block `b`'s modules in their chosen dimensions (GPTQ, or RTN reusing the
/// selection's candidates), recording each; returns the block with dequantized weights.
private func quantizeBlock(_ b: Int, _ fp: LlamaBlock, hessians: SiteHessians, selection: DimSelection,
                           options: QuantizeOptions, shouldStop: (() -> Bool)?,
                           record: inout QuantizationRecord) throws -> LlamaBlock {
    var qblock = fp
    for k in LinearKind.allCases {
        guard let mp = options.module(LinearID(block: b, kind: k)), let d = selection.dims[k] else { continue }
        let q: QuantizedTensor
        if let done = selection.made[k] {
            q = done
        } else if options.method == .gptq {
            let t1 = now()
            q = try quantizeGPTQ(fp[k], hessian: hessians[k], spec: options.spec(mp, d), options: options.gptq,
                                 name: "\(LinearID(block: b, kind: k))", shouldStop: shouldStop)
            record.timings.gptq += now() - t1
        } else if let cached = selection.rtn[k]?[d] {
            q = cached
        } else {
            let t1 = now()
            q = try quantizeRTN(fp[k], options.spec(mp, d), importance: importance(hessians, k, options),
                                name: "\(LinearID(block: b, kind: k))")
            record.timings.rtn += now() - t1
        }
        qblock[k] = q.dequantized
        record.add(LinearID(block: b, kind: k), q, dim: d, original: fp[k],
                   errorOC: selection.errors[k]?.0, errorIC: selection.errors[k]?.1)
    }
    return qblock
}

/// The per-input-column error weights of a weighted clip search (the Hessian diagonal of the
/// module's input site), nil for other searches.
private func importance(_ hessians: SiteHessians, _ k: LinearKind, _ options: QuantizeOptions) -> [Float]? {
    options.clip.mode == .weighted ? hessians[k].diagonal().map(Float.init) : nil
}

/// AdaDim's block-level target for module `kind` with the given block weights: the attention
/// output for q/k/v, the MLP output for gate/up, the module's own output for o and down.
func blockTarget(_ m: LlamaModel, kind: LinearKind, weights w: LlamaBlock, attnIn: Tensor, mlpIn: Tensor,
                 rope: RoPETable) -> Tensor {
    switch kind {
    case .q, .k, .v, .o: return Forward.linear(m.attentionContext(w, attnIn, rope: rope), w.o)
    case .gate, .up, .down: return Forward.linear(m.mlpActivation(w, mlpIn), w.down)
    }
}

/// GPTQ on every linear module with precomputed Hessians, in fixed dimensions per module
/// (`dims`, e.g. the choices of an AdaDim run at the same bits and group), or `options.dim`
/// when it is fixed.
public func quantizeGPTQModel(_ model: LlamaModel, options: QuantizeOptions, hessians: CalibrationHessians,
                              dims: [LinearID: QuantDim]? = nil, choices: [ModuleReport]? = nil,
                              progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> QuantizedModel {
    try requireFiniteModel(model, calibrated: false)
    var record = QuantizationRecord(model: model)
    let chosen = choices.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.id, $0) }) }
    for (i, id) in model.linearIDs.enumerated() {
        if shouldStop?() == true { throw CancellationError() }
        guard let mp = options.module(id) else { continue }
        let d: QuantDim
        if let dd = dims?[id] ?? chosen?[id]?.dim { d = dd } else if case .fixed(let f) = mp.dim { d = f } else {
            throw QuantError("AdaDim GPTQ needs the dimension choices (run the selection first)", origin: .options)
        }
        let t0 = now()
        let q = try quantizeGPTQ(model[id], hessian: hessians.hessian(id), spec: options.spec(mp, d), options: options.gptq,
                                 name: "\(id)", shouldStop: shouldStop)
        record.timings.gptq += now() - t0
        record.add(id, q, dim: d, original: model[id], errorOC: chosen?[id]?.errorOC, errorIC: chosen?[id]?.errorIC)
        progress?(i + 1, model.linearIDs.count)
    }
    record.timings.hessian = hessians.seconds
    return record.result(options)
}
