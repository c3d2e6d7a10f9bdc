import AdaModel
import AdaTensor
import Foundation

/// How closely a quantized model's next-token distribution follows the reference's.
public struct AgreementResult: Sendable, CustomStringConvertible {
    /// Mean KL(P_reference ‖ P_quantized) in nats per position.
    public let kl: Double
    /// Fraction of positions where both models' most likely next token agree.
    public let top1: Double
    public let positions: Int
    public var description: String { String(format: "KL %.5f nats, top-1 agreement %.2f%% over %d positions", kl, top1 * 100, positions) }
}

/// KL divergence and top-1 agreement over evaluation windows (positions 1…ctx−1 that predict
/// a next token inside the window, as in perplexity).
public func agreement(reference: LlamaModel, quantized: LlamaModel, windows: [[Int32]],
                      shouldStop: (() -> Bool)? = nil) throws -> AgreementResult {
    try agreement(reference: reference, quantized: ModelView(base: quantized), windows: windows, shouldStop: shouldStop)
}

/// `agreement` with a model view: the view's windows run block by block (its packed layers
/// materialized one block at a time), then each window's logits as in `forward`.
public func agreement(reference: LlamaModel, quantized: ModelView, windows: [[Int32]],
                      shouldStop: (() -> Bool)? = nil) throws -> AgreementResult {
    var kl = 0.0
    var agree = 0
    var n = 0
    let hq = try quantized.finalHiddens(windows, shouldStop: shouldStop)
    for (i, w) in windows.enumerated() {
        if shouldStop?() == true { throw CancellationError() }
        let lp = reference.forward(w), lq = quantized.base.logits(hq[i])
        let (t, v) = lp.matrixShape
        lp.data.withUnsafeBufferPointer { pp in
            lq.data.withUnsafeBufferPointer { pq in
                for r in 0..<(t - 1) {
                    let a = pp.baseAddress! + r * v, b = pq.baseAddress! + r * v
                    var ma = -Float.infinity, mb = -Float.infinity
                    var ia = 0, ib = 0
                    for j in 0..<v {
                        if a[j] > ma { ma = a[j]; ia = j }
                        if b[j] > mb { mb = b[j]; ib = j }
                    }
                    var sa = 0.0, sb = 0.0
                    for j in 0..<v { sa += Double(FastMath.exp(a[j] - ma)); sb += Double(FastMath.exp(b[j] - mb)) }
                    let lza = log(sa) + Double(ma), lzb = log(sb) + Double(mb)
                    var k = 0.0
                    for j in 0..<v {
                        let la = Double(a[j]) - lza, lb = Double(b[j]) - lzb
                        k += exp(la) * (la - lb)
                    }
                    kl += max(k, 0)
                    if ia == ib { agree += 1 }
                    n += 1
                }
            }
        }
    }
    return AgreementResult(kl: kl / Double(max(n, 1)), top1: Double(agree) / Double(max(n, 1)), positions: n)
}
