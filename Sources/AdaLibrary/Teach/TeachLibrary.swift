import AdaLang
import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// A step-by-step explanation of quantization (from `explain`): text, tables and a plot,
/// with the numbers as fields.
public final class ExplainValue: EngineValue {
    public let parts: [RichOutput]
    public let data: Record
    public let plot: PlotValue?
    public let heading: String

    init(heading: String, parts: [RichOutput], data: Record, plot: PlotValue?) {
        self.heading = heading
        self.parts = parts
        self.data = data
        self.plot = plot
    }

    public var typeName: String { "explanation" }
    public var summary: String { "<explanation: \(heading)>" }
    /// The text parts wrapped to the display width, the table, the plot.
    public func outputs(_ style: DisplayStyle) -> [RichOutput] {
        parts.map { p -> RichOutput in
            if case .text(let t) = p { return .text(wrapLines(t, width: style.width)) }
            return p
        } + (plot.map { [.graphic($0)] } ?? [])
    }
    public var fieldNames: [String] { data.keys + (plot == nil ? [] : ["plot"]) }
    public func field(_ name: String) -> Value? {
        if name == "plot", let p = plot { return .object(p) }
        return data[name]
    }
}

/// A list of numbers as a short line: all of them when few, else the first and last.
func numberLine(_ xs: [Double], width: Int = 74, ellipsis: String = "…") -> String {
    let f = NumberFormat.choose(xs)
    let all = xs.map { f.format($0) }.joined(separator: "  ")
    if textWidth(all) <= width { return all }
    let tail = "  " + ellipsis + "  " + xs.suffix(2).map { f.format($0) }.joined(separator: "  ")
    var s = ""
    for x in xs {
        let piece = (s.isEmpty ? "" : "  ") + f.format(x)
        if textWidth(s) + textWidth(piece) + textWidth(tail) > width { break }
        s += piece
    }
    return s + tail
}

/// The median of some numbers (0 when empty).
func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return 0 }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The elements of the group holding (r, c), and a phrase saying where it is.
func groupElements(rows: Int, cols: Int, g: Int, dim: QuantDim, at: (Int, Int)) -> ([(Int, Int)], String) {
    let (r, c) = at
    if dim == .oc {
        let lo = (c / g) * g, hi = min(lo + g, cols)
        let where_ = (rows == 1 ? "" : "row \(r), ") + (hi - lo == cols ? "all \(cols) columns" : "columns \(lo)…\(hi - 1)") + " (one output, \(hi - lo) inputs)"
        return ((lo..<hi).map { (r, $0) }, where_)
    }
    let lo = (r / g) * g, hi = min(lo + g, rows)
    let where_ = "column \(c), " + (hi - lo == rows ? "all \(rows) rows" : "rows \(lo)…\(hi - 1)") + " (one input, \(hi - lo) outputs)"
    return ((lo..<hi).map { ($0, c) }, where_)
}

/// Steps 3 and 4 of `explain` on a group: how the grid's scale and zero point are found.
func gridSteps(_ gp: GroupParams, grid: GridKind, bits: Int, mn: Float, mx: Float, rawZero: Double) -> [String] {
    let maxq = Float((1 << bits) - 1)
    var out: [String] = []
    switch grid {
    case .minmax, .reference:
        out.append("3. the step between levels:")
        out.append("     scale = (max − min) / (2^\(bits) − 1) = \(short(Double(mx - mn))) / \(Int(maxq)) = \(short(Double(gp.scale)))")
        out.append("4. the zero point, the code that stands for 0.0:")
        out.append("     zero = round(−min / scale) = round(\(short(rawZero))) = \(short(rawZero.rounded(.toNearestOrEven)))"
                    + (grid == .reference && Double(gp.zero) != rawZero.rounded(.toNearestOrEven) ? ", clamped to 0…\(Int(maxq)): \(short(Double(gp.zero)))" : ""))
    case .floatzero:
        out.append("3. the step between levels:")
        out.append("     scale = (max − min) / (2^\(bits) − 1) = \(short(Double(gp.scale)))")
        out.append("4. a real-valued zero point:")
        out.append("     zero = −min / scale = \(short(Double(gp.zero)))")
    case .gptq:
        out.append("3. GPTQ's grid widens the range to include 0:")
        out.append("     scale = (max(max, 0) − min(min, 0)) / \(Int(maxq)) = \(short(Double(gp.scale)))")
        out.append("4. the zero point:")
        out.append("     zero = round(−min(min, 0) / scale) = \(short(Double(gp.zero)))")
    case .symmetric:
        out.append("3. a symmetric grid:")
        out.append("     scale = 2·max|w| / (2^\(bits) − 1) = \(short(Double(gp.scale)))")
        out.append("4. the zero point sits in the middle:")
        out.append("     zero = \(short(Double(gp.zero)))")
    }
    return out
}

/// `explain` on one group: every step of round-to-nearest, in text, a table and a histogram.
func explainGroup(_ w: Tensor, bits: Int, group: Int, dim: QuantDim, grid: GridKind, at: (Int, Int), name: String) throws -> ExplainValue {
    let (rows, cols) = (w.shape[0], w.shape[1])
    let spec = QuantSpec(bits: bits, group: group, dim: dim, grid: grid)
    let g = try spec.validate(rows: rows, cols: cols)
    let (r, c) = at
    guard r >= 0 && r < rows && c >= 0 && c < cols else {
        throw BuiltinError("at=[\(r), \(c)] is outside the tensor \(w.shape)", argument: "at")
    }
    let (idx, where_) = groupElements(rows: rows, cols: cols, g: g, dim: dim, at: (r, c))
    let values = idx.map { Double(w.data[$0.0 * cols + $0.1]) }
    let fvalues = idx.map { w.data[$0.0 * cols + $0.1] }
    let mn = fvalues.min()!, mx = fvalues.max()!
    let gp = GroupParams.fit(min: mn, max: mx, bits: bits, grid: grid)
    let maxq = spec.maxq
    let nLevels = 1 << bits
    let codes = fvalues.map { gp.code($0, maxq: maxq) }
    let deq = codes.map { Double(gp.dequant($0)) }
    let err = zip(deq, values).map { $0 - $1 }
    let mse = err.reduce(0) { $0 + $1 * $1 } / Double(err.count)
    let power = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
    let maxErr = err.map(abs).max() ?? 0
    let levels = (0..<nLevels).map { Double(gp.dequant(Float($0))) }
    let dimName = dim == .oc ? "per-OC" : "per-IC"
    let rawZero = Double(-mn / gp.scale)

    var head: [String] = []
    head.append("explain: \(bits)-bit round-to-nearest of one group (grid \(grid.rawValue))")
    head.append("  \(name), \(dimName) groups of \(g): \(where_)")
    head.append("")
    head.append("1. the group's \(values.count) values:")
    head.append("     " + numberLine(values))
    head.append("2. their range:  min = \(short(Double(mn)))   max = \(short(Double(mx)))")
    head += gridSteps(gp, grid: grid, bits: bits, mn: mn, mx: mx, rawZero: rawZero)
    head.append("5. the grid: 2^\(bits) = \(nLevels) levels, ŵ = (q − zero) · scale:")
    let lf = NumberFormat.choose(levels)
    let shownLevels = nLevels <= 16 ? Array(0..<nLevels) : Array(0..<6) + [-1] + Array((nLevels - 6)..<nLevels)
    let lw = max(3, shownLevels.map { $0 < 0 ? 1 : textWidth(lf.format(levels[$0])) }.max() ?? 3)
    head.append("     q  " + shownLevels.map { padLeft($0 < 0 ? "…" : String($0), lw) }.joined(separator: "  "))
    head.append("     ŵ  " + shownLevels.map { padLeft($0 < 0 ? "…" : lf.format(levels[$0]), lw) }.joined(separator: "  "))
    if grid == .reference && Double(gp.zero) != rawZero.rounded(.toNearestOrEven) {
        head.append("   the reference grid clamps the zero point, so this group's levels no longer cover its range:")
        head.append("   values beyond the last level are clipped (grid=minmax keeps the zero point unclamped)")
    }
    head.append("6. each value goes to the nearest level" + (values.count > 12 ? " (the first 12 of \(values.count)):" : ":"))
    head.append("     q = clamp(round(w / scale) + zero, 0, \(Int(maxq)))")
    var t = Table(columns: ["w", "w/scale", "q", "ŵ", "ŵ − w"])
    for i in 0..<min(12, values.count) {
        t.rows.append([.number(values[i]), .number(values[i] / Double(gp.scale)), .int(Int(codes[i])), .number(deq[i]), .number(err[i])])
    }
    var tail: [String] = []
    var used: [Int: Int] = [:]
    for q in codes { used[Int(q), default: 0] += 1 }
    tail.append("   codes used: " + (0..<nLevels).filter { used[$0] != nil }.map { "\($0)×\(used[$0]!)" }.joined(separator: " ")
                + "  (\(used.count) of \(nLevels) levels)")
    let clipped = zip(values, deq).filter { abs($0 - $1) > Double(gp.scale) / 2 * 1.0001 }.count
    tail.append("7. the rounding error ŵ − w:")
    tail.append("     max |ŵ − w| = \(short(maxErr))"
                + (clipped == 0 ? " (at most scale/2 = \(short(Double(gp.scale) / 2)) when nothing is clipped)" : ", \(clipped) values clipped beyond the grid's ends"))
    let sqnr = mse > 0 ? 10 * log10(power / mse) : .infinity
    tail.append("     MSE = \(short(mse)), \(short(100 * mse / max(power, 1e-300), 3))% of the values' mean square (SQNR \(short(sqnr, 3)) dB)")

    let plot = PlotValue(kind: .hist, title: "\(dimName) group of \(name): values and the \(nLevels) levels", xlabel: "weight value", ylabel: "count")
    (plot.binEdges, plot.counts) = histogram(values, bins: values.count <= 16 ? 24 : 40, including: levels)
    plot.levels = levels

    let data = Record([
        ("values", .list(values.map(Value.number))), ("min", .number(Double(mn))), ("max", .number(Double(mx))),
        ("scale", .number(Double(gp.scale))), ("zero", .number(Double(gp.zero))), ("levels", .list(levels.map(Value.number))),
        ("codes", .list(codes.map { .int(Int($0)) })), ("dequantized", .list(deq.map(Value.number))),
        ("error", .list(err.map(Value.number))), ("mse", .number(mse)), ("max_error", .number(maxErr)), ("clipped", .int(clipped)),
    ])
    return ExplainValue(heading: "\(bits)-bit \(dimName) group of \(name)",
                        parts: [.text(head.joined(separator: "\n")), .table(t), .text(tail.joined(separator: "\n"))], data: data, plot: plot)
}

/// `explain` on a layer: per-OC and per-IC groups around one input channel.
func explainContrast(_ w: Tensor, channel j: Int, bits: Int, group: Int, grid: GridKind, xrms: [Double]?, name: String, why: String) throws -> ExplainValue {
    let (rows, cols) = (w.shape[0], w.shape[1])
    guard j >= 0 && j < cols else { throw BuiltinError("channel \(j) is outside the layer's \(cols) input channels", argument: "channel") }
    let qo = try quantizeRTN(w, QuantSpec(bits: bits, group: group, dim: .oc, grid: grid))
    let qi = try quantizeRTN(w, QuantSpec(bits: bits, group: group, dim: .ic, grid: grid))
    let go = qo.groupSize, gi = qi.groupSize
    // Column magnitudes.
    var colMax = [Double](repeating: 0, count: cols)
    for r in 0..<rows { for c in 0..<cols { colMax[c] = max(colMax[c], Double(abs(w.data[r * cols + c]))) } }
    let med = median(colMax)
    // Errors per column.
    func colErr(_ q: QuantizedTensor) -> [Double] {
        var e = [Double](repeating: 0, count: cols)
        for r in 0..<rows { for c in 0..<cols { let d = Double(q.dequantized.data[r * cols + c] - w.data[r * cols + c]); e[c] += d * d } }
        return e.map { $0 / Double(rows) }
    }
    let eo = colErr(qo), ei = colErr(qi)
    let lo = (j / go) * go, hi = min(lo + go, cols)
    let neighbours = (lo..<hi).filter { $0 != j }
    func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
    // Scales of the groups holding channel j.
    let scO = (0..<rows).map { Double(qo.scales.data[$0 * qo.scales.cols + j / go]) }
    let scI = (0..<qi.scales.rows).map { Double(qi.scales.data[$0 * cols + j]) }
    let otherO = (0..<qo.scales.count).map { Double(qo.scales.data[$0]) }
    let otherI = (0..<qi.scales.rows).flatMap { r in (0..<cols).filter { $0 != j }.map { Double(qi.scales.data[r * cols + $0]) } }

    var head: [String] = []
    head.append("explain: per-OC vs per-IC groups around input channel \(j) of \(name) (\(bits)-bit, groups of \(group == 0 ? "a whole row/column" : String(group)), grid \(grid.rawValue))")
    head.append("  weight [\(rows) out, \(cols) in]; channel \(j) \(why)")
    head.append("  column \(j): max|w| = \(short(colMax[j])), \(short(colMax[j] / max(med, 1e-30), 3))× the median column's \(short(med))")
    head.append("  per-OC: channel \(j) shares each row's group with columns \(lo)…\(hi - 1), so its weights set those \(rows) groups' ranges")
    head.append("  per-IC: channel \(j) has groups of its own (column \(j), \(gi) rows each): its range touches no other channel")
    var t = Table(columns: ["", "per-OC", "per-IC"], title: "")
    t.rows.append([.string("mean scale of channel \(j)'s groups"), .number(mean(scO)), .number(mean(scI))])
    t.rows.append([.string("mean scale of the other groups"), .number(mean(otherO)), .number(mean(otherI))])
    t.rows.append([.string("weight MSE on channel \(j)"), .number(eo[j]), .number(ei[j])])
    t.rows.append([.string("weight MSE on columns \(lo)…\(hi - 1) except \(j)"), .number(mean(neighbours.map { eo[$0] })), .number(mean(neighbours.map { ei[$0] }))])
    t.rows.append([.string("weight MSE, whole layer"), .number(mean(eo)), .number(mean(ei))])
    var data: [(String, Value)] = [
        ("channel", .int(j)), ("column_max", .number(colMax[j])), ("median_column_max", .number(med)),
        ("mse_oc", .number(mean(eo))), ("mse_ic", .number(mean(ei))), ("channel_mse_oc", .number(eo[j])), ("channel_mse_ic", .number(ei[j])),
    ]
    var tail: [String] = []
    if let x = xrms, x.count == cols {
        // Output error ≈ Σ_c E[x_c²] · Σ_r Δw[r,c]² (the diagonal of the input covariance).
        let po = (0..<cols).map { eo[$0] * x[$0] * x[$0] }, pi = (0..<cols).map { ei[$0] * x[$0] * x[$0] }
        let so = po.reduce(0, +), si = pi.reduce(0, +)
        t.rows.append([.string("output error ≈ Σ E[x²]·MSE (layer)"), .number(so), .number(si)])
        t.rows.append([.string("share of channel \(j) in it"), .number(po[j] / max(so, 1e-300)), .number(pi[j] / max(si, 1e-300))])
        data += [("output_oc", .number(so)), ("output_ic", .number(si))]
        tail.append("  channel \(j)'s activations: rms \(short(x[j])), \(short(x[j] / max(median(x), 1e-30), 3))× the median channel: its weight error counts \(short((x[j] / max(median(x), 1e-30)) * (x[j] / max(median(x), 1e-30)), 3))× more in the output.")
        let better = si < so ? "per-IC" : "per-OC"
        tail.append("  here \(better) gives the smaller output error (\(short(min(so, si)))) than \(better == "per-IC" ? "per-OC" : "per-IC") (\(short(max(so, si)))): AdaDim would pick \(better == "per-IC" ? "I" : "O") for this layer by a criterion like this one.")
    } else {
        let better = mean(ei) < mean(eo) ? "per-IC" : "per-OC"
        tail.append("  without activations (acts=) only the weight error is compared: \(better) is smaller here; the output error weighs channel \(j) by its activations.")
    }
    // Heatmaps of |error| around the channel.
    let c0 = max(0, min(j - 48, cols - 96)), c1 = min(cols, c0 + 96)
    func window(_ q: QuantizedTensor) -> Tensor {
        var d: [Float] = []
        d.reserveCapacity(rows * (c1 - c0))
        for r in 0..<rows { for c in c0..<c1 { d.append(abs(q.dequantized.data[r * cols + c] - w.data[r * cols + c])) } }
        return Tensor(shape: [rows, c1 - c0], data: d)
    }
    let plot = PlotValue(kind: .heatmap, title: "|ŵ − w| of \(name), input channels \(c0)…\(c1 - 1) (channel \(j) at column \(j - c0))",
                         xlabel: "input channel − \(c0)", ylabel: "output channel")
    plot.panels = [HeatPanel(title: "per-OC", tensor: window(qo)), HeatPanel(title: "per-IC", tensor: window(qi))]
    return ExplainValue(heading: "per-OC vs per-IC around channel \(j) of \(name)",
                        parts: [.text(head.joined(separator: "\n")), .table(t), .text(tail.joined(separator: "\n"))],
                        data: Record(data), plot: plot)
}

/// Teaching: explain, gptq (one layer's GPTQ step by step).
public enum TeachLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(explainCommand)
        r.register(gptqCommand)
    }

    static var explainCommand: Builtin {
        Builtin(
            name: "explain", category: "teach",
            summary: "Quantization step by step: one group of a tensor (range, scale, zero point, grid, codes, error), or per-OC vs per-IC around an outlier channel of a layer.",
            help: """
            On a tensor: takes the group that holds element at=[row, col] (per-OC: g consecutive columns of that row; per-IC: g consecutive rows of that column) and shows every step of round-to-nearest with its numbers: the values, min and max, scale, zero point, the 2^bits grid levels, the code of each value, the rounding error; then a histogram of the values with the levels marked. A 1-D tensor is one row. group=none takes the whole row (or column) of a small tensor (up to 256 values), else 128. On a model and a layer name (or on a tensor with channel=): quantizes the layer per-OC and per-IC and compares the groups around one input channel: their scales, the weight error on the channel and on its neighbours, and, with activations (acts=), the output error each grouping causes, ending with heatmaps of |ŵ − w| side by side. The channel defaults to the layer's largest activation channel (with acts=) or its largest weight column. The numbers are fields of the result (scale, zero, levels, codes, mse, …).
            """,
            examples: ["explain (tensor [0.5, -1.2, 0.3, 2.0, -0.7]) bits=2",
                       "explain m[\"blk.3.ffn_down\"] bits=3 group=128 at=[5, 200]",
                       "e = explain (tensor [[0.5, 0.6, 0.7, 1.0]]) bits=2 grid=reference\ne.levels",
                       "explain m \"blk.11.ffn_down\" acts=acts bits=3"],
            params: [Param("value", .oneOf([.tensor, .model]), doc: "a tensor (a weight [out, in] or a 1-D vector), or a model with a layer name"),
                     Param("layer", .string, default: .none, doc: "with a model: the layer (blk.N.KIND)"),
                     Param("bits", .int, default: .int(3), doc: "2…8"),
                     Param("group", .int, default: .none, doc: "group size; 0: per-channel; none: the whole row of a small tensor, else 128"),
                     Param("dim", choice: QuantDim.self, default: .oc, doc: "one group: its dimension"),
                     Param("grid", choice: GridKind.self, default: .minmax, doc: "the grid"),
                     Param("at", .list(.int), default: .list([.int(0), .int(0)]), doc: "one group: an element [row, col] in the group (a 1-D tensor: [0, i])"),
                     Param("channel", .int, default: .none, doc: "compare per-OC and per-IC around this input channel"),
                     Param("acts", .oneOf([.object("activations"), .table]), default: .none, doc: "activations (from capture) or a layer's channel table, to weigh errors by E[x²]")],
            returns: "an explanation (fields: per group values, min, max, scale, zero, levels, codes, dequantized, error, mse; per layer mse_oc, mse_ic, …; plot)",
            run: { a, _ in
                let bits = try a.int("bits", min: 2, max: 8)
                let grid = try a.choice("grid", as: GridKind.self)
                let (w, name, layerName) = try explainWeight(a)
                let (rows, cols) = (w.shape[0], w.shape[1])
                let (xrms, xmax) = try explainActivations(a, layer: layerName, cols: cols)
                let contrast = a.isGiven("channel") || layerName != nil
                if contrast {
                    let group = try a.optionalInt("group", min: 0) ?? 128
                    var j: Int
                    var why: String
                    if let c = try a.optionalInt("channel") {
                        j = c
                        why = "(given)"
                    } else if let xm = xmax {
                        j = xm.indices.max { xm[$0] < xm[$1] }!
                        why = "has the largest activations (max|x| \(short(xm[j])), \(short(xm[j] / max(median(xm), 1e-30), 3))× the median channel)"
                    } else {
                        var colMax = [Float](repeating: 0, count: cols)
                        for r in 0..<rows { for c in 0..<cols { colMax[c] = max(colMax[c], abs(w.data[r * cols + c])) } }
                        j = colMax.indices.max { colMax[$0] < colMax[$1] }!
                        why = "has the largest weights (pass acts= to pick by activations)"
                    }
                    return .object(try engine(a, "group") {
                        try explainContrast(w, channel: j, bits: bits, group: group, grid: grid, xrms: xrms, name: name, why: why)
                    })
                }
                let at = (a["at"].list ?? []).compactMap(\.integer)
                guard at.count == 2 else { throw a.error("at", "at= is [row, col]") }
                let dim = try a.choice("dim", as: QuantDim.self)
                let along = dim == .oc ? cols : rows
                let group = try a.optionalInt("group", min: 0) ?? (w.count <= 256 ? 0 : min(128, along))
                return .object(try engine(a, "group") {
                    try explainGroup(w, bits: bits, group: group, dim: dim, grid: grid, at: (at[0], at[1]), name: name)
                })
            })
    }

    static var gptqCommand: Builtin {
        Builtin(
            name: "gptq", category: "teach",
            summary: "GPTQ on one layer, next to round-to-nearest: weight error and output error on calibration inputs.",
            help: "Collects the layer's inputs on the calibration windows (H = Σ x xᵀ), quantizes the weight with GPTQ (error compensation: each quantized column's rounding error is spread onto the columns not yet quantized, weighted by H⁻¹) and with RTN at the same settings, and reports both. GPTQ's weight MSE is usually larger than RTN's, its output MSE (what the model feels) smaller. output_mse = tr(ΔW·Σxxᵀ·ΔWᵀ)/(N·out).",
            examples: ["g = gptq m \"blk.3.ffn_down\" calib bits=3 group=128\nprint g.output_mse / g.rtn_output_mse"],
            params: [Param("model", .model, doc: "the model"), Param("layer", .string, doc: "a layer name such as blk.3.ffn_down"),
                     Param("data", .dataset, doc: "calibration windows"),
                     Param("bits", .int, default: .int(3), doc: "2…8"),
                     Param("group", .int, default: .int(128), doc: "group size; 0: per-channel"),
                     Param("dim", choice: QuantDim.self, default: .oc, doc: "grouping dimension"),
                     Param("damp", .number, default: .number(0.01), doc: "damping, fraction of the mean Hessian diagonal"),
                     Param("actorder", .bool, default: .bool(true), doc: "quantize columns by descending Hessian diagonal")],
            returns: "a record {weight_mse, output_mse, rtn_weight_mse, rtn_output_mse, error, rtn_error, dequantized, tokens}",
            run: { a, ctx in
                let (v, _) = try a.viewArg("model")
                let id = try layerArg(a, v)
                let h = try layerHessian(v, id, windows: try a.datasetArg("data").windows, ctx, label: "gptq")
                let w = v.weight(id)
                let spec = QuantSpec(bits: try a.int("bits", min: 2, max: 8), group: try a.int("group", min: 0),
                                     dim: try a.choice("dim", as: QuantDim.self))
                let opts = GPTQOptions(damp: try a.number("damp"), blockSize: 128, actOrder: try a.bool("actorder"))
                let g = try engine(a, "group") { try quantizeGPTQ(w, hessian: h, spec: spec, options: opts, shouldStop: ctx.shouldStop) }
                let rq = try engine(a, "group") { try quantizeRTN(w, spec) }
                func wmse(_ t: Tensor) -> Double {
                    var s = 0.0
                    for i in 0..<t.count { let e = Double(t.data[i] - w.data[i]); s += e * e }
                    return s / Double(max(1, t.count))
                }
                return .record(Record([
                    ("weight_mse", .number(wmse(g.dequantized))), ("output_mse", .number(outputMSE(w, g.dequantized, hessian: h))),
                    ("rtn_weight_mse", .number(wmse(rq.dequantized))), ("rtn_output_mse", .number(outputMSE(w, rq.dequantized, hessian: h))),
                    ("error", tensorValue(try g.dequantized.subtracting(w))), ("rtn_error", tensorValue(try rq.dequantized.subtracting(w))),
                    ("dequantized", tensorValue(g.dequantized)), ("tokens", .int(h.tokens)),
                ]))
            })
    }
}

/// The tensor `explain` works on: a tensor argument, or a model's layer (as a 2-D weight).
func explainWeight(_ a: Arguments) throws -> (Tensor, String, String?) {
    var w: Tensor
    var name: String
    var layerName: String?
    if case .object(let o) = a["value"], let mv = o as? any ModelValue {
        guard case .string(let l) = a["layer"] else {
            throw a.error("layer", "with a model, name a layer: explain m \"blk.3.ffn_down\"", notes: ["'layers m' lists them"])
        }
        do { w = try modelTensor(mv.view, l) } catch let e as BuiltinError { throw a.error("layer", e.message, notes: e.notes) }
        name = l
        layerName = l
    } else {
        w = try a.tensorArg("value")
        if a.isGiven("layer") { throw a.error("layer", "layer= goes with a model: explain m \"blk.3.ffn_down\"") }
        name = "tensor \(w.shape)"
    }
    if w.rank == 1 { w = Tensor(shape: [1, w.count], data: w.data) }
    guard w.rank == 2, w.count > 0 else { throw a.error("value", "explain needs a 1-D or 2-D tensor, got shape \(w.shape)") }
    guard w.data.allSatisfy({ $0.isFinite && abs($0) < 1e30 }) else {
        throw a.error("value", "explain needs finite values (below 1e30 in size): this tensor has nan, inf or huge entries")
    }
    return (w, name, layerName)
}

/// Activation scales per input channel for `explain` (acts=): RMS and max|x|, or none.
func explainActivations(_ a: Arguments, layer layerName: String?, cols: Int) throws -> ([Double]?, [Double]?) {
    // Activation scale per input channel.
    var xrms: [Double]?
    var xmax: [Double]?
    switch a["acts"] {
    case .object(let o as ActivationsValue):
        guard let l = layerName, let id = LinearID(l), let st = o.stats.byModule[id] else {
            throw a.error("acts", layerName == nil ? "with activations, name the layer: explain m \"blk.3.ffn_down\" acts=acts"
                          : "the activations have no layer '\(layerName!)'")
        }
        xrms = st.rms.map(Double.init)
        xmax = st.maxAbs.map(Double.init)
    case .object(let o as TableValue):
        guard let c = o.table.column("rms"), c.count == cols else {
            throw a.error("acts", "expected a channel table with an rms column of \(cols) rows (acts[\"blk.N.KIND\"])")
        }
        xrms = c.map { $0.number ?? 0 }
        xmax = o.table.column("max_abs")?.map { $0.number ?? 0 }
    default: break
    }
    return (xrms, xmax)
}
