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
    try moduleErrors(reference: reference, quantized: ModelView(base: quantized), calibration: calibration,
                     shouldStop: shouldStop)
}

/// `moduleErrors` of a model view (a quantized model's packed layers, one block at a time).
public func moduleErrors(reference: LlamaModel, quantized: ModelView, calibration: [[Int32]],
                         shouldStop: (() -> Bool)? = nil) throws -> [ModuleError] {
    guard quantized.blockCount == reference.blocks.count else {
        throw EvalError("the models have \(reference.blocks.count) and \(quantized.blockCount) blocks", origin: .model)
    }
    let stream = BlockStream(model: reference, windows: calibration)
    var out: [ModuleError] = []
    for b in 0..<reference.blocks.count {
        if shouldStop?() == true { throw CancellationError() }
        var hs = SiteHessians(config: reference.config)
        stream.traceAndAdvance { _, tr in hs.add(tr) }
        for k in LinearKind.allCases {
            let w = reference[LinearID(block: b, kind: k)], wq = quantized.weight(LinearID(block: b, kind: k))
            let dw = try wq.subtracting(w)
            let wm = dw.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(dw.count)
            out.append(ModuleError(id: LinearID(block: b, kind: k), weightMSE: wm,
                                   outputMSE: outputMSE(w, wq, hessian: hs[k])))
        }
    }
    return out
}
