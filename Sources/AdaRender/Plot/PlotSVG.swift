import AdaLang
import AdaLibrary
import Foundation

/// Text safe inside SVG/XML elements and attributes.
func xmlEscape(_ s: String) -> String {
    var out = ""
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default:
            // Control characters are not allowed in XML 1.0.
            if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += " " } else { out.unicodeScalars.append(ch) }
        }
    }
    return out
}

let svgPalette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

/// Viridis-like colour for t in [0, 1].
func colormap(_ t: Double) -> (Int, Int, Int) {
    let stops: [(Double, (Double, Double, Double))] = [
        (0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)), (1.0, (253, 231, 37)),
    ]
    let x = max(0, min(1, t.isFinite ? t : 0))
    for i in 1..<stops.count where x <= stops[i].0 {
        let (a, ca) = stops[i - 1], (b, cb) = stops[i]
        let f = (x - a) / (b - a)
        return (clampInt((ca.0 + (cb.0 - ca.0) * f).rounded(), 0, 255), clampInt((ca.1 + (cb.1 - ca.1) * f).rounded(), 0, 255),
                clampInt((ca.2 + (cb.2 - ca.2) * f).rounded(), 0, 255))
    }
    return (253, 231, 37)
}

func hexColor(_ c: (Int, Int, Int)) -> String { String(format: "#%02x%02x%02x", c.0, c.1, c.2) }

func f1(_ x: Double) -> String {
    let s = String(format: "%.1f", x)
    return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
}

/// Builds an SVG document element by element.
struct SVGBuilder {
    let width: Int
    let height: Int
    var body: [String] = []

    mutating func add(_ s: String) { body.append(s) }

    mutating func text(_ s: String, x: Double, y: Double, anchor: String = "middle", size: Int = 12, cls: String, extra: String = "") {
        add("<text class=\"\(cls)\" x=\"\(f1(x))\" y=\"\(f1(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(extra)>\(xmlEscape(s))</text>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#333", cls: String? = nil, extra: String = "") {
        add("<line\(cls.map { " class=\"\($0)\"" } ?? "") x1=\"\(f1(x1))\" y1=\"\(f1(y1))\" x2=\"\(f1(x2))\" y2=\"\(f1(y2))\" stroke=\"\(stroke)\"\(extra)/>")
    }

    func document(title: String) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        out += "<title>\(xmlEscape(title))</title>\n"
        out += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
        out += body.joined(separator: "\n")
        out += "\n</svg>\n"
        return out
    }
}

extension PlotValue {
    /// The plot as an SVG document: axes with ticks and tick labels, axis labels, title,
    /// legend. Elements carry classes (`bar`, `series`, `point`, `level`, `cell`, `panel`,
    /// `xlabel`, `ylabel`, `title`, `tick`) so tests and stylesheets can find them.
    public func svg() -> String {
        switch kind {
        case .line: return svgLine()
        case .hist: return svgHist()
        case .bar: return svgBars()
        case .heatmap: return svgHeatmap()
        }
    }

    /// Frame: title, axis labels, axes with ticks and grid lines. Returns the plot rectangle.
    func svgFrame(_ b: inout SVGBuilder, left: Double, right: Double, top: Double, bottom: Double,
                  x: PlotAxis, xTicks: [(Double, String)], y: PlotAxis, yTicks: [(Double, String)]) {
        let pw = right - left, ph = bottom - top
        if !title.isEmpty { b.text(title, x: Double(b.width) / 2, y: 22, size: 15, cls: "title", extra: " font-weight=\"bold\"") }
        b.add("<g class=\"grid\" stroke=\"#e5e5e5\">")
        for (v, _) in yTicks {
            let yy = bottom - y.frac(v) * ph
            b.line(left, yy, right, yy, stroke: "#e5e5e5")
        }
        b.add("</g>")
        b.add("<g class=\"axes\" font-size=\"11\">")
        b.line(left, bottom, right, bottom, cls: "x-axis")
        b.line(left, top, left, bottom, cls: "y-axis")
        for (v, label) in xTicks {
            let xx = left + x.frac(v) * pw
            guard xx >= left - 0.5 && xx <= right + 0.5 else { continue }
            b.line(xx, bottom, xx, bottom + 5)
            b.text(label, x: xx, y: bottom + 18, size: 11, cls: "tick x-tick")
        }
        for (v, label) in yTicks {
            let yy = bottom - y.frac(v) * ph
            guard yy >= top - 0.5 && yy <= bottom + 0.5 else { continue }
            b.line(left - 5, yy, left, yy)
            b.text(label, x: left - 8, y: yy + 4, anchor: "end", size: 11, cls: "tick y-tick")
        }
        b.add("</g>")
        b.text(xlabel, x: (left + right) / 2, y: bottom + 40, size: 13, cls: "xlabel")
        let ylab = ylabel + (logY ? " (log scale)" : "")
        b.text(ylab, x: 16, y: (top + bottom) / 2, size: 13, cls: "ylabel", extra: " transform=\"rotate(-90 16 \(f1((top + bottom) / 2)))\"")
    }

    func leftMargin(_ labels: [String]) -> Double { 34 + 6.5 * Double(labels.map(\.count).max() ?? 1) + 6 }

    // MARK: Line

    func svgLine() -> String {
        let names = series.map(\.name)
        let legendW = series.count > 1 ? 30 + 7 * Double(names.map(\.count).max() ?? 1) : 0
        var b = SVGBuilder(width: 640 + Int(legendW), height: 400)
        let (ylo, yhi) = yRange()
        let yAxis = PlotAxis(lo: ylo, hi: yhi, log: logY).rounded(6)
        let (xlo, xhi) = xRange()
        let xAxis = xCategories == nil ? PlotAxis(lo: xlo, hi: xhi, log: false, integer: integerX).rounded(8) : PlotAxis(lo: xlo - 0.5, hi: xhi + 0.5, log: false)
        let yTicks = yAxis.ticks(6)
        let xTicks: [(Double, String)] = xCategories.map { $0.enumerated().map { (Double($0.offset), $0.element) } } ?? xAxis.ticks(8)
        let left = leftMargin(yTicks.map(\.1)), right = 640 - 20.0, top = title.isEmpty ? 20.0 : 40.0, bottom = 400 - 55.0
        svgFrame(&b, left: left, right: right, top: top, bottom: bottom, x: xAxis, xTicks: xTicks, y: yAxis, yTicks: yTicks)
        func px(_ x: Double) -> Double { left + xAxis.frac(x) * (right - left) }
        func py(_ y: Double) -> Double { bottom - yAxis.frac(y) * (bottom - top) }
        for (s, ser) in series.enumerated() {
            let color = svgPalette[s % svgPalette.count]
            b.add("<g class=\"series-group\" data-series=\"\(xmlEscape(ser.name))\">")
            var run: [String] = []
            func flush() {
                if !run.isEmpty {
                    b.add("<polyline class=\"series\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(run.joined(separator: " "))\"/>")
                    run = []
                }
            }
            for (x, y) in zip(ser.xs, ser.ys) {
                guard x.isFinite, y.isFinite, !logY || y > 0 else { flush(); continue }
                run.append("\(f1(px(x))),\(f1(py(y)))")
            }
            flush()
            if ser.xs.count <= 60 {
                for (x, y) in zip(ser.xs, ser.ys) where x.isFinite && y.isFinite && (!logY || y > 0) {
                    b.add("<circle class=\"point\" cx=\"\(f1(px(x)))\" cy=\"\(f1(py(y)))\" r=\"3\" fill=\"\(color)\"/>")
                }
            }
            b.add("</g>")
        }
        if series.count > 1 {
            b.add("<g class=\"legend\" font-size=\"12\">")
            for (s, name) in names.enumerated() {
                let y = top + 10 + Double(s) * 20
                b.line(right + 10, y, right + 30, y, stroke: svgPalette[s % svgPalette.count], extra: " stroke-width=\"2\"")
                b.text(name, x: right + 36, y: y + 4, anchor: "start", cls: "legend-label")
            }
            b.add("</g>")
        }
        return b.document(title: title.isEmpty ? "line plot" : title)
    }

    // MARK: Histogram

    func svgHist() -> String {
        var b = SVGBuilder(width: 640, height: 400)
        let lo = binEdges.first ?? 0, hi = binEdges.last ?? 1
        let xAxis = PlotAxis(lo: lo, hi: hi == lo ? lo + 1 : hi, log: false)
        let top = Double(max(1, counts.max() ?? 1))
        let yAxis = logY ? PlotAxis(lo: 0.5, hi: max(top, 2), log: true).rounded() : PlotAxis(lo: 0, hi: top, log: false).rounded(6)
        let yTicks = yAxis.ticks(6)
        let left = leftMargin(yTicks.map(\.1)), right = 620.0, tp = title.isEmpty ? 20.0 : 40.0, bottom = 345.0
        svgFrame(&b, left: left, right: right, top: tp, bottom: bottom, x: xAxis, xTicks: xAxis.ticks(8), y: yAxis, yTicks: yTicks)
        func px(_ x: Double) -> Double { left + xAxis.frac(x) * (right - left) }
        b.add("<g class=\"bars\" fill=\"#4c78a8\" stroke=\"white\" stroke-width=\"0.5\">")
        for (i, c) in counts.enumerated() {
            let x0 = px(binEdges[i]), x1 = px(binEdges[i + 1])
            var h = 0.0
            if c > 0 { h = max(0, yAxis.frac(Double(c))) * (bottom - tp) }
            b.add("<rect class=\"bar\" x=\"\(f1(x0))\" y=\"\(f1(bottom - h))\" width=\"\(f1(max(0.5, x1 - x0)))\" height=\"\(f1(h))\"><title>\(short(binEdges[i], 4)) … \(short(binEdges[i + 1], 4)): \(c)</title></rect>")
        }
        b.add("</g>")
        if !levels.isEmpty {
            b.add("<g class=\"levels\" stroke=\"#d62728\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\">")
            for v in levels { b.line(px(v), tp, px(v), bottom, stroke: "#d62728", cls: "level") }
            b.add("</g>")
            b.line(right - 150, tp + 12, right - 130, tp + 12, stroke: "#d62728", extra: " stroke-dasharray=\"4 3\" stroke-width=\"1.2\"")
            b.text("quantization levels (\(levels.count))", x: right - 125, y: tp + 16, anchor: "start", size: 11, cls: "legend-label")
        }
        return b.document(title: title.isEmpty ? "histogram" : title)
    }

    // MARK: Bars

    func svgBars() -> String {
        let labelW = 14 + 6.8 * Double(min(32, bars.map(\.label.count).max() ?? 1))
        let barH = 18.0, gap = 8.0
        let top = title.isEmpty ? 20.0 : 44.0
        let plotH = Double(bars.count) * (barH + gap) + gap
        let height = Int(top + plotH + 60)
        var b = SVGBuilder(width: 640, height: height)
        let positive = bars.map(\.value).filter { $0 > 0 }
        let maxV = bars.map(\.value).max() ?? 1
        let xAxis = logY ? PlotAxis(lo: (positive.min() ?? 1) / 2, hi: max(positive.max() ?? 10, 1e-300), log: true).rounded()
            : PlotAxis(lo: 0, hi: maxV > 0 ? maxV : 1, log: false).rounded(6)
        let left = labelW + 26, right = 640 - 70.0, bottom = top + plotH
        // Frame by hand: categories on the y axis, values on the x axis.
        if !title.isEmpty { b.text(title, x: 320, y: 24, size: 15, cls: "title", extra: " font-weight=\"bold\"") }
        b.add("<g class=\"axes\" font-size=\"11\">")
        b.line(left, bottom, right, bottom, cls: "x-axis")
        b.line(left, top, left, bottom, cls: "y-axis")
        for (v, label) in xAxis.ticks(6) {
            let xx = left + xAxis.frac(v) * (right - left)
            guard xx >= left - 0.5 && xx <= right + 0.5 else { continue }
            b.line(xx, top, xx, bottom, stroke: "#e5e5e5")
            b.line(xx, bottom, xx, bottom + 5)
            b.text(label, x: xx, y: bottom + 18, size: 11, cls: "tick x-tick")
        }
        b.add("</g>")
        let fmt = NumberFormat.choose(bars.map(\.value))
        b.add("<g class=\"bars\">")
        for (i, bar) in bars.enumerated() {
            let y = top + gap + Double(i) * (barH + gap)
            let f = bar.value > 0 ? max(0, min(1, xAxis.frac(bar.value))) : 0
            let w = f * (right - left)
            b.text(bar.label, x: left - 8, y: y + barH / 2 + 4, anchor: "end", size: 12, cls: "tick y-tick")
            b.add("<rect class=\"bar\" x=\"\(f1(left))\" y=\"\(f1(y))\" width=\"\(f1(w))\" height=\"\(f1(barH))\" fill=\"\(svgPalette[0])\"><title>\(xmlEscape(bar.label)): \(fmt.format(bar.value))</title></rect>")
            b.text(fmt.format(bar.value), x: left + w + 5, y: y + barH / 2 + 4, anchor: "start", size: 11, cls: "value")
        }
        b.add("</g>")
        b.text(ylabel + (logY ? " (log scale)" : ""), x: (left + right) / 2, y: bottom + 40, size: 13, cls: "xlabel")
        if !xlabel.isEmpty { b.text(xlabel, x: 16, y: (top + bottom) / 2, size: 13, cls: "ylabel", extra: " transform=\"rotate(-90 16 \(f1((top + bottom) / 2)))\"") }
        return b.document(title: title.isEmpty ? "bar chart" : title)
    }

    // MARK: Heatmap

    func svgHeatmap() -> String {
        let np = max(1, panels.count)
        let panelW = np == 1 ? 520.0 : min(300.0, 860.0 / Double(np))
        let first = panels.first?.tensor
        let R = first.map { max(1, $0.count / max($0.shape.last ?? 1, 1)) } ?? 1
        let C = first?.shape.last ?? 1
        let panelH = max(140, min(380, panelW * Double(R) / Double(C)))
        let cellCols = np == 1 ? 128 : 80
        let cellRows = max(8, clampInt(Double(cellCols) * panelH / panelW, 0, 400))
        let (grids, lo, hi) = pooledPanels(rows: cellRows, cols: cellCols)
        let left = 70.0, gap = 60.0, top = title.isEmpty ? 40.0 : 62.0
        let width = Int(left + Double(np) * panelW + Double(np - 1) * gap + 110)
        let height = Int(top + panelH + 70)
        var b = SVGBuilder(width: width, height: height)
        if !title.isEmpty { b.text(title, x: Double(width) / 2, y: 24, size: 15, cls: "title", extra: " font-weight=\"bold\"") }
        for (k, grid) in grids.enumerated() {
            let x0 = left + Double(k) * (panelW + gap)
            let p = panels[k]
            let pc = p.tensor.shape.last ?? 1
            let pr = max(1, p.tensor.count / max(pc, 1))
            b.add("<g class=\"panel\" data-title=\"\(xmlEscape(p.title))\">")
            b.text(p.title, x: x0 + panelW / 2, y: top - 10, size: 13, cls: "panel-title")
            let cw = panelW / Double(grid.c), ch = panelH / Double(grid.r)
            // One path per colour (32 levels), in cell units; runs of equal cells in a row
            // are one rectangle.
            let nColors = 32
            var paths = [String](repeating: "", count: nColors + 1)
            for r in 0..<grid.r {
                var c = 0
                while c < grid.c {
                    func level(_ v: Double) -> Int { v.isFinite ? clampInt((PlotAxis(lo: lo, hi: hi, log: false).frac(v) * Double(nColors - 1)).rounded(), 0, nColors - 1) : nColors }
                    let l = level(grid.v[r * grid.c + c])
                    var e = c + 1
                    while e < grid.c && level(grid.v[r * grid.c + e]) == l { e += 1 }
                    paths[l] += "M\(c) \(r)h\(e - c)v1h-\(e - c)z"
                    c = e
                }
            }
            b.add("<g class=\"cells\" transform=\"translate(\(f1(x0)) \(f1(top))) scale(\(String(format: "%.4f", cw)) \(String(format: "%.4f", ch)))\" shape-rendering=\"crispEdges\">")
            for (l, d) in paths.enumerated() where !d.isEmpty {
                let fill = l == nColors ? "#ffffff" : hexColor(colormap(Double(l) / Double(nColors - 1)))
                b.add("<path fill=\"\(fill)\" d=\"\(d)\"/>")
            }
            b.add("</g>")
            b.add("<rect x=\"\(f1(x0))\" y=\"\(f1(top))\" width=\"\(f1(panelW))\" height=\"\(f1(panelH))\" fill=\"none\" stroke=\"#333\"/>")
            // Ticks: first, middle and last row/column.
            b.add("<g class=\"axes\" font-size=\"11\">")
            for v in Set([0, pc / 2, pc - 1]).sorted() {
                let xx = x0 + (Double(v) + 0.5) / Double(pc) * panelW
                b.line(xx, top + panelH, xx, top + panelH + 5)
                b.text(String(v), x: xx, y: top + panelH + 17, size: 11, cls: "tick x-tick")
            }
            for v in Set([0, pr / 2, pr - 1]).sorted() {
                let yy = top + (Double(v) + 0.5) / Double(pr) * panelH
                b.line(x0 - 5, yy, x0, yy)
                b.text(String(v), x: x0 - 7, y: yy + 4, anchor: "end", size: 11, cls: "tick y-tick")
            }
            b.add("</g>")
            b.text((xlabel.isEmpty ? "column" : xlabel) + " →", x: x0 + panelW / 2, y: top + panelH + 36, size: 12, cls: "xlabel")
            b.add("</g>")
        }
        b.text("↓ " + (ylabel.isEmpty ? "row" : ylabel), x: 16, y: top + panelH / 2, size: 12, cls: "ylabel",
               extra: " transform=\"rotate(-90 16 \(f1(top + panelH / 2)))\"")
        // Colour bar.
        let cbx = left + Double(np) * panelW + Double(np - 1) * gap + 24
        b.add("<defs><linearGradient id=\"cbar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
              + (0...8).map { "<stop offset=\"\(f1(Double($0) * 12.5))%\" stop-color=\"\(hexColor(colormap(Double($0) / 8)))\"/>" }.joined()
              + "</linearGradient></defs>")
        b.add("<g class=\"colorbar\">")
        b.add("<rect x=\"\(f1(cbx))\" y=\"\(f1(top))\" width=\"14\" height=\"\(f1(panelH))\" fill=\"url(#cbar)\" stroke=\"#333\"/>")
        b.text(short(hi, 3), x: cbx + 18, y: top + 10, anchor: "start", size: 11, cls: "tick")
        b.text(short(lo, 3), x: cbx + 18, y: top + panelH, anchor: "start", size: 11, cls: "tick")
        b.text("\(pool.rawValue) per cell", x: cbx, y: top + panelH + 36, anchor: "start", size: 10, cls: "note")
        b.add("</g>")
        return b.document(title: title.isEmpty ? "heatmap" : title)
    }
}
