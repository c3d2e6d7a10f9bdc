import AdaEval
import AdaLang
import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// Outlier statistics: capture (activations), outliers, weightstats, saliency.
public enum StatsLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(captureCommand)
        r.register(outliersCommand)
        r.register(weightstatsCommand)
        r.register(saliencyCommand)
    }

    static var captureCommand: Builtin {
        Builtin(
            name: "capture", category: "statistics", summary: "Run calibration windows through a model and collect per-input-channel statistics of every linear layer.",
            help: "Blocks are run one at a time over all windows (memory stays bounded). Layers that share an input (q/k/v, gate/up) share statistics. ^C stops between blocks.",
            examples: ["acts = capture m calib", "acts[\"blk.3.ffn_down\"]"],
            params: [Param("model", .model, doc: "the model"), Param("data", .dataset, doc: "calibration windows")],
            returns: "activations (index by layer name for a per-channel table)",
            run: { a, ctx in
                let (v, mname) = try a.viewArg("model")
                let d = try a.datasetArg("data")
                let s = try ActivationStats(view: v, windows: d.windows, shouldStop: ctx.shouldStop,
                                            progress: { ctx.progress("capture", $0, $1) })
                return .object(ActivationsValue(s, model: mname, dataset: d.name))
            })
    }

    static var outliersCommand: Builtin {
        Builtin(
            name: "outliers", category: "statistics", summary: "Input channels whose max|x| exceeds `threshold` × their layer's median, ranked across the model.",
            help: "One entry per shared input: q stands for q/k/v, gate for gate/up. ratio = max|x| / median over the layer's channels.",
            examples: ["outliers acts top=10", "o = outliers acts threshold=20\nprint len o"],
            params: [Param("acts", .object("activations"), doc: "from capture"),
                     Param("top", .int, default: .none, doc: "keep the first N; none: all"),
                     Param("threshold", .number, default: .number(6), doc: "minimum ratio to the median")],
            returns: "a table (module, channel, max_abs, ratio, kurtosis)",
            run: { a, _ in
                guard case .object(let o) = a["acts"], let acts = o as? ActivationsValue else { throw a.error("acts", "expected activations") }
                let list = outlierChannels(acts.stats, threshold: Float(try a.number("threshold")), top: try a.optionalInt("top", min: 1))
                return .object(TableValue(Table(columns: ["module", "channel", "max_abs", "ratio", "kurtosis"],
                                                rows: list.map { [.string($0.module.description), .int($0.channel), .number(Double($0.maxAbs)),
                                                                  .number(Double($0.ratio)), .number(Double($0.kurtosis))] },
                                                title: "outlier input channels (max|x| > \(try a.number("threshold")) × median)")))
            })
    }

    static var weightstatsCommand: Builtin {
        Builtin(
            name: "weightstats", category: "statistics", summary: "Per-row or per-column statistics of a weight: max|w|, mean|w|, RMS, kurtosis, ratio to the median.",
            examples: ["weightstats m[\"blk.3.attn_q\"] axis=cols"],
            params: [Param("tensor", .tensor, doc: "a 2-D weight [out, in]"),
                     Param("axis", .choice(["rows", "cols"]), default: .string("cols"), doc: "rows: one entry per output channel; cols: per input channel")],
            returns: "a table",
            run: { a, _ in
                let w = try a.tensorArg("tensor")
                let rows = try a.string("axis") == "rows"
                let s = try engine(a, "tensor") { try weightStats(w, axis: rows ? 1 : 0) }
                return .object(TableValue(channelTable(s, title: nil, label: rows ? "row" : "col")))
            })
    }

    static var saliencyCommand: Builtin {
        Builtin(
            name: "saliency", category: "statistics", summary: "GPTQ saliency w²/[H⁻¹]ᵢᵢ of every weight of a layer, with H from calibration inputs.",
            examples: ["s = saliency m \"blk.3.ffn_down\" calib\nshape s"],
            params: [Param("model", .model, doc: "the model"), Param("layer", .string, doc: "a layer name such as blk.3.ffn_down"),
                     Param("data", .dataset, doc: "calibration windows")],
            returns: "a tensor [out, in]",
            run: { a, ctx in
                let (v, _) = try a.viewArg("model")
                let id = try layerArg(a, v)
                let h = try layerHessian(v, id, windows: try a.datasetArg("data").windows, ctx, label: "saliency")
                return tensorValue(try engine(a, "layer") { try gptqSaliency(v.weight(id), hessian: h) })
            })
    }
}

/// The linear layer a command's `layer` argument names in view `v`.
func layerArg(_ a: Arguments, _ v: ModelView) throws -> LinearID {
    guard let id = LinearID(try a.string("layer")), id.block >= 0, id.block < v.blockCount else {
        throw a.error("layer", "not a layer name (like blk.3.ffn_down)")
    }
    return id
}

/// The Hessian sum `Σ x xᵀ` of layer `id`'s inputs on `windows`, run block by block through the
/// view: the blocks before `id`'s, then `id`'s own, each materialized only while it runs (a
/// quantized view's layers are never copied whole). ^C stops between blocks.
func layerHessian(_ v: ModelView, _ id: LinearID, windows: [[Int32]], _ ctx: Context, label: String) throws -> Hessian {
    let stream = BlockStream(model: v.base, windows: windows)
    while stream.block < id.block {
        try ctx.checkCancelled()
        ctx.progress("\(label): inputs", stream.block, id.block + 1)
        stream.advance(weights: v.overlay.isEmpty ? nil : v.block(stream.block))
    }
    var h = Hessian(size: v.base[id].shape[1])
    stream.trace(weights: v.overlay.isEmpty ? nil : v.block(id.block)) { _, tr, _ in h.add(tr.input(of: id.kind)) }
    return h
}
