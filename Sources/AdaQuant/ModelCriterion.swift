import AdaModel
import AdaTensor
import Foundation

// AdaDim's model-level criterion (`criterion=kl`, docs/reference.md §1.3): the dimension choices
// are judged by the mean KL divergence KL(p_fp ‖ p_q) of the model's next-token distributions
// on the first `klWindows` calibration windows, every position of every window.
//
// The adaptive modules are grouped into units: one kind (q … down) over `klBlocks` consecutive
// blocks (blocks 0…n−1, n…2n−1, …). The search starts from the better of "every unit per-OC"
// and "every unit per-IC" (ties to per-OC), then visits the units once in model order (block
// run, then kind q, k, v, o, gate, up, down) and flips each to the other dimension when that
// strictly lowers the KL, the earlier decisions applied. The result is never worse on the
// criterion than either fixed dimension. Candidates are the run's quantizer's (RTN, or GPTQ
// on the full-precision Hessians), with the run's grid and clip search; modules the plan fixes
// are applied in their dimension, kept ones stay at full precision.
//
// Each evaluation runs the model from the first block of the changed unit (the hidden states
// entering each block run are kept for the current choices) to the logits.

/// One unit of the KL search: the adaptive modules of one kind in one run of blocks.
struct KLUnit {
    let run: Int
    let kind: LinearKind
    let ids: [LinearID]
}

/// Quantizes `model` with every adaptive module chosen by the KL criterion.
func quantizeModelKL(_ model: LlamaModel, options: QuantizeOptions, calibration: [[Int32]],
                     progress: ((String, Int, Int) -> Void)?, shouldStop: (() -> Bool)?) throws -> QuantizedModel {
    if let plan = options.plan, plan.modules.values.contains(where: { if case .ada(let c) = $0.dim { return c != .kl } else { return false } }) {
        throw QuantError("criterion=kl cannot be mixed with another AdaDim criterion in one plan", origin: .options)
    }
    guard !options.quantizedInputs else {
        throw QuantError("criterion=kl takes its inputs from the full-precision model (inputs=quantized is not supported)", origin: .options)
    }
    guard options.klWindows >= 1, options.klBlocks >= 1 else {
        throw QuantError("criterion=kl needs at least one window and one block per unit (kl_windows, kl_blocks)", origin: .options)
    }
    var record = QuantizationRecord(model: model)
    let needH = options.method == .gptq || options.clip.mode == .weighted
    let hess = needH ? try CalibrationHessians(model: model, calibration: calibration, shouldStop: shouldStop) : nil
    record.timings.hessian = hess?.seconds ?? 0
    // Every planned module in its candidate dimensions, made by the run's quantizer.
    let t1 = now()
    var made: [LinearID: [QuantDim: QuantizedTensor]] = [:]
    for (i, id) in model.linearIDs.enumerated() {
        if shouldStop?() == true { throw CancellationError() }
        guard let mp = options.module(id) else { continue }
        for d in mp.candidateDims {
            let spec = options.spec(mp, d)
            if let hess {
                made[id, default: [:]][d] = options.method == .gptq
                    ? try quantizeGPTQ(model[id], hessian: hess.hessian(id), spec: spec, options: options.gptq, name: "\(id)", shouldStop: shouldStop)
                    : try quantizeRTN(model[id], spec, importance: hess.hessian(id).diagonal().map(Float.init), name: "\(id)")
            } else {
                made[id, default: [:]][d] = try quantizeRTN(model[id], spec, name: "\(id)")
            }
        }
        progress?("candidates", i + 1, model.linearIDs.count)
    }
    if options.method == .gptq { record.timings.gptq = now() - t1 } else { record.timings.rtn = now() - t1 }
    let t2 = now()
    let units = klUnits(model, options)
    var search = KLSearch(model: model, windows: Array(calibration.prefix(options.klWindows)), made: made,
                          runLength: options.klBlocks)
    let errors = try search.sweep(units, progress: progress, shouldStop: shouldStop)
    record.timings.selection = now() - t2
    for id in model.linearIDs {
        guard let d = search.dims[id], let q = made[id]?[d] else { continue }
        record.add(id, q, dim: d, original: model[id], errorOC: errors[id]?.0, errorIC: errors[id]?.1)
    }
    return record.result(options)
}

/// The KL search's units in model order (block run, then kind), each holding its adaptive modules.
func klUnits(_ model: LlamaModel, _ options: QuantizeOptions) -> [KLUnit] {
    let n = model.blocks.count, len = options.klBlocks
    var units: [KLUnit] = []
    for run in 0..<((n + len - 1) / len) {
        for k in LinearKind.allCases {
            let ids = (run * len..<min((run + 1) * len, n)).map { LinearID(block: $0, kind: k) }.filter {
                if case .ada = options.module($0)?.dim { return true } else { return false }
            }
            if !ids.isEmpty { units.append(KLUnit(run: run, kind: k, ids: ids)) }
        }
    }
    return units
}

/// The state of the KL search: current dimensions, the full-precision log-probabilities and the
/// hidden states entering each block run under the current choices.
struct KLSearch {
    let model: LlamaModel
    let windows: [[Int32]]
    let made: [LinearID: [QuantDim: QuantizedTensor]]
    let runLength: Int
    let rope: RoPETable
    /// Chosen dimension of every planned module (fixed ones included).
    var dims: [LinearID: QuantDim] = [:]
    /// `entering[run][window]`: the hidden state entering block `run · runLength`.
    var entering: [[Tensor]] = []
    /// Full-precision log-probabilities per window, `[T, vocab]`.
    let reference: [Tensor]

    init(model: LlamaModel, windows: [[Int32]], made: [LinearID: [QuantDim: QuantizedTensor]], runLength: Int) {
        self.model = model
        self.windows = windows
        self.made = made
        self.runLength = runLength
        rope = model.ropeTable(positions: windows.map(\.count).max() ?? 0)
        let r = rope
        reference = windows.map { w in
            var x = model.embed(w)
            for b in model.blocks { x = model.runBlock(b, x, rope: r) }
            return logSoftmaxRows(model.logits(x))
        }
        for (id, byDim) in made where byDim.count == 1 { dims[id] = byDim.keys.first! }
    }

    var runs: Int { (model.blocks.count + runLength - 1) / runLength }

    /// Block `b` with the planned modules in `dims`' dimensions.
    func block(_ b: Int, _ dims: [LinearID: QuantDim]) -> LlamaBlock {
        var w = model.blocks[b]
        for k in LinearKind.allCases {
            let id = LinearID(block: b, kind: k)
            if let d = dims[id], let q = made[id]?[d] { w[k] = q.dequantized }
        }
        return w
    }

    /// Mean KL of the model with `dims`, run from block run `from` (whose entering states are
    /// `entering[from]`), and the states entering the later runs.
    func evaluate(_ dims: [LinearID: QuantDim], from: Int) -> (kl: Double, entering: [[Tensor]]) {
        var xs = from == 0 ? windows.map { model.embed($0) } : entering[from]
        var ent: [[Tensor]] = Array(entering.prefix(from))
        for run in from..<runs {
            ent.append(xs)
            let blocks = (run * runLength..<min((run + 1) * runLength, model.blocks.count)).map { block($0, dims) }
            for w in blocks { xs = xs.map { model.runBlock(w, $0, rope: rope) } }
        }
        var kl = 0.0
        for (i, x) in xs.enumerated() { kl += meanKL(reference[i], logSoftmaxRows(model.logits(x))) }
        return (kl / Double(max(xs.count, 1)), ent)
    }

    /// The search: the better start, then one pass over `units`. Returns, per adaptive module,
    /// the KL with its unit per-OC and per-IC at the time its unit was decided.
    mutating func sweep(_ units: [KLUnit], progress: ((String, Int, Int) -> Void)?,
                        shouldStop: (() -> Bool)?) throws -> [LinearID: (Double, Double)] {
        var errors: [LinearID: (Double, Double)] = [:]
        guard !units.isEmpty else { return errors }
        func with(_ d: QuantDim, _ us: [KLUnit]) -> [LinearID: QuantDim] {
            var out = dims
            for u in us { for id in u.ids { out[id] = d } }
            return out
        }
        let oc = evaluate(with(.oc, units), from: 0), ic = evaluate(with(.ic, units), from: 0)
        let start: QuantDim = ic.kl < oc.kl ? .ic : .oc
        dims = with(start, units)
        entering = start == .ic ? ic.entering : oc.entering
        var current = start == .ic ? ic.kl : oc.kl
        for (i, u) in units.enumerated() {
            if shouldStop?() == true { throw CancellationError() }
            let d = dims[u.ids[0]]!
            let flipped = d == .oc ? QuantDim.ic : .oc
            let trial = evaluate(with(flipped, [u]), from: u.run)
            let pair = d == .oc ? (current, trial.kl) : (trial.kl, current)
            for id in u.ids { errors[id] = pair }
            if trial.kl < current {
                dims = with(flipped, [u])
                entering = trial.entering
                current = trial.kl
            }
            progress?("kl", i + 1, units.count)
        }
        return errors
    }
}

/// Row-wise log-softmax of `[T, V]` logits (max-shifted, sums in double).
func logSoftmaxRows(_ x: Tensor) -> Tensor {
    let (t, v) = x.matrixShape
    var out = x
    out.data.withUnsafeMutableBufferPointer { p in
        for r in 0..<t {
            let row = UnsafeMutableBufferPointer(rebasing: p[(r * v)..<((r + 1) * v)])
            let m = row.max() ?? 0
            var z = 0.0
            for j in 0..<v { z += Double(expf(row[j] - m)) }
            let lz = Float(log(z)) + m
            for j in 0..<v { row[j] -= lz }
        }
    }
    return out
}

/// Mean over rows of `KL(p ‖ q) = Σ p·(log p − log q)` for log-probabilities `lp`, `lq`.
func meanKL(_ lp: Tensor, _ lq: Tensor) -> Double {
    let (t, v) = lp.matrixShape
    var total = 0.0
    lp.data.withUnsafeBufferPointer { a in
        lq.data.withUnsafeBufferPointer { b in
            for r in 0..<t {
                var s = 0.0
                for j in (r * v)..<((r + 1) * v) { s += Double(expf(a[j]) * (a[j] - b[j])) }
                total += s
            }
        }
    }
    return total / Double(max(t, 1))
}
