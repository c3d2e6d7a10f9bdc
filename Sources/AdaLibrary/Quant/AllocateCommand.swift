import AdaLang
import AdaModel
import AdaQuant
import Foundation

// `allocate`: bits per module under an average bits-per-weight budget, from measured
// sensitivities, as a table that `quantize bits=TABLE dim=TABLE` replays.

extension QuantLibrary {
    static var allocateCommand: Builtin {
        Builtin(
            name: "allocate", category: "quantize",
            summary: "Choose bits (and the dimension) per module under an average bits-per-weight budget, from each module's measured sensitivity.",
            help: """
            Each selected module is quantized with RTN at every bit width of bits= in every dimension of dim= (oc, ic, or ada for both), with the given group, grid and clip search; its sensitivity in each choice is the output error on the calibration inputs summed over its outputs, tr(ΔW·Σxxᵀ·ΔWᵀ)/N (the module criterion's error times the module's output count); with sensitivity=relative, that error divided by the module's own output energy tr(W·Σxxᵀ·Wᵀ)/N, so that each module's relative fidelity counts alike. Storage is counted as the bpw field of a quantized model counts it: bits per weight for the codes plus a 16-bit scale and a 16-bit zero per group, averaged over the selected modules' weights. Every module starts at its cheapest choice; then, while a move fits the budget, the move with the largest error reduction per added bit is made (from a module's current choice to a costlier one that errs less; ties: the earlier module). The result never exceeds the budget; a budget below the cheapest choices is an error. The table (title: the bits per weight reached) has columns layer, bits, dim, group, weights, groups, error: pass it as bits= and dim= (and group=) of quantize, with the same only=/skip=.
            """,
            examples: ["calib = text \"austen:emma\" windows=32 ctx=512\nt = allocate m calib budget=3.25 bits=[2, 3, 4] group=128\nq = quantize m method=gptq bits=t dim=t calib=calib\nprint q.bpw"],
            params: [Param("model", .model, doc: "the full-precision model"),
                     Param("calib", .dataset, doc: "calibration windows (the modules' inputs)"),
                     Param("budget", .number, doc: "average bits per weight, scales and zeros included (e.g. 3.25)"),
                     Param("bits", .list(.int), default: .list([.int(2), .int(3), .int(4)]), doc: "the bit widths to choose from, 2…8"),
                     Param("group", .int, default: .int(128), doc: "group size; 0: per-channel"),
                     Param("dim", .choice(["oc", "ic", "ada"]), default: .string("oc"), doc: "the dimension measured (ada: both, chosen with the bits)"),
                     Param("grid", choice: GridKind.self, default: .minmax, doc: "the grid"),
                     Param("sensitivity", .choice(["output", "relative"]), default: .string("output"),
                           doc: "output: the output error summed over outputs; relative: over the module's own output energy"),
                     Param("only", .oneOf([.string, .list(.string)]), default: .none, doc: "allocate only among the modules these layer patterns match"),
                     Param("skip", .oneOf([.string, .list(.string)]), default: .none, doc: "leave the modules these layer patterns match out")]
                + clipParams,
            returns: "a table by layer (layer, bits, dim, group, weights, groups, error)",
            run: { a, ctx in
                let (m, _) = try a.modelArg("model")
                let windows = try a.datasetArg("calib").windows
                guard !windows.isEmpty else { throw a.error("calib", "allocate needs calibration windows") }
                let budget = try a.number("budget")
                guard budget.isFinite, budget > 0 else { throw a.error("budget", "'budget' must be a positive number of bits per weight, got \(budget)") }
                let bits = try allocationBits(a)
                let group = try a.int("group", min: 0)
                let dims: [QuantDim] = try a.string("dim") == "ada" ? QuantDim.allCases : [try a.choice("dim", as: QuantDim.self)]
                let ids = try selectModules(m.linearIDs, only: try patterns(a, "only", m.linearIDs), skip: try patterns(a, "skip", m.linearIDs) ?? [])
                guard !ids.isEmpty else { throw a.error(a["skip"] != .none ? "skip" : "only", "only=/skip= leave no module to allocate") }
                let clip = try a.clipArg()
                let modules = try engine(a, "group") { () -> [AllocModule] in
                    for id in ids {
                        for d in dims {
                            let w = m[id]
                            do {
                                _ = try QuantSpec(bits: bits[0], group: group, dim: d).validate(rows: w.shape[0], cols: w.shape[1])
                            } catch let e as QuantError {
                                throw QuantError("\(id) \(w.shape[0])×\(w.shape[1]) per-\(d.rawValue.uppercased()): \(e.message)", origin: .group)
                            }
                        }
                    }
                    let h = try CalibrationHessians(model: m, calibration: windows, progress: { d, t in ctx.progress("allocate: block", d, t) },
                                                    shouldStop: ctx.shouldStop)
                    return try measureSensitivities(m, modules: ids, hessians: h, bits: bits, group: group, dims: dims,
                                                    grid: try a.choice("grid", as: GridKind.self), clip: clip,
                                                    relative: try a.string("sensitivity") == "relative",
                                                    progress: { d, t in ctx.progress("allocate: module", d, t) }, shouldStop: ctx.shouldStop)
                }
                let alloc: Allocation
                do { alloc = try allocateBits(modules, budget: budget) } catch let e as QuantError { throw a.error("budget", e.message) }
                let rows: [[Value]] = modules.map { mod in
                    let c = alloc.choices[mod.id]!
                    return [.string(mod.id.description), .int(c.bits), .string(c.dim.rawValue), .int(group), .int(mod.weights),
                            .int(c.groups), .number(c.error)]
                }
                let title = String(format: "bits per module: %.4f bits per weight (budget %g), summed error %.6g", alloc.bitsPerWeight, budget, alloc.error)
                return .object(TableValue(Table(columns: ["layer", "bits", "dim", "group", "weights", "groups", "error"], rows: rows, title: title)))
            })
    }
}

/// The distinct bit widths of `bits=`, ascending; each 2…8.
private func allocationBits(_ a: Arguments) throws -> [Int] {
    guard case .list(let l) = a["bits"], !l.isEmpty else { throw a.error("bits", "'bits' must be a non-empty list of bit widths, e.g. [2, 3, 4]") }
    var out: [Int] = []
    for v in l {
        guard let b = v.integer, (2...8).contains(b) else { throw a.error("bits", "'bits' takes bit widths 2…8, got \(v.summary)") }
        if !out.contains(b) { out.append(b) }
    }
    return out.sorted()
}
