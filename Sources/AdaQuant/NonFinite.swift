import AdaModel
import AdaTensor

/// Refuses weights holding NaN or ±∞: their group parameters and codes would be undefined.
func requireFiniteWeights(_ w: Tensor, _ name: String) throws {
    if let what = Finite.describeFirstNonFinite(w) {
        throw QuantError("\(name) holds a non-finite weight (\(what)) and cannot be quantized", origin: .tensor)
    }
}

/// Refuses quantized values that came out non-finite (finite weights whose range overflows
/// Float32, e.g. ±3e38 in one group).
func requireFiniteResult(_ q: QuantizedTensor, _ name: String) throws {
    if let what = Finite.describeFirstNonFinite(q.dequantized) {
        throw QuantError("quantizing \(name) gave a non-finite value (\(what)): its weights span a range too wide for Float32", origin: .tensor)
    }
}

/// A code from `GroupParams.code` as a byte: the code is clamped to 0…maxq, except NaN (from
/// overflowing group parameters), which becomes 0 here and is caught by `requireFiniteResult`.
@inline(__always)
func codeByte(_ q: Float) -> UInt8 { q.isNaN ? 0 : UInt8(q) }

/// Checks every weight a whole-model quantization reads: the linear modules it quantizes,
/// and, when calibration windows run through the model, the embedding and norms too (a NaN
/// there makes every activation, Hessian and AdaDim criterion NaN).
func requireFiniteModel(_ model: LlamaModel, calibrated: Bool) throws {
    for id in model.linearIDs where !model.blocks.isCheckedFinite(id.block) { try requireFiniteWeights(model[id], "\(id)") }
    guard calibrated else { return }
    try requireFiniteWeights(model.tokenEmbedding, "token_embd")
    for b in model.blocks.indices where !model.blocks.isCheckedFinite(b) {
        let block = model.blocks[b]
        try requireFiniteWeights(Tensor(shape: [block.attnNorm.count], data: block.attnNorm), "blk.\(b).attn_norm")
        try requireFiniteWeights(Tensor(shape: [block.ffnNorm.count], data: block.ffnNorm), "blk.\(b).ffn_norm")
    }
}

extension Hessian {
    /// Refuses a Hessian with NaN or ±∞ entries (from non-finite calibration activations).
    func requireFinite(_ name: String) throws {
        if let i = Finite.firstNonFinite(sum) {
            throw QuantError("the Hessian of \(name)'s inputs holds a non-finite value at [\(i / size), \(i % size)] (the calibration activations are not finite)",
                             origin: .calibration)
        }
    }
}
