import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// Weight and layer-output errors of one quantized module.
public struct ModuleError: Sendable {
    public let id: LinearID
    public let weightMSE: Double
    /// Output MSE on the calibration inputs (full-precision inputs of that module).
    public let outputMSE: Double
}

/// Per-module weight MSE and layer-output MSE of `quantized` against `reference`, with the
/// module inputs of the full-precision model on `calibration` windows.
public func moduleErrors(reference: LlamaModel, quantized: LlamaModel, calibration: [[Int32]],
                         shouldStop: (() -> Bool)? = nil) throws -> [ModuleError] {
    let stream = BlockStream(model: reference, windows: calibration)
    var out: [ModuleError] = []
    for b in 0..<reference.blocks.count {
        if shouldStop?() == true { throw CancellationError() }
        let c = reference.config
        var hs: [LinearKind: Hessian] = [
            .q: Hessian(size: c.hiddenSize), .o: Hessian(size: c.numHeads * c.headDim),
            .gate: Hessian(size: c.hiddenSize), .down: Hessian(size: c.intermediateSize),
        ]
        stream.traceAndAdvance { _, tr in
            hs[.q]!.add(tr.attnIn); hs[.o]!.add(tr.attnContext); hs[.gate]!.add(tr.mlpIn); hs[.down]!.add(tr.mlpAct)
        }
        for k in LinearKind.allCases {
            let site: LinearKind = [.q, .k, .v].contains(k) ? .q : ([.gate, .up].contains(k) ? .gate : k)
            let w = reference.blocks[b][k], wq = quantized.blocks[b][k]
            let dw = try wq.subtracting(w)
            let wm = dw.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(dw.count)
            out.append(ModuleError(id: LinearID(block: b, kind: k), weightMSE: wm,
                                   outputMSE: outputMSE(w, wq, hessian: hs[site]!)))
        }
    }
    return out
}

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
    var kl = 0.0
    var agree = 0
    var n = 0
    for w in windows {
        if shouldStop?() == true { throw CancellationError() }
        let lp = reference.forward(w), lq = quantized.forward(w)
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
