import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import Foundation
import Testing

/// KL divergence, top-1 agreement and per-module errors on the real SmolLM2.
@Suite("Quantized-model errors (SmolLM2)", .serialized)
struct AgreementTests {
    static let model: LlamaModel = try! LlamaModel.load(path: DataPaths.model("smollm2"))
    static let windows: [[Int32]] = try! evaluationWindows(model.tokenizer.encode(try! DataPaths.readText("austen:pride")), windows: 2, ctx: 64)
    static let rtn: QuantizedModel = try! quantizeModel(model, options: QuantizeOptions(method: .rtn, bits: 3, group: 128, dim: .fixed(.oc)))

    @Test func identicalModelsAgreeFully() throws {
        let r = try agreement(reference: Self.model, quantized: Self.model, windows: Self.windows)
        #expect(r.positions == 2 * 63)
        #expect(r.kl < 1e-9)
        #expect(r.top1 == 1)
    }

    @Test func quantizedModelDiverges() throws {
        let r = try agreement(reference: Self.model, quantized: Self.rtn.model, windows: Self.windows)
        #expect(r.kl > 0.01)
        #expect(r.top1 < 1 && r.top1 > 0.2)
    }

    @Test func moduleErrorsAreZeroForTheSameModelAndMatchDirectComputation() throws {
        let cal = Array(Self.windows.prefix(1))
        let same = try moduleErrors(reference: Self.model, quantized: Self.model, calibration: cal)
        #expect(same.count == Self.model.linearIDs.count)
        #expect(same.allSatisfy { $0.weightMSE == 0 && $0.outputMSE == 0 })
        let errs = try moduleErrors(reference: Self.model, quantized: Self.rtn.model, calibration: cal)
        // Identity checks on block 0: weight MSE and the output MSE of q on its traced input.
        let id = LinearID(block: 0, kind: .q)
        let w = Self.model[id], wq = Self.rtn.model[id]
        let dw = try wq.subtracting(w)
        let wmse = dw.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(dw.count)
        let e = errs.first { $0.id == id }!
        #expect(abs(e.weightMSE - wmse) <= 1e-9 * max(wmse, 1e-12) + 1e-15)
        var x = Tensor(zeros: [0])
        BlockStream(model: Self.model, windows: cal).trace { _, tr, _ in x = tr.attnIn }
        let y = Forward.linear(x, dw)
        let direct = y.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(y.count)
        #expect(abs(e.outputMSE - direct) <= 1e-3 * direct)
        #expect(errs.allSatisfy { $0.weightMSE > 0 && $0.outputMSE > 0 })
    }
}
