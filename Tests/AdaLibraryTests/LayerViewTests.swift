import AdaLang
import AdaLibrary
import AdaModel
import AdaQuant
import AdaTensor
import Testing

/// `saliency` and the `gptq` lesson on a quantized model run its blocks through the view, one
/// block materialized at a time. Their results must equal those computed the direct way: the
/// layer's inputs collected by running every window through the fully materialized model.
@Suite("Layer commands on quantized views")
struct LayerViewTests {
    @Test func saliencyAndTheGPTQLessonMatchTheMaterializedModel() throws {
        let (it, _) = makeInterpreter()
        let path = try tinyModelFile()
        let src = """
        m = load \(renderString(path))
        d = text "austen:emma" windows=3 ctx=8
        q = quantize m bits=2 group=4 dim=ic
        s = saliency q "blk.1.attn_v" d
        g = gptq q "blk.1.ffn_down" d bits=3 group=4
        """
        let r = run(src, in: it)
        #expect(r.error == nil, "\(r.error?.message ?? "")")
        guard case .object(let qo) = it.globals["q"], let q = qo as? QuantizedModelValue,
              case .object(let dobj) = it.globals["d"], let d = dobj as? DatasetValue,
              case .object(let so) = it.globals["s"], let s = so as? TensorValue,
              case .record(let g) = it.globals["g"], case .object(let gd) = g["dequantized"], let gdq = gd as? TensorValue
        else { Issue.record("missing results"); return }
        let full = q.view.materialized()
        // The direct way: every window through the materialized block 0, then block 1's trace.
        func hessian(_ id: LinearID) -> Hessian {
            var h = Hessian(size: full[id].shape[1])
            for w in d.windows {
                let rope = full.ropeTable(positions: w.count)
                var x = full.embed(w)
                for b in 0..<id.block { x = full.runBlock(full.blocks[b], x, rope: rope) }
                _ = full.runBlock(full.blocks[id.block], x, rope: rope) { tr in h.add(tr.input(of: id.kind)) }
            }
            return h
        }
        let v = LinearID(block: 1, kind: .v), down = LinearID(block: 1, kind: .down)
        // The quantized predecessors matter: block 0 is quantized, so block 1's inputs differ
        // from the original model's.
        #expect(full[LinearID(block: 0, kind: .q)] != q.base[LinearID(block: 0, kind: .q)])
        let expected = try gptqSaliency(full[v], hessian: hessian(v))
        #expect(s.tensor == expected)
        let spec = QuantSpec(bits: 3, group: 4, dim: .oc)
        let gq = try quantizeGPTQ(full[down], hessian: hessian(down), spec: spec)
        #expect(gdq.tensor == gq.dequantized)
    }
}
