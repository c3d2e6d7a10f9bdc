import _CBLAS
import AdaModel
import AdaTensor
import Foundation

/// Per-channel statistics of a set of vectors (activations per input channel, or the rows or
/// columns of a weight): `max|x|`, `mean|x|`, RMS and kurtosis (Pearson, 3 for a Gaussian).
public struct ChannelStats: Sendable {
    public let maxAbs: [Float]
    public let meanAbs: [Float]
    public let rms: [Float]
    public let kurtosis: [Float]
    public let count: Int
    public var channels: Int { maxAbs.count }

    /// Ratio of each channel's `max|x|` to the median `max|x|` over channels.
    public var outlierRatio: [Float] {
        let med = median(maxAbs)
        return maxAbs.map { med > 0 ? $0 / med : 0 }
    }
}

func median(_ v: [Float]) -> Float {
    guard !v.isEmpty else { return 0 }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Streaming accumulator of `ChannelStats` over rows of `[T, C]` tensors.
public struct ChannelStatsAccumulator: Sendable {
    var s1, s2, s3, s4, sa: [Double]
    var mx: [Float]
    var n = 0

    public init(channels: Int) {
        s1 = [Double](repeating: 0, count: channels)
        s2 = s1; s3 = s1; s4 = s1; sa = s1
        mx = [Float](repeating: 0, count: channels)
    }

    public mutating func add(_ x: Tensor) {
        let (t, c) = x.matrixShape
        precondition(c == mx.count)
        x.data.withUnsafeBufferPointer { p in
            for r in 0..<t {
                for j in 0..<c {
                    let v = p[r * c + j], d = Double(v), d2 = d * d
                    s1[j] += d; s2[j] += d2; s3[j] += d2 * d; s4[j] += d2 * d2; sa[j] += abs(d)
                    mx[j] = max(mx[j], abs(v))
                }
            }
        }
        n += t
    }

    public var stats: ChannelStats {
        let nn = Double(max(n, 1))
        var kurt = [Float](repeating: 0, count: mx.count)
        for j in 0..<mx.count {
            let m = s1[j] / nn
            let m2 = s2[j] / nn, m3 = s3[j] / nn, m4 = s4[j] / nn
            let varc = m2 - m * m
            let c4 = m4 - 4 * m * m3 + 6 * m * m * m2 - 3 * m * m * m * m
            kurt[j] = varc > 0 ? Float(c4 / (varc * varc)) : 0
        }
        return ChannelStats(maxAbs: mx, meanAbs: sa.map { Float($0 / nn) }, rms: s2.map { Float(($0 / nn).squareRoot()) },
                            kurtosis: kurt, count: n)
    }
}

/// Input-activation statistics of every linear module, from calibration windows run through
/// the full-precision model block by block. Modules that share an input (q/k/v, gate/up)
/// share statistics.
public struct ActivationStats: Sendable {
    public let byModule: [LinearID: ChannelStats]
    public let windows: Int
    public let tokens: Int

    public init(model: LlamaModel, windows: [[Int32]], shouldStop: (() -> Bool)? = nil,
                progress: ((Int, Int) -> Void)? = nil) throws {
        try self.init(view: ModelView(base: model), windows: windows, shouldStop: shouldStop, progress: progress)
    }

    /// The statistics of a model view (a quantized model's packed layers materialized one
    /// block at a time, never the whole model).
    public init(view: ModelView, windows: [[Int32]], shouldStop: (() -> Bool)? = nil,
                progress: ((Int, Int) -> Void)? = nil) throws {
        let model = view.base
        let stream = BlockStream(model: model, windows: windows)
        var out: [LinearID: ChannelStats] = [:]
        let c = model.config
        for b in 0..<model.blocks.count {
            if shouldStop?() == true { throw CancellationError() }
            var acc = InputSite.allCases.map { ChannelStatsAccumulator(channels: $0.size(c)) }
            stream.traceAndAdvance(weights: view.overlay.isEmpty ? nil : view.block(b)) { _, tr in
                for site in InputSite.allCases { acc[site.rawValue].add(site.input(in: tr)) }
            }
            let st = acc.map(\.stats)
            for k in LinearKind.allCases { out[LinearID(block: b, kind: k)] = st[InputSite(k).rawValue] }
            progress?(b + 1, model.blocks.count)
        }
        byModule = out
        self.windows = windows.count
        tokens = windows.reduce(0) { $0 + $1.count }
    }
}

/// One outlier input channel.
public struct OutlierChannel: Sendable {
    public let module: LinearID
    public let channel: Int
    public let maxAbs: Float
    public let ratio: Float
    public let kurtosis: Float
}

/// Input channels whose `max|x|` exceeds `threshold ×` the median of their module, ranked by
/// that ratio across the model (one entry per shared input: q stands for q/k/v, gate for gate/up).
public func outlierChannels(_ stats: ActivationStats, threshold: Float = 6, top: Int? = nil) -> [OutlierChannel] {
    var out: [OutlierChannel] = []
    for (id, s) in stats.byModule where [.q, .o, .gate, .down].contains(id.kind) {
        let ratio = s.outlierRatio
        for j in 0..<s.channels where ratio[j] > threshold {
            out.append(OutlierChannel(module: id, channel: j, maxAbs: s.maxAbs[j], ratio: ratio[j], kurtosis: s.kurtosis[j]))
        }
    }
    out.sort { $0.ratio != $1.ratio ? $0.ratio > $1.ratio : $0.module < $1.module }
    if let top { return Array(out.prefix(top)) }
    return out
}

/// Statistics of a weight's rows (`axis: 1`, one entry per output channel) or columns
/// (`axis: 0`, one entry per input channel).
public func weightStats(_ w: Tensor, axis: Int) throws -> ChannelStats {
    guard w.rank == 2 else { throw QuantError("weight statistics need a 2-D tensor, got \(w.shape)", origin: .tensor) }
    guard axis == 0 || axis == 1 else { throw QuantError("axis must be 0 (columns) or 1 (rows), got \(axis)", origin: .options) }
    var acc = ChannelStatsAccumulator(channels: axis == 0 ? w.shape[1] : w.shape[0])
    acc.add(axis == 0 ? w : w.transposed())
    return acc.stats
}

/// GPTQ saliency `w²/[H⁻¹]ᵢᵢ` of every weight (`[out, in]`), with `H` damped as GPTQ does.
public func gptqSaliency(_ w: Tensor, hessian: Hessian, damp: Double = 0.01) throws -> Tensor {
    let n = hessian.size
    guard w.rank == 2 else { throw QuantError("weight \(w.shape) does not match Hessian size \(n)", origin: .tensor) }
    guard w.shape[1] == n else { throw QuantError("weight \(w.shape) does not match Hessian size \(n)", origin: .calibration) }
    var h = hessian.matrix()
    for i in 0..<n where h[i * n + i] == 0 { h[i * n + i] = 1 }
    let mean = (0..<n).reduce(0.0) { $0 + h[$1 * n + $1] } / Double(n)
    for i in 0..<n { h[i * n + i] += damp * mean }
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var lower = Int8(UInt8(ascii: "L"))
    dpotrf_(&lower, &nn, &h, &lda, &info)
    guard info == 0 else { throw QuantError("Hessian is not positive definite", origin: .hessian) }
    dpotri_(&lower, &nn, &h, &lda, &info)
    guard info == 0 else { throw QuantError("Hessian inverse failed", origin: .hessian) }
    let diag = (0..<n).map { h[$0 * n + $0] }
    var out = w
    for r in 0..<w.shape[0] {
        for c in 0..<n {
            let v = Double(w.data[r * n + c])
            out.data[r * n + c] = Float(v * v / diag[c])
        }
    }
    return out
}
