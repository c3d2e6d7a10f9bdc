import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// Models as views: a quantized model is the original plus an overlay of packed layers, and
/// the block-streamed perplexity of a view equals the per-window forward pass of the
/// materialized model bit for bit (docs/architecture.md, "Models as views").
@Suite("Model views (SmolLM2)", .serialized)
struct ModelViewTests {
    static let model: LlamaModel = try! LlamaModel.load(path: DataPaths.model("smollm2"))
    static let pride: [Int32] = model.tokenizer.encode(try! DataPaths.readText("austen:pride"))

    /// The in-memory path: each window through the materialized model, NLLs summed in order.
    func materializedPerplexity(_ m: LlamaModel, windows: Int, ctx: Int) throws -> Double {
        let ws = try evaluationWindows(Self.pride, windows: windows, ctx: ctx)
        var total = 0.0, count = 0
        for w in ws {
            let nll = windowNLLs(model: m, window: w)
            total += nll.reduce(0, +)
            count += nll.count
        }
        return exp(total / Double(count))
    }

    @Test func fullPrecisionViewMatchesPerWindowForward() throws {
        let m = Self.model
        let streamed = try perplexity(view: ModelView(base: m), tokens: Self.pride, windows: 3, ctx: 256)
        #expect(streamed.perplexity == (try materializedPerplexity(m, windows: 3, ctx: 256)))
    }

    @Test(arguments: [
        QuantizeOptions(method: .rtn, bits: 3, group: 128, dim: .fixed(.oc)),
        QuantizeOptions(method: .rtn, bits: 4, group: 64, dim: .fixed(.ic)),
        QuantizeOptions(method: .rtn, bits: 3, group: 128, dim: .ada(.block)),
        QuantizeOptions(method: .gptq, bits: 3, group: 128, dim: .ada(.block)),
    ])
    func quantizedViewIsExact(options: QuantizeOptions) throws {
        let m = Self.model
        let calib = try evaluationWindows(Array(Self.pride[20_000...]), windows: 4, ctx: 128)
        let q = try quantizeModel(m, options: options, calibration: options.needsCalibration ? calib : [])
        // The view shares the base: no layer of the original model was copied or changed.
        #expect(q.view.overlay.count == m.linearIDs.count)
        let qm = q.model
        #expect(qm.tokenEmbedding == m.tokenEmbedding && qm.outputNorm == m.outputNorm)
        // One block streamed from the overlay equals the materialized block.
        let b3 = q.view.block(3)
        for k in LinearKind.allCases { #expect(b3[k] == qm.blocks[3][k], "blk.3.\(k.ggufName)") }
        // The overlay is compact: its packed codes and group parameters, ≤ (bits + 1)/32 of
        // the Float32 layers (g ≥ 64: two Float32 parameters per 64 weights is one bit).
        let f32 = m.linearIDs.reduce(0) { $0 + m[$1].count * 4 }
        #expect(Double(q.view.overlayBytes) <= Double(f32) * Double(options.bits + 1) / 32, "\(q.view.overlayBytes) of \(f32)")
        // Block-streamed perplexity of the view = per-window forward of the materialized model.
        let streamed = try perplexity(view: q.view, tokens: Self.pride, windows: 2, ctx: 512)
        #expect(streamed.perplexity == (try materializedPerplexity(qm, windows: 2, ctx: 512)), "\(options.description)")
    }

    @Test func replacingALayerSharesTheRest() throws {
        let m = Self.model
        let id = LinearID(block: 5, kind: .v)
        let zero = Tensor(zeros: m[id].shape)
        let v0 = ModelView(base: m)
        let v1 = v0.replacing(id, with: zero)
        #expect(v0.overlay.isEmpty && v1.overlay.count == 1)
        #expect(v1.weight(id) == zero && v0.weight(id) == m[id])
        #expect(v1.block(4).v == m.blocks[4].v && v1.block(5).v == zero && v1.block(5).q == m.blocks[5].q)
        // A zeroed v changes the output: the view really runs its overlay.
        let a = try perplexity(view: v0, tokens: Self.pride, windows: 1, ctx: 128)
        let b = try perplexity(view: v1, tokens: Self.pride, windows: 1, ctx: 128)
        #expect(a.perplexity != b.perplexity)
        #expect(b.perplexity == (try materializedPerplexity(v1.materialized(), windows: 1, ctx: 128)))
    }

    /// evaluate, agreement and errors on a quantized model's view give exactly what the
    /// materialized model gives.
    @Test func evaluationOfAViewIsExact() throws {
        let m = Self.model
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 3, group: 128, dim: .fixed(.ic)))
        let qm = q.model
        let a = try evaluateTasks([.piqa, .lambada], view: q.view, limit: 3)
        let b = try evaluateTasks([.piqa, .lambada], model: qm, limit: 3)
        #expect(a.rows.count == b.rows.count && !a.rows.isEmpty)
        for (x, y) in zip(a.rows, b.rows) { #expect(x.task == y.task && x.metric == y.metric && x.value == y.value) }
        let ws = try evaluationWindows(Self.pride, windows: 2, ctx: 128)
        let ga = try agreement(reference: m, quantized: q.view, windows: ws)
        let gb = try agreement(reference: m, quantized: qm, windows: ws)
        #expect(ga.kl == gb.kl && ga.top1 == gb.top1 && ga.kl > 0)
        let ea = try moduleErrors(reference: m, quantized: q.view, calibration: ws)
        let eb = try moduleErrors(reference: m, quantized: qm, calibration: ws)
        #expect(ea.map(\.outputMSE) == eb.map(\.outputMSE) && ea.map(\.weightMSE) == eb.map(\.weightMSE))
    }
}
