import Foundation
import AdaModel
import AdaTensor

/// Activation-aware scaling (AWQ) settings: the quantizer the α search judges with, and the grid.
public struct AWQOptions: Sendable, Equatable {
    /// α = i/alphaGrid for i = 0 … alphaGrid (α = 0: no scaling).
    public var alphaGrid: Int = 20
    /// The quantizer the search judges each α with (RTN; its dimension `spec.dim`).
    public var spec: QuantSpec
    /// Also scale o's inputs (folded into v's rows).
    public var includeO = true

    public init(spec: QuantSpec, alphaGrid: Int = 20, includeO: Bool = true) {
        self.spec = spec
        self.alphaGrid = alphaGrid
        self.includeO = includeO
    }
}

/// The four scalings of a block: which site's inputs, the modules that read them, and where
/// the inverse scale is folded.
public enum AWQGroup: String, Sendable, CaseIterable {
    /// q, k, v; 1/s into attn_norm.
    case qkv
    /// o; 1/s into v's rows (s shared by the query heads of a KV head).
    case o
    /// gate, up; 1/s into ffn_norm.
    case gateUp = "gate_up"
    /// down; 1/s into up's rows.
    case down

    public var kinds: [LinearKind] {
        switch self {
        case .qkv: return [.q, .k, .v]
        case .o: return [.o]
        case .gateUp: return [.gate, .up]
        case .down: return [.down]
        }
    }

    public var site: InputSite {
        switch self {
        case .qkv: return .attnIn
        case .o: return .attnContext
        case .gateUp: return .mlpIn
        case .down: return .mlpAct
        }
    }
}

/// What the search chose for one group of one block.
public struct AWQChoice: Sendable {
    public let block: Int
    public let group: AWQGroup
    public let alpha: Double
    /// Summed output MSE of the group's modules (RTN with the options' spec): unscaled, and at α.
    public let errorPlain: Double
    public let errorScaled: Double
}

/// A model with AWQ's scales folded in: full-precision function unchanged (up to rounding),
/// weights scaled so that the channels with large activations quantize more finely.
public struct AWQResult: Sendable {
    public let model: LlamaModel
    public let choices: [AWQChoice]
    public let seconds: Double
}

/// Per-channel `Σ|x|` of a site's inputs over calibration tokens.
struct ChannelAbsSum {
    var sum: [Double]
    var tokens = 0
    init(size: Int) { sum = [Double](repeating: 0, count: size) }
    mutating func add(_ x: Tensor) {
        let (t, n) = x.matrixShape
        for r in 0..<t {
            var i = 0
            while i < n { sum[i] += Double(abs(x.data[r * n + i])); i += 1 }
        }
        tokens += t
    }
    var mean: [Double] { sum.map { tokens > 0 ? $0 / Double(tokens) : 0 } }
}

/// AWQ on every block: for each group (q/k/v, o, gate/up, down) the per-input-channel scales
/// `s = mean|x|^α` (normalized to `√(max·min) = 1`, mean clamped to 1e-4) for the α of the grid
/// minimising the group's summed output MSE after RTN of `W·diag(s)` (inputs divided by `s`);
/// the scales are folded so the full-precision model computes the same function. Inputs come
/// from the full-precision model.
///
/// With a per-IC spec only α = 0 is tried, so the model is returned unchanged: a per-IC group
/// lies in one input column, so scaling the column scales the group's range and weights alike
/// and RTN's error is the same for every α (up to rounding, which would then pick α at random),
/// while the scales of o and down fold into v's and up's rows, where they mix different
/// scales into those modules' per-IC groups, a loss the search does not see (on SmolLM2 at w3
/// g128, searching anyway took per-IC RTN from 227.79 to 3901.67).
public func awqScale(_ model: LlamaModel, calibration: [[Int32]], options: AWQOptions,
                     progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> AWQResult {
    guard !calibration.isEmpty else { throw QuantError("AWQ needs calibration windows", origin: .calibration) }
    guard (1...1000).contains(options.alphaGrid) else {
        throw QuantError("alpha_grid must be 1…1000, got \(options.alphaGrid)", origin: .options)
    }
    try requireFiniteModel(model, calibrated: true)
    for k in LinearKind.allCases {
        let sh = model.shape(k)
        _ = try QuantSpec(bits: options.spec.bits, group: options.spec.group, dim: options.spec.dim, grid: options.spec.grid)
            .validate(rows: sh[0], cols: sh[1])
    }
    let t0 = now()
    var out = model
    var choices: [AWQChoice] = []
    let stream = BlockStream(model: model, windows: calibration)
    for b in 0..<model.blocks.count {
        if shouldStop?() == true { throw CancellationError() }
        let fp = model.blocks[b]
        var hs = SiteHessians(config: model.config)
        var means = InputSite.allCases.map { ChannelAbsSum(size: $0.size(model.config)) }
        try stream.traceAndAdvance(weights: fp) { _, tr in
            if shouldStop?() == true { throw CancellationError() }
            hs.add(tr)
            for s in InputSite.allCases { means[s.rawValue].add(s.input(in: tr)) }
        }
        var blk = fp
        for g in AWQGroup.allCases where g != .o || options.includeO {
            var mean = means[g.site.rawValue].mean
            if g == .o { mean = kvSharedMeans(mean, model.config) }
            let (alpha, s, e0, e1) = try searchAlpha(fp, g, mean: mean, hessian: hs[g.site], options: options, config: model.config)
            if alpha > 0 { awqFold(&blk, g, s, model.config) }
            choices.append(AWQChoice(block: b, group: g, alpha: alpha, errorPlain: e0, errorScaled: e1))
        }
        out.blocks[b] = blk
        progress?(b + 1, model.blocks.count)
    }
    return AWQResult(model: out, choices: choices, seconds: now() - t0)
}

/// o's input channel `h·hd + d` reads v's row `(h / group)·hd + d`: one scale per v row, so the
/// means of the query heads that share a KV head are averaged (and repeated for each).
public func kvSharedMeans(_ mean: [Double], _ c: LlamaConfig) -> [Double] {
    let group = c.numHeads / c.numKVHeads, hd = c.headDim
    var out = mean
    for kv in 0..<c.numKVHeads {
        for d in 0..<hd {
            let heads = (kv * group)..<((kv + 1) * group)
            let m = heads.reduce(0.0) { $0 + mean[$1 * hd + d] } / Double(group)
            for h in heads { out[h * hd + d] = m }
        }
    }
    return out
}

/// The scales `mean^α` normalized so that `√(max·min) = 1`.
public func awqScales(_ mean: [Double], alpha: Double) -> [Float] {
    let s = mean.map { Swift.max($0, 1e-4) }.map { alpha == 0 ? 1 : pow($0, alpha) }
    let norm = (s.max()! * s.min()!).squareRoot()
    return s.map { Float($0 / norm) }
}

/// The α of the grid with the smallest summed output MSE of the group's modules (ties: the
/// smaller α), its scales, and the errors at α = 0 and at the chosen α.
private func searchAlpha(_ fp: LlamaBlock, _ g: AWQGroup, mean: [Double], hessian: Hessian, options: AWQOptions,
                         config: LlamaConfig) throws -> (Double, [Float], Double, Double) {
    var best = (alpha: 0.0, s: [Float](repeating: 1, count: mean.count), err: Double.infinity)
    var plain = 0.0
    for i in 0...(options.spec.dim == .ic ? 0 : options.alphaGrid) {
        let alpha = Double(i) / Double(options.alphaGrid)
        let s = awqScales(mean, alpha: alpha)
        var err = 0.0
        for k in g.kinds {
            let w = fp[k]
            let ws = scaleColumns(w, s)
            let q = try quantizeRTN(ws, options.spec, name: k.ggufName).dequantized
            err += outputMSE(w, scaleColumns(q, s.map { 1 / $0 }), hessian: hessian) * Double(w.shape[0])
        }
        if i == 0 { plain = err }
        if err < best.err { best = (alpha, s, err) }
    }
    return (best.alpha, best.s, plain, best.err)
}

/// `w·diag(s)`.
func scaleColumns(_ w: Tensor, _ s: [Float]) -> Tensor {
    let (rows, cols) = (w.shape[0], w.shape[1])
    var d = w.data
    for r in 0..<rows { for c in 0..<cols { d[r * cols + c] *= s[c] } }
    return Tensor(shape: w.shape, data: d)
}

/// `diag(1/s)·w`.
func divideRows(_ w: Tensor, _ s: [Float]) -> Tensor {
    let (rows, cols) = (w.shape[0], w.shape[1])
    var d = w.data
    for r in 0..<rows { for c in 0..<cols { d[r * cols + c] /= s[r] } }
    return Tensor(shape: w.shape, data: d)
}

/// Folds the scales of group `g` into block `blk`: the modules' input columns times `s`, the
/// producer of their inputs divided by `s` (a norm's weight, v's rows, up's rows).
public func awqFold(_ blk: inout LlamaBlock, _ g: AWQGroup, _ s: [Float], _ c: LlamaConfig) {
    for k in g.kinds { blk[k] = scaleColumns(blk[k], s) }
    switch g {
    case .qkv: blk.attnNorm = zip(blk.attnNorm, s).map { $0 / $1 }
    case .gateUp: blk.ffnNorm = zip(blk.ffnNorm, s).map { $0 / $1 }
    case .down: blk.up = divideRows(blk.up, s)
    case .o:
        // One scale per v row: query head h's channels read KV head h / group.
        let group = c.numHeads / c.numKVHeads, hd = c.headDim
        let sv = (0..<(c.numKVHeads * hd)).map { j in s[(j / hd) * group * hd + j % hd] }
        blk.v = divideRows(blk.v, sv)
    }
}
