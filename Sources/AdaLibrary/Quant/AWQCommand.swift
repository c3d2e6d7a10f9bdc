import AdaLang
import AdaModel
import AdaQuant

// `awq`: activation-aware scaling as a model transformation, so that `quantize` (any method,
// dimension, clip search or plan) runs on its result.

extension QuantLibrary {
    static var awqCommand: Builtin {
        Builtin(
            name: "awq", category: "quantize",
            summary: "Activation-aware scaling: scale each module's input channels by mean|x|^α (α searched), folded so the model computes the same function.",
            help: """
            For each block and each group of modules reading one input (q/k/v: the normed block input; o: the attention context; gate/up: the normed residual; down: the MLP activation), the scales s = mean|x|^α of the calibration inputs (normalized to √(max·min) = 1) are tried for α = 0, 1/alpha_grid, …, 1; each α is judged by the summed output error of the group's modules after RTN (bits, group, dim, grid) of W·diag(s) with inputs divided by s, on the block's full-precision inputs (α = 0 is no scaling, so the search never loses on this criterion). The chosen scales are folded: the modules' input columns times s, and 1/s into what produces their input: attn_norm's weight for q/k/v, ffn_norm's for gate/up, up's rows for down (act(gate)·up is elementwise), v's rows for o (query heads sharing a KV head share v's rows, so their activations are averaged into one scale per v row). The result is a model with the same full-precision outputs (up to float rounding); quantize it as usual. Gemma 3's norms multiply their stored weights, its GeGLU is elementwise and its post-norms follow o and down, so the same folding holds there. With dim=ic the model is returned unchanged (α = 0 everywhere): scaling an input column scales each of its per-IC groups uniformly, so no α changes RTN's error, and the o and down scales, folded into v's and up's rows, would mix different scales into those modules' per-IC groups (on SmolLM2 at w3 g128 that took per-IC RTN from 227.8 to 3902). For AdaDim, search with dim=oc.
            """,
            examples: ["m2 = awq m calib bits=3 group=128\nq = quantize m2 method=gptq bits=3 group=128 dim=ada calib=calib",
                       "a = awq m calib alpha_grid=10\nprint a.name"],
            params: [Param("model", .model, doc: "the full-precision model"),
                     Param("calib", .dataset, doc: "calibration windows (inputs of every block)"),
                     Param("bits", .int, default: .int(3), doc: "bits of the RTN the search judges with, 2…8"),
                     Param("group", .int, default: .int(128), doc: "its group size; 0: per-channel"),
                     Param("dim", choice: QuantDim.self, default: .oc, doc: "its grouping dimension (use the one you will quantize in; for AdaDim, oc)"),
                     Param("grid", choice: GridKind.self, default: .minmax, doc: "its grid"),
                     Param("alpha_grid", .int, default: .int(20), doc: "α steps: α = i/alpha_grid, i = 0…alpha_grid"),
                     Param("include_o", .bool, default: .bool(true), doc: "also scale o's inputs (folded into v's rows)")],
            returns: "a model (the folded weights; fields as a loaded model's)",
            run: { a, ctx in
                let (m, name) = try a.modelArg("model")
                let windows = try a.datasetArg("calib").windows
                guard !windows.isEmpty else { throw a.error("calib", "awq needs calibration windows") }
                let spec = QuantSpec(bits: try a.int("bits", min: 2, max: 8), group: try a.int("group", min: 0),
                                     dim: try a.choice("dim", as: QuantDim.self), grid: try a.choice("grid", as: GridKind.self))
                let opts = AWQOptions(spec: spec, alphaGrid: try a.int("alpha_grid", min: 1, max: 1000), includeO: try a.bool("include_o"))
                let r = try engine(a, "group") {
                    try awqScale(m, calibration: windows, options: opts, progress: { d, t in ctx.progress("awq: block", d, t) },
                                 shouldStop: ctx.shouldStop)
                }
                return .object(LoadedModel(model: r.model, name: "\(name) + awq \(spec)"))
            })
    }
}
