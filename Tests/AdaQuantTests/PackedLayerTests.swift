import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Testing

/// A model view keeps quantized layers packed: the packed layer must give back the
/// quantizer's codes and its Float32 result exactly, for every width, both dimensions,
/// ragged groups and per-channel, after RTN and after GPTQ.
@Suite("Packed layers")
struct PackedLayerTests {
    @Test(arguments: [2, 3, 4, 5, 6, 7, 8])
    func packedLayerGivesBackTheQuantizerResult(bits: Int) throws {
        var rng = TestRNG(seed: UInt64(40 + bits))
        let w = randomMatrix(13, 37, &rng)
        let x = randomActivations(64, 37, &rng)
        for dim in QuantDim.allCases {
            for group in [8, 0] {
                let spec = QuantSpec(bits: bits, group: group, dim: dim)
                for q in [try quantizeRTN(w, spec), try quantizeGPTQ(w, hessian: hessianOf(x), spec: spec)] {
                    let p = PackedLayer(q)
                    #expect(p.codes == q.codes, "w\(bits) \(dim) g\(group)")
                    #expect(p.dequantized == q.dequantized, "w\(bits) \(dim) g\(group)")
                    #expect(p.materialize() == q.dequantized)
                    #expect(p.shape == [13, 37] && p.ragged == q.ragged)
                    // ⌈13·37·b/8⌉ bytes of codes plus two Float32 per group.
                    #expect(p.storedBytes == (13 * 37 * bits + 7) / 8 + 8 * q.scales.count)
                }
            }
        }
    }

    @Test func viewOverlayOfAQuantizedModel() throws {
        let m = QTiny.model()
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 3, group: 8, dim: .fixed(.ic)))
        #expect(Set(q.view.overlay.keys) == Set(m.linearIDs))
        let qm = q.model
        for b in 0..<m.blocks.count {
            let blk = q.view.block(b)
            for k in LinearKind.allCases {
                let id = LinearID(block: b, kind: k)
                #expect(blk[k] == qm[id] && q.view.weight(id) == qm[id])
                #expect(qm[id] == (try quantizeRTN(m[id], QuantSpec(bits: 3, group: 8, dim: .ic))).dequantized)
            }
            #expect(blk.attnNorm == m.blocks[b].attnNorm && blk.ffnNorm == m.blocks[b].ffnNorm)
        }
        // The base is the original model, unchanged.
        for id in m.linearIDs { #expect(q.view.base[id] == m[id]) }
    }

    @Test func blockCacheKeepsBlocksUnderItsBudget() throws {
        let m = QTiny.model()
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 4, group: 8, dim: .fixed(.oc)))
        let perBlock = LinearKind.allCases.reduce(0) { $0 + m.blocks[0][$1].count * 4 }
        // Room for one block: the second evicts the first; every block equals the view's.
        let one = BlockCache(q.view, budget: perBlock)
        let b0 = one.block(0)
        #expect(one.heldBytes == perBlock)
        let b1 = one.block(1)
        #expect(one.heldBytes == perBlock)
        for k in LinearKind.allCases { #expect(b0[k] == q.view.block(0)[k] && b1[k] == q.view.block(1)[k]) }
        // A budget below one block keeps nothing; a view without overlay needs no room.
        let none = BlockCache(q.view, budget: perBlock - 1)
        _ = none.block(0)
        #expect(none.heldBytes == 0)
        let plain = BlockCache(ModelView(base: m), budget: 0)
        #expect(plain.block(1).q == m.blocks[1].q && plain.heldBytes == 0)
    }

    @Test func memoryBudgetParsing() {
        #expect(MemoryBudget.parse("123") == 123)
        #expect(MemoryBudget.parse("512M") == 512 << 20)
        #expect(MemoryBudget.parse("4g") == 4 << 30)
        #expect(MemoryBudget.parse("64K") == 64 << 10)
        for bad in ["", "G", "-1G", "0", "1.5G", "12X", "99999999999999999999G"] { #expect(MemoryBudget.parse(bad) == nil, "\(bad)") }
    }
}
