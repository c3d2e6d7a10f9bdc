import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Testing

/// Decoding from packed codes against decoding from the same model's dequantized Float32
/// weights (real SmolLM2, RTN views): fed the same tokens, the two decoders' logits agree to
/// Float32 summation noise at every step, and so do their greedy choices.
@Suite("Packed decoding (SmolLM2)", .serialized)
struct PackedDecodeTests {
    static let smol: LlamaModel = try! LlamaModel.load(path: DataPaths.model("smollm2"))

    @Test(arguments: [(4, QuantDim.oc), (4, .ic), (3, .oc), (2, .ic)])
    func packedDecoderMatchesTheDenseOne(bits: Int, dim: QuantDim) throws {
        let m = Self.smol
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: bits, group: 128, dim: .fixed(dim)))
        let prompt = m.tokenizer.encode("It is a truth universally acknowledged, that")
        let written = try generate(view: q.view, prompt: prompt, maxTokens: 24, stopAtEnd: false)
        let dense = KVDecoder(view: q.view, capacity: 64)
        let packed = KVDecoder(view: q.view, capacity: 64, kernels: .packed)
        #expect(packed.packedLayerCount == 7 * m.config.numLayers)
        // The file stores the tied embedding as Q8_0: 8-bit codes give it back exactly.
        #expect(packed.headIsPacked)
        var feed = prompt
        for step in 0...written.tokens.count {
            let a = dense.append(feed), b = packed.append(feed)
            let scale = a.reduce(0) { max($0, abs($1)) }
            let worst = zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
            #expect(worst <= 1e-3 * scale, "w\(bits) \(dim) step \(step): logits differ by \(worst) (max |logit| \(scale))")
            let top = a.indices.max { a[$0] < a[$1] }!
            let gap = a[top] - (a.indices.filter { $0 != top }.map { a[$0] }.max() ?? -.infinity)
            let pick = b.indices.max { b[$0] < b[$1] }!
            #expect(pick == top || gap < 2 * worst, "w\(bits) \(dim) step \(step): greedy \(pick) vs \(top)")
            if step < written.tokens.count { feed = [written.tokens[step]] }
        }
    }

    /// A head that 8-bit codes cannot represent exactly stays Float32.
    @Test func inexactHeadStaysDense() {
        var w = Tensor(shape: [2, 32]) { Float($0) / 7 }
        #expect(PackedMatrix.exactInt8(w) == nil)
        // Multiples of 0.25 with 127 × 0.25 in each group: d = 31.75 / 127 = 0.25 exactly.
        w = Tensor(shape: [2, 32]) { $0 % 32 == 0 ? 31.75 : Float($0 % 32 - 16) * 0.25 }
        let p = PackedMatrix.exactInt8(w)
        #expect(p != nil)
        let x = Tensor(shape: [1, 32]) { Float($0) - 3 }
        let y = p!.multiply(x)
        for r in 0..<2 {
            let want = (0..<32).reduce(0.0) { $0 + Double(w.data[r * 32 + $1]) * Double(x.data[$1]) }
            #expect(abs(Double(y.data[r]) - want) < 1e-4, "row \(r)")
        }
    }
}
