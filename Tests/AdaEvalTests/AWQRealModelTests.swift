import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// AWQ on the real models: the folded model's full-precision logits equal the original's
/// (GQA in both; Gemma 3's QK-norm, post-norms and GeGLU), and its RTN weights do better.
@Suite("AWQ on the real models", .serialized)
struct AWQRealModelTests {
    static func check(_ name: String) throws {
        let m = try LlamaModel.load(path: DataPaths.model(name))
        let toks = m.tokenizer.encode(try DataPaths.readText("austen:emma"))
        let cal = (0..<2).map { Array(toks[(1000 + $0 * 128)..<(1000 + ($0 + 1) * 128)]) }
        let spec = QuantSpec(bits: 3, group: 64, dim: .oc)
        let r = try awqScale(m, calibration: cal, options: AWQOptions(spec: spec, alphaGrid: 4))
        #expect(r.choices.contains { $0.alpha > 0 }, "\(name): some group is scaled")
        let window = Array(toks[5000..<5064])
        let (a, b) = (m.forward(window), r.model.forward(window))
        let rel = maxAbsDiffOf(a, b) / max(a.data.map(abs).max()!, 1e-6)
        #expect(rel < 2e-4, "\(name): relative logit difference \(rel)")
    }

    static func maxAbsDiffOf(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func smolLM2FoldingKeepsTheLogits() throws { try Self.check("smollm2") }
    @Test func gemma3FoldingKeepsTheLogits() throws { try Self.check("gemma3") }
}
