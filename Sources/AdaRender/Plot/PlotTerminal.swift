import AdaLang
import AdaLibrary
import Foundation

/// The characters a terminal plot is drawn with: Unicode (eighth blocks, braille, shades,
/// box drawing) or plain ASCII.
struct PlotGlyphs {
    let unicode: Bool
    var vAxis: String { unicode ? "│" : "|" }
    var hAxis: String { unicode ? "─" : "-" }
    var corner: String { unicode ? "└" : "+" }
    var yTick: String { unicode ? "┤" : "+" }
    var xTick: String { unicode ? "┬" : "+" }
    var levelLine: String { unicode ? "┊" : ":" }
    var levelMark: String { unicode ? "▲" : "^" }
    /// Vertical bar heights 0…8 eighths.
    var vBlocks: [String] { unicode ? [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : [" ", " ", " ", ".", "#", "#", "#", "#", "#"] }
    /// Horizontal bar ends 0…8 eighths.
    var hBlocks: [String] { unicode ? ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"] : ["", "", "", "", "#", "#", "#", "#", "#"] }
    var fullBlock: String { unicode ? "█" : "#" }
    var shades: [String] { unicode ? [" ", "░", "▒", "▓", "█"] : [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"] }
    var markers: [String] { unicode ? ["●", "■", "▲", "◆", "○", "□", "△", "◇"] : ["o", "+", "x", "*", "#", "@", "%", "&"] }
}

let seriesColors = [34, 31, 32, 33, 35, 36, 94, 91]

extension PlotValue {
    /// The plot drawn with characters, fitting `style.width` (or `width`) columns.
    public func render(_ style: DisplayStyle) -> String {
        let g = PlotGlyphs(unicode: style.unicode && !ascii)
        let w = max(30, width ?? min(style.width, 100))
        var lines: [String]
        switch kind {
        case .line: lines = renderLine(g, w, color: style.color)
        case .hist: lines = renderHist(g, w)
        case .bar: lines = renderBars(g, w)
        case .heatmap: lines = renderHeatmap(g, w)
        }
        if !title.isEmpty { lines.insert(truncate(title, w, ellipsis: g.unicode ? "…" : "..."), at: 0) }
        if let f = savedTo { lines.append("(SVG written to \(f))") }
        return lines.map { l in var s = l; while s.hasSuffix(" ") { s.removeLast() }; return s }.joined(separator: "\n")
    }

    /// Y tick labels placed on rows of a chart of `h` rows for an axis.
    func yLabels(_ axis: PlotAxis, rows h: Int) -> [Int: String] {
        var out: [Int: String] = [:]
        let ticks = axis.ticks(max(2, min(5, h / 3 + 1)))
        for (v, label) in ticks {
            let r = clampInt(((1 - axis.frac(v)) * Double(h - 1)).rounded(), -1, h)
            guard r >= 0 && r < h, out[r] == nil else { continue }
            if out[r - 1] != nil || out[r + 1] != nil { continue }
            out[r] = label
        }
        return out
    }

    /// The x axis line and its tick labels under a chart of `pw` columns starting after a
    /// margin of `margin` characters.
    func xAxisLines(_ g: PlotGlyphs, margin: Int, pw: Int, ticks: [(Double, String)], frac: (Double) -> Double) -> [String] {
        var axis = [String](repeating: g.hAxis, count: pw)
        var labels = [Character](repeating: " ", count: pw + 12)
        var lastEnd = -2
        for (v, label) in ticks {
            let c = clampInt((frac(v) * Double(pw - 1)).rounded(), -1, pw)
            guard c >= 0 && c < pw else { continue }
            axis[c] = g.xTick
            let lab = Array(label.prefix(max(1, min(14, pw))))
            var start = c - lab.count / 2
            start = max(0, min(start, pw + 12 - lab.count))
            if start <= lastEnd + 1 { continue }
            for (k, ch) in lab.enumerated() { labels[start + k] = ch }
            lastEnd = start + lab.count - 1
        }
        return [String(repeating: " ", count: margin) + g.corner + axis.joined(),
                String(repeating: " ", count: margin + 1) + String(labels)]
    }

    func centered(_ s: String, _ w: Int) -> String {
        let pad = max(0, (w - textWidth(s)) / 2)
        return String(repeating: " ", count: pad) + s
    }

    // MARK: Line

    func renderLine(_ g: PlotGlyphs, _ w: Int, color: Bool) -> [String] {
        let h = max(4, height ?? 12)
        let (ylo, yhi) = yRange()
        let yAxis = PlotAxis(lo: ylo, hi: yhi, log: logY).rounded(4)
        let (xlo, xhi) = xRange()
        let xAxis = PlotAxis(lo: xlo, hi: xhi, log: false, integer: integerX)
        let ylabels = yLabels(yAxis, rows: h)
        let margin = max(ylabels.values.map { textWidth($0) }.max() ?? 1, 1) + 1
        let pw = max(10, w - margin - 2)
        // Canvas: braille dots (2 × 4 per character) or characters.
        let sub = g.unicode ? (2, 4) : (1, 1)
        let dw = pw * sub.0, dh = h * sub.1
        var dots = [UInt8](repeating: 0, count: pw * h)      // braille bits per cell
        var glyph = [String?](repeating: nil, count: pw * h)   // ASCII or marker characters
        var owner = [Int](repeating: -1, count: pw * h)
        let brailleBits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
        func plotDot(_ x: Int, _ y: Int, _ s: Int, _ ch: String) {
            guard x >= 0, x < dw, y >= 0, y < dh else { return }
            let cx = x / sub.0, cy = y / sub.1
            let k = cy * pw + cx
            if g.unicode { dots[k] |= brailleBits[x % 2][y % 4] } else if glyph[k] == nil || series.count == 1 { glyph[k] = ch }
            owner[k] = s
        }
        func dotX(_ x: Double) -> Int { clampInt((xAxis.frac(x) * Double(dw - 1)).rounded(), 0, dw - 1) }
        func dotY(_ y: Double) -> Int { clampInt(((1 - yAxis.frac(y)) * Double(dh - 1)).rounded(), 0, dh - 1) }
        let markersOn = series.count > 1 || series.allSatisfy { $0.xs.count <= 40 }
        for (s, ser) in series.enumerated() {
            let ch = series.count == 1 ? "*" : "."
            var prev: (Int, Int)?
            for (x, y) in zip(ser.xs, ser.ys) {
                guard x.isFinite, y.isFinite, !logY || y > 0 else { prev = nil; continue }
                let p = (dotX(x), dotY(y))
                if let q = prev {
                    // Bresenham from q to p.
                    var (x0, y0) = q
                    let (x1, y1) = p
                    let dx = abs(x1 - x0), dy = -abs(y1 - y0)
                    let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
                    var err = dx + dy
                    while true {
                        plotDot(x0, y0, s, ch)
                        if x0 == x1 && y0 == y1 { break }
                        let e2 = 2 * err
                        if e2 >= dy { err += dy; x0 += sx }
                        if e2 <= dx { err += dx; y0 += sy }
                    }
                } else {
                    plotDot(p.0, p.1, s, ch)
                }
                prev = p
            }
        }
        if markersOn {
            for (s, ser) in series.enumerated() {
                for (x, y) in zip(ser.xs, ser.ys) where x.isFinite && y.isFinite && (!logY || y > 0) {
                    let k = (dotY(y) / sub.1) * pw + dotX(x) / sub.0
                    glyph[k] = g.markers[s % g.markers.count]
                    owner[k] = s
                }
            }
        }
        var lines: [String] = []
        for r in 0..<h {
            var row = padLeft(ylabels[r] ?? "", margin - 1) + " " + (ylabels[r] != nil ? g.yTick : g.vAxis)
            for c in 0..<pw {
                let k = r * pw + c
                var cell = " "
                if let gl = glyph[k] { cell = gl } else if dots[k] != 0 { cell = String(UnicodeScalar(0x2800 + UInt32(dots[k]))!) }
                if color && owner[k] >= 0 && cell != " " { cell = "\u{1B}[\(seriesColors[owner[k] % seriesColors.count])m" + cell + "\u{1B}[0m" }
                row += cell
            }
            lines.append(row)
        }
        var xt: [(Double, String)]
        if let cats = xCategories {
            xt = cats.enumerated().map { (Double($0.offset), $0.element) }
        } else {
            xt = xAxis.ticks(max(2, min(6, pw / 10)))
        }
        lines += xAxisLines(g, margin: margin, pw: pw, ticks: xt, frac: xAxis.frac)
        var caption = [String]()
        if !xlabel.isEmpty { caption.append("x: " + xlabel) }
        if !ylabel.isEmpty { caption.append("y: " + ylabel + (logY ? " (log scale)" : "")) }
        if !caption.isEmpty { lines.append(centered(caption.joined(separator: "   "), w)) }
        if series.count > 1 {
            lines.append("  " + series.enumerated().map { "\(g.markers[$0.offset % g.markers.count]) \($0.element.name)" }.joined(separator: "   "))
        }
        return lines
    }

    // MARK: Histogram

    func renderHist(_ g: PlotGlyphs, _ w: Int) -> [String] {
        let h = max(4, height ?? 10)
        let n = max(1, counts.count)
        let maxCount = counts.max() ?? 0
        let top = max(1, maxCount)
        let cAxis = logY ? PlotAxis(lo: 1, hi: Double(max(top, 2)), log: true) : PlotAxis(lo: 0, hi: Double(top), log: false)
        let ylabels: [Int: String] = [0: String(top)]
        let margin = max(textWidth(String(top)), 1) + 1
        let avail = max(10, w - margin - 2)
        // Columns per bin: a whole number when the bins fit, else bins share the width.
        let k = max(1, avail / n)
        let pw = Double(n * k) >= Double(avail) * 0.85 ? n * k : avail
        func bin(_ c: Int) -> Int { n * k == pw ? c / k : min(n - 1, c * n / pw) }
        let lo = binEdges.first ?? 0, hi = binEdges.last ?? 1
        let xAxis = PlotAxis(lo: lo, hi: hi == lo ? lo + 1 : hi, log: false)
        // Eighths of height per bin.
        let eighths = counts.map { c -> Int in
            guard c > 0 else { return 0 }
            let f = logY ? cAxis.frac(Double(c)) : Double(c) / Double(top)
            return max(1, clampInt((f * Double(h * 8)).rounded(), 0, h * 8))
        }
        let levelCols = Set(levels.map { clampInt((xAxis.frac($0) * Double(pw - 1)).rounded(), -1, pw) }.filter { $0 >= 0 && $0 < pw })
        var lines: [String] = []
        for r in 0..<h {
            var row = padLeft(ylabels[r] ?? "", margin - 1) + " " + (ylabels[r] != nil ? g.yTick : g.vAxis)
            for c in 0..<pw {
                let b = bin(c)
                let level = min(8, max(0, eighths[b] - (h - 1 - r) * 8))
                var cell = g.vBlocks[level]
                if !g.unicode && level > 0 && level < 4 && r == h - 1 { cell = "." }
                if cell == " " && levelCols.contains(c) { cell = g.levelLine }
                row += cell
            }
            lines.append(row)
        }
        var axis = xAxisLines(g, margin: margin, pw: pw, ticks: xAxis.ticks(max(3, min(8, pw / 10))), frac: xAxis.frac)
        axis[0] = padLeft(logY ? "1" : "0", margin - 1) + " " + String(axis[0].dropFirst(margin))
        lines += axis
        if !levels.isEmpty {
            var marks = [String](repeating: " ", count: pw)
            for c in levelCols { marks[c] = g.levelMark }
            lines.insert(String(repeating: " ", count: margin + 1) + marks.joined(), at: lines.count - 1)
        }
        var caption = [String]()
        caption.append("x: " + (xlabel.isEmpty ? "value" : xlabel))
        caption.append("y: " + (ylabel.isEmpty ? "count" : ylabel) + (logY ? " (log scale)" : ""))
        caption.append("\(n) bins")
        lines.append(centered(caption.joined(separator: "   "), w))
        if !levels.isEmpty {
            lines.append("  \(g.levelMark) \(levels.count) quantization levels: " + levels.prefix(16).map { short($0, 3) }.joined(separator: " ") + (levels.count > 16 ? " …" : ""))
        }
        return lines
    }

    // MARK: Bars

    func renderBars(_ g: PlotGlyphs, _ w: Int) -> [String] {
        let labelW = min(24, max(1, bars.map { textWidth($0.label) }.max() ?? 1))
        let fmt = NumberFormat.choose(bars.map(\.value))
        let values = bars.map { fmt.format($0.value) }
        let valueW = values.map { textWidth($0) }.max() ?? 1
        let bw = max(10, w - labelW - valueW - 4)
        let positive = bars.map(\.value).filter { $0 > 0 }
        let maxV = bars.map(\.value).max() ?? 1
        let axis = logY ? PlotAxis(lo: (positive.min() ?? 1) / 2, hi: max(positive.max() ?? 10, 1e-300), log: true) : PlotAxis(lo: 0, hi: maxV > 0 ? maxV : 1, log: false)
        var lines: [String] = []
        if !ylabel.isEmpty { lines.append(String(repeating: " ", count: labelW + 2) + ylabel + (logY ? " (log scale)" : "")) }
        for (i, b) in bars.enumerated() {
            let f = b.value > 0 ? max(0, min(1, axis.frac(b.value))) : 0
            let e = clampInt((f * Double(bw * 8)).rounded(), 0, bw * 8)
            var bar = String(repeating: g.fullBlock, count: e / 8) + g.hBlocks[e % 8]
            if bar.isEmpty && b.value > 0 { bar = g.unicode ? "▏" : "|" }
            lines.append(padRight(truncate(b.label, labelW, ellipsis: g.unicode ? "…" : "."), labelW) + " " + g.vAxis + bar + " " + values[i])
        }
        if !xlabel.isEmpty { lines.append(String(repeating: " ", count: labelW + 2) + "(" + xlabel + ")") }
        return lines
    }

    // MARK: Heatmap

    func renderHeatmap(_ g: PlotGlyphs, _ w: Int) -> [String] {
        let np = max(1, panels.count)
        let gap = 2
        let pwid = min(64, max(8, (w - 1 - (np - 1) * (gap + 1)) / np - 1))
        let first = panels.first?.tensor
        let R = first.map { max(1, $0.count / max($0.shape.last ?? 1, 1)) } ?? 1
        let C = first?.shape.last ?? 1
        let ph = height ?? max(6, min(20, clampInt((Double(pwid) * Double(R) / Double(C) / 2).rounded(), 0, 20)))
        let (grids, lo, hi) = pooledPanels(rows: ph, cols: pwid)
        let shades = g.shades
        var lines: [String] = []
        let cellW = pwid + 1
        lines.append(panels.map { padRight(truncate(" " + $0.title, cellW, ellipsis: g.unicode ? "…" : "."), cellW) }.joined(separator: String(repeating: " ", count: gap)))
        let rowsShown = grids.map(\.r).max() ?? 0
        for r in 0..<rowsShown {
            var parts: [String] = []
            for grid in grids {
                var s = g.vAxis
                for c in 0..<pwid {
                    guard r < grid.r, c < grid.c else { s += " "; continue }
                    let v = grid.v[r * grid.c + c]
                    let k = v.isFinite ? clampInt((PlotAxis(lo: lo, hi: hi, log: false).frac(v) * Double(shades.count - 1)).rounded(), 0, shades.count - 1) : 0
                    s += shades[max(0, min(shades.count - 1, k))]
                }
                parts.append(s)
            }
            lines.append(parts.joined(separator: String(repeating: " ", count: gap)))
        }
        let dims = panels.map { p -> String in
            let c = p.tensor.shape.last ?? 1
            return "\(max(1, p.tensor.count / max(c, 1)))×\(c)"
        }
        let arrowD = g.unicode ? "↓" : "(down)", arrowR = g.unicode ? "→" : "(right)", times = g.unicode ? "×" : "x"
        lines.append(" " + (ylabel.isEmpty ? "rows" : ylabel) + " " + arrowD + ", " + (xlabel.isEmpty ? "columns" : xlabel) + " " + arrowR)
        lines.append(" " + (Set(dims).count == 1 ? dims[0] : dims.joined(separator: ", ")).replacingOccurrences(of: "×", with: times)
                     + " shown as \(rowsShown)\(times)\(grids.map(\.c).max() ?? 0) cells, each the \(pool.rawValue) of its entries")
        lines.append(" shade: '" + shades.first! + "' = \(short(lo, 3)) " + shades.joined() + " '" + shades.last! + "' = \(short(hi, 3))" + (np > 1 ? " (one scale for all panels)" : ""))
        return lines
    }
}
