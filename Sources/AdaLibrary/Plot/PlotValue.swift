import AdaLang
import AdaTensor
import Foundation

/// What a plot draws.
public enum PlotKind: String, Sendable, CaseIterable {
    /// y against x, one polyline per series (a per-channel profile, perplexity vs bits).
    case line
    /// Counts of values in equal-width bins, with optional marked levels (a quantization grid).
    case hist
    /// One horizontal bar per labelled value.
    case bar
    /// A matrix as shades/colours, one panel per matrix, panels side by side on one scale.
    case heatmap
}

/// How a heatmap cell summarises the matrix entries it covers.
public enum PoolMode: String, Sendable, CaseIterable {
    case max, mean
}

/// One line of a line plot.
public struct PlotSeries {
    public var name: String
    public var xs: [Double]
    public var ys: [Double]
    public init(name: String, xs: [Double], ys: [Double]) {
        self.name = name
        self.xs = xs
        self.ys = ys
    }
}

/// One matrix of a heatmap.
public struct HeatPanel {
    public var title: String
    public var tensor: Tensor
    public init(title: String, tensor: Tensor) {
        self.title = title
        self.tensor = tensor
    }
}

/// A plot: drawn with characters in the terminal (Unicode blocks and braille, or ASCII) and
/// as an SVG image (axes, ticks, labels, title) for files and notebooks.
public final class PlotValue: EngineValue, Graphic {
    public var kind: PlotKind
    public var title: String
    public var xlabel: String
    public var ylabel: String
    /// line
    public var series: [PlotSeries] = []
    /// line: category names for x = 0, 1, 2… (when x was a text column).
    public var xCategories: [String]?
    /// hist: bin edges (bins + 1) and counts.
    public var binEdges: [Double] = []
    public var counts: [Int] = []
    /// hist: values marked with vertical lines (quantization levels).
    public var levels: [Double] = []
    /// bar
    public var bars: [(label: String, value: Double)] = []
    /// heatmap
    public var panels: [HeatPanel] = []
    public var pool: PoolMode = .max
    /// Logarithmic value axis (y of lines, counts of histograms, bar lengths).
    public var logY = false
    /// Draw with ASCII only, whatever the terminal can show.
    public var ascii = false
    /// Terminal size in characters (nil: fit the display width).
    public var width: Int?
    public var height: Int?
    /// Where the SVG was written (`plot … to="file.svg"`).
    public var savedTo: String?

    public init(kind: PlotKind, title: String, xlabel: String, ylabel: String) {
        self.kind = kind
        self.title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
    }

    public var typeName: String { "plot" }
    public var summary: String { "<plot \(kind.rawValue)\(title.isEmpty ? "" : ": " + title)>" }
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.graphic(self)] }
    public var caption: String { summary }

    public var fieldNames: [String] { ["kind", "title", "xlabel", "ylabel", "series", "points", "bars", "bins", "levels", "panels", "file"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "kind": return .string(kind.rawValue)
        case "title": return .string(title)
        case "xlabel": return .string(xlabel)
        case "ylabel": return .string(ylabel)
        case "series": return .list(series.map { .string($0.name) })
        case "points": return .int(series.reduce(0) { $0 + $1.xs.count })
        case "bars": return .int(bars.count)
        case "bins": return .int(counts.count)
        case "levels": return .list(levels.map { .number($0) })
        case "panels": return .int(panels.count)
        case "file": return savedTo.map { Value.string($0) } ?? Value.none
        default: return nil
        }
    }
}

/// `x` as an Int within lo…hi (NaN gives lo): plot coordinates never trap, whatever the data.
@inline(__always)
public func clampInt(_ x: Double, _ lo: Int, _ hi: Int) -> Int {
    if x.isNaN || x <= Double(lo) { return lo }
    if x >= Double(hi) { return hi }
    return Int(x)
}

/// Where `v` lies between `lo` and `hi` (0…1 inside), scaled first so that ranges near the
/// largest Double do not overflow.
public func linearFraction(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
    let s = max(abs(lo), abs(hi), 1e-300)
    return (v / s - lo / s) / (hi / s - lo / s)
}
