import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// The origin a failing call reports (nil when it does not throw a QuantError).
private func origin(_ body: () throws -> Void) -> QuantError.Origin?? {
    do {
        try body()
        return nil
    } catch let e as QuantError {
        return .some(e.origin)
    } catch {
        return nil
    }
}

/// Each public function that can fail says what the failure concerns.
@Suite("QuantError origins")
struct QuantErrorTests {
    static let model = QTiny.model()
    static let w = Tensor(shape: [4, 8]) { Float($0) }

    @Test func bits() {
        for b in [0, 1, 9] {
            #expect(origin { _ = try quantizeRTN(Self.w, QuantSpec(bits: b, group: 4, dim: .oc)) } == .bits)
        }
        #expect(origin { _ = try QuantSpec(bits: 9, group: 0, dim: .ic).validate(rows: 4, cols: 4) } == .bits)
    }

    @Test func group() {
        #expect(origin { _ = try quantizeRTN(Self.w, QuantSpec(bits: 4, group: 16, dim: .oc)) } == .group)
        #expect(origin { _ = try quantizeRTN(Self.w, QuantSpec(bits: 4, group: 8, dim: .ic)) } == .group)
        #expect(origin { _ = try quantizeRTN(Self.w, QuantSpec(bits: 4, group: -2, dim: .oc)) } == .group)
    }

    @Test func specNotFittingAModuleKeepsTheSpecOrigin() {
        let m = Self.model
        // Inputs are 32 (48 for down): g64 per-OC does not fit blk.0.attn_q.
        #expect(origin { _ = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 4, group: 64, dim: .fixed(.oc))) } == .group)
        #expect(origin { _ = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 9, group: 8, dim: .fixed(.oc))) } == .bits)
    }

    @Test func tensor() {
        let v = Tensor(shape: [8], data: Array(repeating: 1, count: 8))
        #expect(origin { _ = try quantizeRTN(v, QuantSpec(bits: 4, group: 4, dim: .oc)) } == .tensor)
        var rng = TestRNG(seed: 3)
        let h = hessianOf(randomMatrix(16, 8, &rng))
        #expect(origin { _ = try quantizeGPTQ(v, hessian: h, spec: QuantSpec(bits: 4, group: 4, dim: .oc)) } == .tensor)
        #expect(origin { _ = try weightStats(Tensor(zeros: [4]), axis: 0) } == .tensor)
        #expect(origin { _ = try gptqSaliency(Tensor(zeros: [8]), hessian: h) } == .tensor)
    }

    @Test func calibration() {
        var rng = TestRNG(seed: 4)
        // A Hessian of the wrong size, and one without tokens.
        let h4 = hessianOf(randomMatrix(16, 4, &rng))
        #expect(origin { _ = try quantizeGPTQ(Self.w, hessian: h4, spec: QuantSpec(bits: 4, group: 4, dim: .oc)) } == .calibration)
        #expect(origin { _ = try quantizeGPTQ(Self.w, hessian: Hessian(size: 8), spec: QuantSpec(bits: 4, group: 4, dim: .oc)) } == .calibration)
        #expect(origin { _ = try gptqSaliency(Tensor(zeros: [1, 3]), hessian: h4) } == .calibration)
        // GPTQ and AdaDim without calibration windows.
        for opts in [QuantizeOptions(method: .gptq, bits: 4, group: 8, dim: .fixed(.oc)),
                     QuantizeOptions(method: .rtn, bits: 4, group: 8, dim: .ada(.block))] {
            #expect(origin { _ = try quantizeModel(Self.model, options: opts) } == .calibration, "\(opts.description)")
        }
    }

    @Test func hessian() {
        var rng = TestRNG(seed: 6)
        let h = hessianOf(randomMatrix(16, 8, &rng))
        // Negative damping makes the diagonal negative: not positive definite.
        #expect(origin { _ = try gptqSaliency(Self.w, hessian: h, damp: -10) } == .hessian)
    }

    @Test func options() throws {
        #expect(origin { _ = try weightStats(Self.w, axis: 2) } == .options)
        // AdaDim GPTQ from precomputed Hessians needs the dimension choices.
        let m = Self.model
        let hs = try CalibrationHessians(model: m, calibration: QTiny.windows(count: 2, length: 8))
        let opts = QuantizeOptions(method: .gptq, bits: 4, group: 8, dim: .ada(.block))
        #expect(origin { _ = try quantizeGPTQModel(m, options: opts, hessians: hs) } == .options)
    }

    @Test func file() throws {
        // A model that did not come from a GGUF file cannot be exported as one.
        let m = Self.model
        let plain = LlamaModel(config: m.config, tokenEmbedding: m.tokenEmbedding, outputNorm: m.outputNorm, output: m.output,
                               blocks: m.blocks, tokenizer: m.tokenizer, sourcePath: "somewhere")
        let path = FileManager.default.temporaryDirectory.path + "/ada-quant-error-\(UUID().uuidString).gguf"
        #expect(origin { try exportGGUF(plain, to: path) } == .file)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func messageAndOriginDefaults() {
        let e = QuantError("plain")
        #expect(e.origin == nil && e.description == "plain")
        #expect(QuantError("x", origin: .grid) != QuantError("x", origin: .dim))
        #expect(QuantError.Origin(rawValue: "calibration") == .calibration)
    }
}

/// The per-site Hessians equal Hessians fed each site's activations by hand.
@Suite("Site Hessians")
struct SiteHessianTests {
    @Test func sitesMatchHandBuiltHessians() throws {
        let m = QTiny.model()
        let c = m.config
        let windows = QTiny.windows(count: 3, length: 12)
        let hs = try CalibrationHessians(model: m, calibration: windows)
        #expect(hs.blocks.count == c.numLayers && hs.sites.count == c.numLayers)
        let stream = BlockStream(model: m, windows: windows)
        for b in 0..<c.numLayers {
            var byHand = [Hessian(size: c.hiddenSize), Hessian(size: c.numHeads * c.headDim),
                          Hessian(size: c.hiddenSize), Hessian(size: c.intermediateSize)]
            var sites = SiteHessians(config: c)
            stream.traceAndAdvance { _, tr in
                byHand[0].add(tr.attnIn); byHand[1].add(tr.attnContext); byHand[2].add(tr.mlpIn); byHand[3].add(tr.mlpAct)
                sites.add(tr)
            }
            for site in InputSite.allCases {
                #expect(sites[site].sum == byHand[site.rawValue].sum, "block \(b) \(site)")
                #expect(sites[site].tokens == 36)
                #expect(hs.sites[b][site.rawValue].sum == byHand[site.rawValue].sum)
            }
            for k in LinearKind.allCases {
                #expect(sites[k].sum == byHand[InputSite(k).rawValue].sum)
                #expect(hs.hessian(LinearID(block: b, kind: k)).sum == sites[k].sum)
                #expect(sites[k].size == m.blocks[b][k].shape[1], "\(k) input size")
            }
        }
        #expect(InputSite(.q) == .attnIn && InputSite(.v) == .attnIn && InputSite(.o) == .attnContext)
        #expect(InputSite(.up) == .mlpIn && InputSite(.down) == .mlpAct)
    }
}
