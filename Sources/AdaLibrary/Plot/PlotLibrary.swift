import AdaLang
import AdaTensor
import Foundation

/// Numbers of a value that holds them: a list of numbers or a tensor (flattened).
func numericValues(_ v: Value) -> [Double]? {
    if let xs = numbers(v) { return xs }
    if case .object(let t as TensorValue) = v { return t.tensor.data.map(Double.init) }
    return nil
}

/// A histogram of `values` in `bins` equal bins over their range widened to `levels`.
func histogram(_ values: [Double], bins: Int, including levels: [Double]) -> (edges: [Double], counts: [Int]) {
    let xs = values.filter(\.isFinite)
    var lo = (xs + levels).min() ?? 0, hi = (xs + levels).max() ?? 1
    if lo == hi { lo -= 0.5; hi += 0.5 }
    let edges = (0...bins).map { lo + (hi - lo) * (Double($0) / Double(bins)) }
    var counts = [Int](repeating: 0, count: bins)
    for x in xs {
        let f = linearFraction(x, lo, hi)
        counts[clampInt((f.isFinite ? f : 0) * Double(bins), 0, bins - 1)] += 1
    }
    return (edges, counts)
}

/// Plots: show, plot.
public enum PlotLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(showCommand)
        r.register(plotCommand)
    }

    static var showCommand: Builtin {
        Builtin(
            name: "show", category: "display", summary: "Show values as an expression statement does (tables, plots), also inside loops and functions.",
            help: "At the top level an expression statement shows its value; inside a block or a function use show. In a notebook, tables become Markdown tables and plots SVG images.",
            examples: ["for b in [2, 3, 4] {\n  show (rtn w bits=b group=128).mse\n}", "show (plot acts[\"blk.3.ffn_down\"] y=\"max_abs\")"],
            rest: Param("values", .any, doc: "the values to show"),
            run: { a, ctx in
                for v in a.rest { ctx.interpreter.show(v) }
                return .none
            })
    }

    static var plotCommand: Builtin {
        Builtin(
            name: "plot", category: "display",
            summary: "Draw a line plot, histogram, bar chart or heatmap, in the terminal and as SVG (to=\"file.svg\").",
            help: """
            What is drawn depends on the value: a table draws column y against column x (a line; bars when x holds text), one line per value of by= (or per column when y is a list); a list of numbers or a 1-D tensor draws its values against their index; a 2-D tensor draws a heatmap; a list or record of 2-D tensors draws heatmaps side by side on one colour scale; a record of numbers draws bars. kind=hist counts the values in bins equal bins, and levels= marks values on it (a quantization grid: see `explain`). The terminal drawing uses Unicode blocks and braille dots, or ASCII when the terminal cannot show Unicode (a locale without UTF-8, ADA_ASCII=1) or with ascii=true. to= also writes the plot as an SVG file (axes, ticks, labels, title). In a notebook (ada run --notebook) the plot is an SVG image. log=true puts the values on a logarithmic scale. Heatmap cells show the max (or mean, pool=mean) of the entries they cover: plot abs(w) for |W|.
            """,
            examples: ["plot acts[\"blk.3.ffn_down\"] y=\"max_abs\" title=\"max|x| per input channel\"",
                       "plot w[0, 0:128] kind=hist bins=30 levels=(explain w).levels",
                       "plot results x=\"bits\" y=\"ppl\" by=\"method\" log=true to=\"ppl.svg\"",
                       "plot({oc: abs(r_oc.error), ic: abs(r_ic.error)}, title=\"|error| per-OC vs per-IC\")",
                       "plot t x=\"method\" y=\"ppl\""],
            params: [Param("value", .any, doc: "a table, a list of numbers, a tensor, a list or record of tensors, a record of numbers, or a plot"),
                     Param("y", .oneOf([.string, .list(.string)]), default: .none, doc: "table: the column(s) to draw; none: the only numeric column"),
                     Param("x", .string, default: .none, doc: "table: the column of x values or bar labels; none: the row number"),
                     Param("by", .string, default: .none, doc: "table: one line (or group of bars) per value of this column"),
                     Param("kind", .choice(["auto"] + PlotKind.allCases.map(\.rawValue)), default: .string("auto"), doc: "auto, line, hist, bar or heatmap"),
                     Param("title", .string, default: .none, doc: "the title; none: made from the data"),
                     Param("xlabel", .string, default: .none, doc: "the x axis label"),
                     Param("ylabel", .string, default: .none, doc: "the y axis label"),
                     Param("bins", .int, default: .int(40), doc: "histogram bins (1…1000)"),
                     Param("levels", .oneOf([.list(.number), .tensor]), default: .none, doc: "histogram: values to mark (quantization levels)"),
                     Param("titles", .list(.string), default: .none, doc: "heatmap: panel titles for a list of tensors"),
                     Param("log", .bool, default: .bool(false), doc: "logarithmic value axis", keywordOnly: true),
                     Param("pool", choice: PoolMode.self, default: .max, doc: "heatmap: max or mean of the entries a cell covers", keywordOnly: true),
                     Param("to", .string, default: .none, doc: "also write the plot as SVG to this file (.svg)", keywordOnly: true),
                     Param("ascii", .bool, default: .bool(false), doc: "draw with ASCII characters only", keywordOnly: true),
                     Param("width", .int, default: .none, doc: "terminal width in characters (30…300); none: the display width", keywordOnly: true),
                     Param("height", .int, default: .none, doc: "terminal height in rows (4…100)", keywordOnly: true)],
            returns: "a plot (fields kind, title, points, bars, bins, levels, panels, file)",
            run: { a, ctx in
                let p = try makePlot(a)
                if case .string(let t) = a["title"] { p.title = t }
                if case .string(let t) = a["xlabel"] { p.xlabel = t }
                if case .string(let t) = a["ylabel"] { p.ylabel = t }
                if a.isGiven("log") { p.logY = try a.bool("log") }
                if a.isGiven("ascii") { p.ascii = try a.bool("ascii") }
                if a.isGiven("pool") { p.pool = try a.choice("pool", as: PoolMode.self) }
                if let w = try a.optionalInt("width", min: 30, max: 300) { p.width = w }
                if let h = try a.optionalInt("height", min: 4, max: 100) { p.height = h }
                if p.logY {
                    let bad: Bool
                    switch p.kind {
                    case .line: bad = !p.series.flatMap(\.ys).contains { $0 > 0 }
                    case .bar: bad = !p.bars.contains { $0.value > 0 }
                    default: bad = false
                    }
                    if bad { throw a.error("log", "a logarithmic scale needs positive values") }
                }
                if case .string(let path) = a["to"] {
                    guard path.lowercased().hasSuffix(".svg") else { throw a.error("to", "the file name should end in .svg") }
                    do { try ctx.host.saveGraphic(p, to: path) } catch let e as BuiltinError { throw a.error("to", e.message) }
                    p.savedTo = path
                }
                return .object(p)
            })
    }
}

/// The plot a `plot` call describes (before title/label overrides).
func makePlot(_ a: Arguments) throws -> PlotValue {
    let kindWord = try a.string("kind")
    let want: PlotKind? = PlotKind(rawValue: kindWord)
    let bins = try a.int("bins", min: 1, max: 1000)
    var levels: [Double] = []
    if a.isGiven("levels"), let l = numericValues(a["levels"]) { levels = l.filter(\.isFinite).sorted() }
    let value = a["value"]
    for (name, applies) in [("y", false), ("x", false), ("by", false)] where a.isGiven(name) && !applies {
        if case .object(let o) = value, o is TableValue { continue }
        throw a.error(name, "\(name)= names a table column; this value is \(value.typeWithArticle)")
    }
    if !levels.isEmpty && want != .hist {
        if !(value.object is PlotValue || value.object is ExplainValue) {
            throw a.error("levels", "levels= marks values on a histogram: add kind=hist")
        }
    }

    func hist(_ xs: [Double], title: String, xlabel: String) throws -> PlotValue {
        guard xs.contains(where: \.isFinite) else { throw a.error("value", "nothing to count: no finite values") }
        let p = PlotValue(kind: .hist, title: title, xlabel: xlabel, ylabel: "count")
        (p.binEdges, p.counts) = histogram(xs, bins: bins, including: levels)
        p.levels = levels
        return p
    }
    func line(_ ys: [Double], title: String) throws -> PlotValue {
        guard !ys.isEmpty else { throw a.error("value", "nothing to plot: no values") }
        let p = PlotValue(kind: .line, title: title, xlabel: "index", ylabel: "value")
        p.series = [PlotSeries(name: "", xs: ys.indices.map(Double.init), ys: ys)]
        return p
    }
    func barsOf(_ ys: [Double], labels: [String], title: String) throws -> PlotValue {
        guard !ys.isEmpty else { throw a.error("value", "nothing to plot: no values") }
        guard ys.count <= 200 else { throw a.error("kind", "\(ys.count) bars are too many for a bar chart (at most 200): use a line or kind=hist") }
        let p = PlotValue(kind: .bar, title: title, xlabel: "", ylabel: "value")
        p.bars = zip(labels, ys).map { ($0, $1) }
        return p
    }
    func heat(_ panels: [HeatPanel], title: String) throws -> PlotValue {
        guard !panels.isEmpty else { throw a.error("value", "no matrices to draw") }
        for p in panels where p.tensor.count == 0 { throw a.error("value", "the tensor '\(p.title)' is empty") }
        let p = PlotValue(kind: .heatmap, title: title, xlabel: "input channel (column)", ylabel: "output channel (row)")
        p.panels = panels
        return p
    }

    switch value {
    case .object(let p as PlotValue):
        let q = p.copy()
        if !levels.isEmpty { q.levels = levels }
        return q
    case .object(let e as ExplainValue):
        guard let p = e.plot else { throw a.error("value", "this explanation has no plot") }
        return p.copy()
    case .object(let tv as TensorValue):
        let t = tv.tensor
        let name = "tensor \(t.shape)"
        guard t.count > 0 else { throw a.error("value", "the tensor is empty") }
        switch want ?? (t.rank >= 2 && t.shape.dropLast().contains(where: { $0 > 1 }) ? .heatmap : .line) {
        case .hist: return try hist(t.data.map(Double.init), title: "values of \(name)", xlabel: "value")
        case .heatmap: return try heat([HeatPanel(title: name, tensor: t)], title: "")
        case .line:
            guard t.rank == 1 || t.shape.dropLast().allSatisfy({ $0 == 1 }) || t.shape.last == 1 else {
                throw a.error("kind", "a line needs one row of values; this tensor is \(t.shape)", notes: ["take a row (t[3]) or a column (t[:, 3]), or use kind=heatmap or kind=hist"])
            }
            return try line(t.data.map(Double.init), title: name)
        case .bar: return try barsOf(t.data.map(Double.init), labels: t.data.indices.map(String.init), title: name)
        }
    case .list(let items):
        if let xs = numbers(value) {
            switch want ?? .line {
            case .hist: return try hist(xs, title: "", xlabel: "value")
            case .bar: return try barsOf(xs, labels: xs.indices.map(String.init), title: "")
            case .line: return try line(xs, title: "")
            case .heatmap: return try heat([HeatPanel(title: "values", tensor: Tensor(shape: [1, xs.count], data: xs.map(Float.init)))], title: "")
            }
        }
        let tensors = items.compactMap { ($0.object as? TensorValue)?.tensor }
        guard tensors.count == items.count, !items.isEmpty else {
            throw a.error("value", "cannot plot a list of \(Set(items.map(\.typeName)).sorted().joined(separator: " and ")) values", notes: ["plot takes numbers, tensors, tables, or a list of tensors (heatmaps side by side)"])
        }
        var titles = (0..<tensors.count).map { String($0 + 1) }
        if case .list(let ts) = a["titles"] { for (i, t) in ts.prefix(titles.count).enumerated() { titles[i] = t.string ?? titles[i] } }
        if want == .hist {
            throw a.error("kind", "one histogram at a time: plot each tensor, or concatenate the values")
        }
        return try heat(zip(titles, tensors).map { HeatPanel(title: $0, tensor: $1) }, title: "")
    case .record(let rec):
        if rec.values.allSatisfy({ $0.number != nil }) && rec.count > 0 {
            return try barsOf(rec.values.compactMap(\.number), labels: rec.keys, title: "")
        }
        let tensors = rec.values.compactMap { ($0.object as? TensorValue)?.tensor }
        guard tensors.count == rec.count, rec.count > 0 else {
            throw a.error("value", "plot draws a record whose fields are all numbers (bars) or all tensors (heatmaps)",
                          notes: ["pick a field: plot r.error, or plot {oc: r1.error, ic: r2.error}"])
        }
        if want == .hist { throw a.error("kind", "one histogram at a time: plot one field with kind=hist") }
        return try heat(zip(rec.keys, tensors).map { HeatPanel(title: $0, tensor: $1) }, title: "")
    case .object(let tv as TableValue):
        return try tablePlot(tv.table, a, want: want, hist: { xs, t, l in try hist(xs, title: t, xlabel: l) })
    default:
        throw a.error("value", "cannot plot \(value.typeWithArticle)", notes: ["plot takes numbers, tensors, tables, or a list of tensors (heatmaps side by side)"])
    }
}

func tablePlot(_ t: Table, _ a: Arguments, want: PlotKind?, hist: ([Double], String, String) throws -> PlotValue) throws -> PlotValue {
    func col(_ name: String, _ arg: String) throws -> [Value] {
        guard let c = t.column(name) else {
            throw a.error(arg, "no column '\(name)'\(didYouMean(name, t.columns))", notes: ["columns: " + t.columns.joined(separator: ", ")])
        }
        return c
    }
    let xName = a["x"].string, byName = a["by"].string
    var yNames: [String] = []
    switch a["y"] {
    case .string(let s): yNames = [s]
    case .list(let l): yNames = l.compactMap(\.string)
    default:
        let numericCols = t.columns.filter { c in
            c != xName && c != byName && (t.column(c) ?? []).contains { $0.number != nil } && (t.column(c) ?? []).allSatisfy { if case .none = $0 { return true }; return $0.number != nil }
        }
        guard numericCols.count == 1 else {
            throw a.error("y", "say which column to draw: y=\"…\"", notes: ["numeric columns: " + (numericCols.isEmpty ? "none" : numericCols.joined(separator: ", "))])
        }
        yNames = numericCols
    }
    guard !yNames.isEmpty else { throw a.error("y", "no column named") }
    var yCols: [[Double]] = []
    for y in yNames {
        let c = try col(y, "y")
        guard c.allSatisfy({ if case .none = $0 { return true }; return $0.number != nil }) else { throw a.error("y", "column '\(y)' holds values that are not numbers") }
        yCols.append(c.map { $0.number ?? .nan })
    }
    let xCol = try xName.map { try col($0, "x") }
    let byCol = try byName.map { try col($0, "by") }
    let xIsText = xCol.map { c in c.contains { $0.number == nil } } ?? false
    let kind = want ?? (xIsText ? .bar : .line)
    let yLabel = yNames.joined(separator: ", ")
    let title = t.title ?? (yLabel + (xName.map { " by " + $0 } ?? "") + (byName.map { ", per " + $0 } ?? ""))
    func label(_ v: Value) -> String { v.string ?? v.summary }
    switch kind {
    case .hist:
        guard yCols.count == 1 else { throw a.error("y", "one column at a time for a histogram") }
        return try hist(yCols[0], title, yNames[0])
    case .heatmap:
        throw a.error("kind", "a table is drawn as a line, bars or a histogram; heatmaps take tensors")
    case .bar:
        let p = PlotValue(kind: .bar, title: title, xlabel: xName ?? "", ylabel: yLabel)
        for i in t.rows.indices {
            for (k, ys) in yCols.enumerated() {
                var parts: [String] = []
                if let b = byCol { parts.append(label(b[i])) }
                parts.append(xCol.map { label($0[i]) } ?? String(i))
                if yCols.count > 1 { parts.append(yNames[k]) }
                p.bars.append((parts.joined(separator: " "), ys[i]))
            }
        }
        guard !p.bars.isEmpty else { throw a.error("value", "the table has no rows") }
        guard p.bars.count <= 200 else { throw a.error("kind", "\(p.bars.count) bars are too many for a bar chart (at most 200)") }
        return p
    case .line:
        let p = PlotValue(kind: .line, title: title, xlabel: xName ?? "row", ylabel: yLabel)
        var xs: [Double]
        if let c = xCol {
            if xIsText {
                var cats: [String] = []
                for v in c where !cats.contains(label(v)) { cats.append(label(v)) }
                p.xCategories = cats
                xs = c.map { Double(cats.firstIndex(of: label($0))!) }
            } else {
                xs = c.map { $0.number ?? .nan }
            }
        } else {
            xs = t.rows.indices.map(Double.init)
        }
        guard !xs.isEmpty else { throw a.error("value", "the table has no rows") }
        if let b = byCol {
            var groups: [String] = []
            for v in b where !groups.contains(label(v)) { groups.append(label(v)) }
            for gname in groups {
                let idx = b.indices.filter { label(b[$0]) == gname }
                for (k, ys) in yCols.enumerated() {
                    let name = yCols.count > 1 ? "\(gname) \(yNames[k])" : gname
                    p.series.append(PlotSeries(name: name, xs: idx.map { xs[$0] }, ys: idx.map { ys[$0] }))
                }
            }
        } else {
            for (k, ys) in yCols.enumerated() { p.series.append(PlotSeries(name: yNames[k], xs: xs, ys: ys)) }
        }
        // Points in x order within each series (a table may list them in any order).
        for i in p.series.indices {
            let order = p.series[i].xs.indices.sorted { p.series[i].xs[$0] < p.series[i].xs[$1] }
            p.series[i].xs = order.map { p.series[i].xs[$0] }
            p.series[i].ys = order.map { p.series[i].ys[$0] }
        }
        return p
    }
}

extension PlotValue {
    /// A copy (so options given to `plot p …` leave `p` unchanged).
    func copy() -> PlotValue {
        let q = PlotValue(kind: kind, title: title, xlabel: xlabel, ylabel: ylabel)
        q.series = series
        q.xCategories = xCategories
        q.binEdges = binEdges
        q.counts = counts
        q.levels = levels
        q.bars = bars
        q.panels = panels
        q.pool = pool
        q.logY = logY
        q.ascii = ascii
        q.width = width
        q.height = height
        return q
    }
}
