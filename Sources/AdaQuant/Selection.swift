import AdaModel
import AdaTensor

/// AdaDim's block criterion for one block (docs/reference.md §1.3): greedy over q, k, v, o, gate, up,
/// down; each module's two candidates (its per-OC and per-IC RTN weights, earlier choices
/// applied) are judged by the mean squared error of the block-level target against the
/// current reference on the selection windows: the attention output for q/k/v, the MLP
/// output for gate/up, the module's own output for o and down.
///
/// Equal, up to float rounding, to recomputing `blockTarget` for each candidate, but each
/// candidate only recomputes what it changes: the projections of the current choices (after
/// RoPE) are kept per window, so a q, k or v candidate costs one projection, the attention and
/// o; an o candidate one GEMM on the fixed context; a gate or up candidate one projection,
/// the SwiGLU and down; a down candidate one GEMM on the fixed activation.
///
/// Only the kinds in `candidates` are judged (and returned); each kind's two candidates are
/// made when its turn comes, so one module's pair is held at a time. A kind in `fixed` (a module
/// whose dimension the plan fixes) is applied with that weight at its turn, as if chosen; a
/// kind in neither stays at full precision.
func blockCriterionChoices(model: LlamaModel, block fp: LlamaBlock,
                           candidates: [LinearKind: () throws -> (oc: Tensor, ic: Tensor)], fixed: [LinearKind: Tensor] = [:],
                           attnIns: [Tensor], mlpIns: [Tensor], rope: RoPETable,
                           shouldStop: (() -> Bool)?) throws
    -> (dims: [LinearKind: QuantDim], errors: [LinearKind: (Double, Double)]) {
    let parts = BlockParts(model: model, block: fp, rope: rope)
    let (proj, attend, act) = (parts.proj, parts.attend, parts.act)
    let n = attnIns.count
    var dims: [LinearKind: QuantDim] = [:]
    var errs: [LinearKind: (Double, Double)] = [:]
    var cur = fp
    // Current projections per window (q and k after RoPE; gate and up before SwiGLU).
    var qs = attnIns.map { proj($0, fp.q, .q) }
    var ks = attnIns.map { proj($0, fp.k, .k) }
    var vs = attnIns.map { proj($0, fp.v, .v) }
    var ref = (0..<n).map { Forward.linear(attend(qs[$0], ks[$0], vs[$0]), fp.o) }
    var ctxs: [Tensor] = []
    var gs: [Tensor] = [], us: [Tensor] = []
    var acts: [Tensor] = []

    for kind in LinearKind.allCases {
        if shouldStop?() == true { throw CancellationError() }
        if kind == .o {
            ctxs = (0..<n).map { attend(qs[$0], ks[$0], vs[$0]) }
            qs = []; ks = []; vs = []
        }
        if kind == .gate {
            gs = mlpIns.map { Forward.linear($0, fp.gate) }
            us = mlpIns.map { Forward.linear($0, fp.up) }
            ref = (0..<n).map { Forward.linear(act(gs[$0], us[$0]), fp.down) }
        }
        if kind == .down {
            acts = (0..<n).map { act(gs[$0], us[$0]) }
            gs = []; us = []
        }
        // The block-level target with weight `w` for this kind, on window `i`.
        let target = { (w: Tensor, i: Int) -> Tensor in
            switch kind {
            case .q: return Forward.linear(attend(proj(attnIns[i], w, .q), ks[i], vs[i]), cur.o)
            case .k: return Forward.linear(attend(qs[i], proj(attnIns[i], w, .k), vs[i]), cur.o)
            case .v: return Forward.linear(attend(qs[i], ks[i], proj(attnIns[i], w, .v)), cur.o)
            case .o: return Forward.linear(ctxs[i], w)
            case .gate: return Forward.linear(act(Forward.linear(mlpIns[i], w), us[i]), cur.down)
            case .up: return Forward.linear(act(gs[i], Forward.linear(mlpIns[i], w)), cur.down)
            case .down: return Forward.linear(acts[i], w)
            }
        }
        let w: Tensor
        if let make = candidates[kind] {
            let cand = try make()
            let outs = [cand.oc, cand.ic].map { w in (0..<n).map { target(w, $0) } }
            var e = (0.0, 0.0)
            for i in 0..<n { e.0 += mse(outs[0][i], ref[i]); e.1 += mse(outs[1][i], ref[i]) }
            e.0 /= Double(max(n, 1)); e.1 /= Double(max(n, 1))
            errs[kind] = e
            let d: QuantDim = e.1 < e.0 ? .ic : .oc
            dims[kind] = d
            w = d == .ic ? cand.ic : cand.oc
            ref = d == .ic ? outs[1] : outs[0]
        } else if let f = fixed[kind] {
            w = f
            ref = (0..<n).map { target(f, $0) }
        } else {
            continue   // kept at full precision: the current weights and reference stand
        }
        cur[kind] = w
        // The chosen candidate's projection becomes the current one.
        switch kind {
        case .q: qs = attnIns.map { proj($0, w, .q) }
        case .k: ks = attnIns.map { proj($0, w, .k) }
        case .v: vs = attnIns.map { proj($0, w, .v) }
        case .gate: gs = mlpIns.map { Forward.linear($0, w) }
        case .up: us = mlpIns.map { Forward.linear($0, w) }
        case .o, .down: break
        }
    }
    return (dims, errs)
}

/// The pieces of a block's forward pass that the criterion recombines (the family's QK-norm,
/// RoPE, attention window and activation, from the model's spec and the block's norms).
private struct BlockParts {
    let model: LlamaModel
    let block: LlamaBlock
    let rope: RoPETable

    /// `x·wᵀ`, with QK-norm and RoPE applied for q and k.
    func proj(_ x: Tensor, _ w: Tensor, _ kind: LinearKind) -> Tensor {
        kind == .q || kind == .k ? model.rotated(kind, x, w, block: block, rope: rope) : Forward.linear(x, w)
    }

    /// Causal attention of projected (and rotated) q, k, v: the context fed to o.
    func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor { model.attend(q, k, v, layer: block.index) }

    /// `act(g) ⊙ u`: the activation fed to down.
    func act(_ g: Tensor, _ u: Tensor) -> Tensor { model.activate(g, u) }
}
