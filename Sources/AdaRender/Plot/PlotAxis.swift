import AdaLang
import AdaLibrary
import AdaTensor
import Foundation

/// What drawing a plot needs from its data: value ranges, pooled heatmaps, ticks.
extension PlotValue {
    // MARK: Data ranges

    /// The range of the value axis (y of a line plot).
    func yRange() -> (Double, Double) {
        let ys = series.flatMap(\.ys).filter { $0.isFinite && (!logY || $0 > 0) }
        return padRange(ys.min() ?? 0, ys.max() ?? 1, log: logY)
    }

    /// Whether every x is a whole number (ticks at whole numbers only).
    var integerX: Bool { series.flatMap(\.xs).filter(\.isFinite).allSatisfy { $0 == $0.rounded() } }

    func xRange() -> (Double, Double) {
        let xs = series.flatMap(\.xs).filter(\.isFinite)
        var (lo, hi) = (xs.min() ?? 0, xs.max() ?? 1)
        if lo == hi { lo -= 0.5; hi += 0.5 }
        return (lo, hi)
    }

    /// Heatmap panels pooled to at most `rows` × `cols` cells, and the shared value range.
    func pooledPanels(rows: Int, cols: Int) -> (grids: [(r: Int, c: Int, v: [Double])], lo: Double, hi: Double) {
        var grids: [(r: Int, c: Int, v: [Double])] = []
        var lo = Double.infinity, hi = -Double.infinity
        for p in panels {
            let g = poolMatrix(p.tensor, rows: rows, cols: cols, mode: pool)
            for x in g.v where x.isFinite { lo = min(lo, x); hi = max(hi, x) }
            grids.append(g)
        }
        if !lo.isFinite { lo = 0; hi = 1 }
        if lo == hi { hi = lo + 1 }
        return (grids, lo, hi)
    }
}

/// Pads a degenerate range and keeps log ranges positive.
func padRange(_ lo: Double, _ hi: Double, log: Bool) -> (Double, Double) {
    if log {
        let l = lo > 0 ? lo : 1, h = hi > 0 ? hi : 10
        return l == h ? (l / 2, h * 2) : (l, h)
    }
    if lo == hi { return lo == 0 ? (-1, 1) : (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1) }
    return (lo, hi)
}

/// A matrix (rank 1 is one row; higher ranks are flattened to rows × last dimension) pooled
/// to at most `rows` × `cols` cells.
func poolMatrix(_ t: Tensor, rows: Int, cols: Int, mode: PoolMode) -> (r: Int, c: Int, v: [Double]) {
    let C = t.shape.last ?? 1
    let R = max(1, t.count / max(C, 1))
    let pr = max(1, min(R, rows)), pc = max(1, min(C, cols))
    var out = [Double](repeating: mode == .max ? -.infinity : 0, count: pr * pc)
    var n = [Int](repeating: 0, count: pr * pc)
    t.data.withUnsafeBufferPointer { p in
        for i in 0..<R {
            let gi = i * pr / R
            for j in 0..<C {
                let gj = j * pc / C
                let x = Double(p[i * C + j])
                let k = gi * pc + gj
                if mode == .max { if x > out[k] { out[k] = x } } else { out[k] += x }
                n[k] += 1
            }
        }
    }
    if mode == .mean { for k in 0..<out.count { out[k] = n[k] > 0 ? out[k] / Double(n[k]) : .nan } }
    return (pr, pc, out)
}

// MARK: - Ticks

/// A "nice" number near `x` (1, 2 or 5 times a power of ten).
func niceNumber(_ x: Double, round: Bool) -> Double {
    guard x > 0, x.isFinite else { return 1 }
    let e = floor(log10(x))
    let f = x / pow(10, e)
    let nf: Double
    if round { nf = f < 1.5 ? 1 : (f < 3 ? 2 : (f < 7 ? 5 : 10)) } else { nf = f <= 1 ? 1 : (f <= 2 ? 2 : (f <= 5 ? 5 : 10)) }
    return nf * pow(10, e)
}

/// About `count` evenly spaced round tick values covering [lo, hi], and the step.
func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> (ticks: [Double], step: Double) {
    let step = niceNumber((hi - lo) / Double(max(1, count - 1)), round: true)
    let start = ceil(lo / step - 1e-9) * step
    var ticks: [Double] = []
    var t = start
    while t <= hi + step * 1e-9 && ticks.count < 50 {
        ticks.append(abs(t) < step * 1e-9 ? 0 : t)
        t += step
    }
    return (ticks, step)
}

/// Ticks of a logarithmic axis: powers of ten, with 2× and 5× when the range is short.
func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
    guard lo > 0, hi >= lo, lo.isFinite, hi.isFinite else { return [] }
    let a = clampInt(floor(log10(lo)), -400, 400), b = max(a, clampInt(ceil(log10(hi)), -400, 400))
    var ticks: [Double] = []
    let mults: [Double] = b - a <= 1 ? [1, 2, 3, 5] : (b - a <= 3 ? [1, 2, 5] : [1])
    for e in a...b { for m in mults { let v = m * pow(10, Double(e)); if v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) { ticks.append(v) } } }
    if ticks.count < 2 { ticks = [lo, hi] }
    return ticks
}

/// A tick label: as many decimals as the step needs.
func tickLabel(_ v: Double, step: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e6 || a < 1e-4 { return tidyExponent(String(format: "%.2g", v)) }
    let d = step > 0 && step.isFinite ? max(0, min(6, -clampInt(floor(log10(step) + 1e-9), -400, 400))) : 2
    return String(format: "%.\(d)f", v)
}

/// A label on a logarithmic axis: 20, 500, 2e+5.
func logLabel(_ v: Double) -> String {
    if v >= 1e5 || v < 1e-3 { return tidyExponent(String(format: "%.0e", v)) }
    return short(v, 3)
}

/// An axis: maps values to [0, 1], linear or logarithmic.
struct PlotAxis {
    var lo: Double
    var hi: Double
    var log: Bool
    /// Ticks only at whole numbers (the data are integers, such as bits).
    var integer = false
    init(lo: Double, hi: Double, log: Bool, integer: Bool = false) {
        self.lo = lo
        self.hi = hi
        self.log = log
        self.integer = integer
    }
    func frac(_ v: Double) -> Double {
        let f: Double
        if log { f = (Foundation.log10(max(v, 1e-300)) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo)) } else {
            f = linearFraction(v, lo, hi)
        }
        return f.isFinite ? f : 0
    }
    /// Ticks inside the axis and their labels.
    func ticks(_ count: Int = 5) -> [(Double, String)] {
        if log { return logTicks(lo, hi).map { ($0, logLabel($0)) } }
        var (t, step) = niceTicks(lo, hi, count: count)
        if integer && step < 1 {
            step = 1
            t = stride(from: ceil(lo), through: floor(hi), by: 1).map { $0 }
        }
        return t.map { ($0, tickLabel($0, step: step)) }
    }
    /// Widened to round tick values (linear axes).
    func rounded(_ count: Int = 5) -> PlotAxis {
        if log {
            // The nearest 1, 2 or 5 × 10^k outside the data.
            func down(_ x: Double) -> Double {
                let e = floor(Foundation.log10(x)), p = pow(10, e)
                return [5.0, 2, 1].map { $0 * p }.first { $0 <= x * (1 + 1e-9) } ?? p
            }
            func up(_ x: Double) -> Double {
                let e = floor(Foundation.log10(x)), p = pow(10, e)
                return [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= x * (1 - 1e-9) } ?? 10 * p
            }
            return PlotAxis(lo: down(lo), hi: up(hi), log: true)
        }
        var (_, step) = niceTicks(lo, hi, count: count)
        if integer { step = max(step, 1) }
        return PlotAxis(lo: floor(lo / step + 1e-9) * step, hi: ceil(hi / step - 1e-9) * step, log: false, integer: integer)
    }
}
