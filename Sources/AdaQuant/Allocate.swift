import AdaModel
import AdaTensor

// Bit allocation under an average bits-per-weight budget (docs/reference.md §1.6): each module
// gets one of its choices (bits, dimension) so that the summed sensitivity is small and the
// storage, counted as `bitsPerWeight` counts it, stays within the budget.

/// One way to quantize a module, with its storage and its measured error.
public struct AllocChoice: Sendable, Equatable {
    public let bits: Int
    public let dim: QuantDim
    /// Groups (pairs of a 16-bit scale and a 16-bit zero) the module forms in this dimension.
    public let groups: Int
    /// The module's sensitivity in this choice (smaller is better).
    public let error: Double

    public init(bits: Int, dim: QuantDim, groups: Int, error: Double) {
        self.bits = bits
        self.dim = dim
        self.groups = groups
        self.error = error
    }

    /// Storage in bits of a module of `weights` weights: the codes and 32 bits per group.
    public func cost(weights: Int) -> Int { bits * weights + 32 * groups }
}

/// A module's size and its choices.
public struct AllocModule: Sendable {
    public let id: LinearID
    public let weights: Int
    public let choices: [AllocChoice]

    public init(id: LinearID, weights: Int, choices: [AllocChoice]) {
        self.id = id
        self.weights = weights
        self.choices = choices
    }
}

/// The choice per module, and what it costs and gives.
public struct Allocation: Sendable {
    public let choices: [LinearID: AllocChoice]
    /// Average bits per weight over the allocated modules, as `bitsPerWeight` counts them.
    public let bitsPerWeight: Double
    /// Summed error of the choices.
    public let error: Double
}

/// Chooses one choice per module so that the average bits per weight (codes plus 32 bits per
/// group, over all the modules' weights) is at most `budget`, greedily: every module starts at
/// its cheapest choice (ties: the smaller error); then, while some move fits the budget, the
/// move with the largest error reduction per added bit is made (a move goes from a module's
/// current choice to any of its choices that costs more and errs less; ties: the earlier
/// module, then the cheaper move). Throws (origin `.options`) when even the cheapest choices
/// exceed the budget, or when a module has no choice or a non-finite error.
public func allocateBits(_ modules: [AllocModule], budget: Double) throws -> Allocation {
    guard budget.isFinite, budget > 0 else { throw QuantError("the budget must be a positive number of bits per weight, got \(budget)", origin: .options) }
    guard !modules.isEmpty else { throw QuantError("no module to allocate bits to", origin: .options) }
    // Each module's choices on their cost/error frontier: increasing cost, decreasing error.
    let frontier: [[AllocChoice]] = try modules.map { m in
        guard !m.choices.isEmpty else { throw QuantError("\(m.id) has no choice to allocate", origin: .options) }
        guard m.choices.allSatisfy({ $0.error.isFinite && $0.error >= 0 }) else {
            throw QuantError("\(m.id) has a non-finite or negative error", origin: .options)
        }
        let sorted = m.choices.sorted { ($0.cost(weights: m.weights), $0.error, $0.bits) < ($1.cost(weights: m.weights), $1.error, $1.bits) }
        var f: [AllocChoice] = []
        for c in sorted where f.last.map({ c.error < $0.error && c.cost(weights: m.weights) > $0.cost(weights: m.weights) }) ?? true { f.append(c) }
        return f
    }
    let totalWeights = modules.reduce(0) { $0 + $1.weights }
    let cap = budget * Double(totalWeights)
    var cur = [Int](repeating: 0, count: modules.count)
    var spent = zip(modules, frontier).reduce(0) { $0 + $1.1[0].cost(weights: $1.0.weights) }
    guard Double(spent) <= cap else {
        throw QuantError(String(format: "the budget %.4g bits per weight is below the cheapest choices (%.4f bits per weight)",
                                budget, Double(spent) / Double(totalWeights)), origin: .options)
    }
    while true {
        var best: (i: Int, j: Int, ratio: Double)?
        for (i, m) in modules.enumerated() {
            let f = frontier[i], c0 = f[cur[i]]
            for j in (cur[i] + 1)..<f.count {
                let dc = f[j].cost(weights: m.weights) - c0.cost(weights: m.weights)
                guard Double(spent + dc) <= cap else { continue }
                let ratio = (c0.error - f[j].error) / Double(dc)
                if best == nil || ratio > best!.ratio { best = (i, j, ratio) }
            }
        }
        guard let b = best else { break }
        spent += frontier[b.i][b.j].cost(weights: modules[b.i].weights) - frontier[b.i][cur[b.i]].cost(weights: modules[b.i].weights)
        cur[b.i] = b.j
    }
    var out: [LinearID: AllocChoice] = [:]
    var err = 0.0
    for (i, m) in modules.enumerated() {
        out[m.id] = frontier[i][cur[i]]
        err += frontier[i][cur[i]].error
    }
    return Allocation(choices: out, bitsPerWeight: Double(spent) / Double(totalWeights), error: err)
}

/// Each module's sensitivity at every bit width of `bits` and dimension of `dims`: the RTN
/// weights' output error on the calibration inputs whose Hessian sums `hessians` holds,
/// summed over the module's outputs, `tr(ΔW·Σxxᵀ·ΔWᵀ) / N` (`outputMSE` times the output
/// count), with the given group size, grid and clip search. `relative`: that error over the
/// module's own output energy `tr(W·Σxxᵀ·Wᵀ) / N`, so that every module's fidelity counts alike.
public func measureSensitivities(_ model: LlamaModel, modules ids: [LinearID], hessians: CalibrationHessians, bits: [Int],
                                 group: Int, dims: [QuantDim], grid: GridKind = .minmax, clip: ClipSearch = .none,
                                 relative: Bool = false,
                                 progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> [AllocModule] {
    var out: [AllocModule] = []
    for (i, id) in ids.enumerated() {
        if shouldStop?() == true { throw CancellationError() }
        let w = model[id], h = hessians.hessian(id)
        let imp = clip.mode == .weighted ? h.diagonal().map(Float.init) : nil
        var choices: [AllocChoice] = []
        let energy = relative ? outputMSE(w, Tensor(zeros: w.shape), hessian: h) : 1
        guard energy > 0 else { throw QuantError("\(id) has no output energy on the calibration inputs", origin: .calibration) }
        for b in bits {
            for d in dims {
                let q = try quantizeRTN(w, QuantSpec(bits: b, group: group, dim: d, grid: grid, clip: clip), importance: imp, name: "\(id)")
                choices.append(AllocChoice(bits: b, dim: d, groups: q.scales.count,
                                           error: outputMSE(w, q.dequantized, hessian: h) * (relative ? 1 / energy : Double(w.shape[0]))))
            }
        }
        out.append(AllocModule(id: id, weights: w.count, choices: choices))
        progress?(i + 1, ids.count)
    }
    return out
}
