import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// The tiny model written both ways (HF directory and GGUF), loaded once per test.
struct TinyFiles {
    let dir = TempDir()
    let tiny = TinyLlama(seed: 0xADA)
    let hfDir: String
    let ggufPath: String

    init(tied: Bool = false) throws {
        hfDir = dir.file("hf")
        try FileManager.default.createDirectory(atPath: hfDir, withIntermediateDirectories: true)
        try tiny.writeDirectory(hfDir, tied: tied)
        ggufPath = dir.write(tiny.ggufBytes(tied: tied), "tiny.gguf")
    }
}

private let sampleTokens: [Int32] = [258, 111, 261, 108, 100, 44, 32, 104, 101, 262, 49, 50, 7, 255, 0, 120]

@Suite("HF directory and GGUF loading")
struct LoadingTests {
    @Test func permutationOnAHandExample() {
        // One head of dim 4, rows [a0, a1, b0, b1] in half-split order → adjacent [a0, b0, a1, b1].
        let w = Tensor(shape: [4, 2], data: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5])
        let p = LlamaModel.permuteHalfSplitToAdjacent(w, heads: 1, headDim: 4)
        #expect(p.data == [0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5])
        // Two heads of dim 4: each head permuted within itself (rows 0 2 1 3 | 4 6 5 7).
        let w2 = Tensor(shape: [8, 1]) { Float($0) }
        #expect(LlamaModel.permuteHalfSplitToAdjacent(w2, heads: 2, headDim: 4).data == [0, 2, 1, 3, 4, 6, 5, 7])
        // Head dim 8: rows 0 4 1 5 2 6 3 7.
        let w3 = Tensor(shape: [8, 1]) { Float($0) }
        #expect(LlamaModel.permuteHalfSplitToAdjacent(w3, heads: 1, headDim: 8).data == [0, 4, 1, 5, 2, 6, 3, 7])
        // The test's inverse really is the inverse.
        let r = Tensor(shape: [16, 3]) { Float($0 * 7 % 11) }
        let back = LlamaModel.permuteHalfSplitToAdjacent(TinyLlama.adjacentToHalfSplit(r, heads: 4, headDim: 4), heads: 4, headDim: 4)
        #expect(back == r)
    }

    @Test func bothFormatsLoadTheSameModel() throws {
        let files = try TinyFiles()
        let a = try LlamaModel.load(path: files.hfDir)
        let b = try LlamaModel.load(path: files.ggufPath)
        let expected = LlamaConfig(vocabSize: 263, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 4,
                                   numKVHeads: 2, headDim: 4, ropeTheta: 10000, rmsNormEps: 1e-5, contextLength: 64)
        #expect(a.config == expected)
        #expect(b.config == expected)
        #expect(a.gguf == nil)
        #expect(b.gguf != nil)
        #expect(a.sourcePath == files.hfDir)
        // Weights agree exactly: the directory's q/k were un-permuted on load.
        for id in a.linearIDs { #expect(a[id] == b[id], "\(id)") }
        for l in 0..<2 {
            #expect(a.blocks[l].attnNorm == b.blocks[l].attnNorm)
            #expect(a.blocks[l].ffnNorm == b.blocks[l].ffnNorm)
        }
        #expect(a.tokenEmbedding == b.tokenEmbedding)
        #expect(a.output != nil && a.output == b.output)
        #expect(a.outputNorm == b.outputNorm)
        #expect(a.linearIDs.count == 14)
        #expect(a.linearParameterCount == 2 * (16 * 16 * 2 + 8 * 16 * 2 + 24 * 16 * 3) + 263 * 16)
    }

    @Test func bothFormatsGiveTheSameLogits() throws {
        let files = try TinyFiles()
        let a = try LlamaModel.load(path: files.hfDir)
        let b = try LlamaModel.load(path: files.ggufPath)
        let la = a.forward(sampleTokens), lb = b.forward(sampleTokens)
        #expect(la.shape == [sampleTokens.count, 263])
        #expect(maxAbsDiff(la, lb) <= 1e-5)
        #expect(la.data.allSatisfy { $0.isFinite })
    }

    @Test func logitsMatchAnIndependentHFReference() throws {
        // HF convention (half-split RoPE, HF-layout weights), float64, written from scratch.
        let files = try TinyFiles()
        let model = try LlamaModel.load(path: files.hfDir)
        let ref = TinyLlama.referenceLogits(hf: files.tiny.hfWeights, tokens: sampleTokens)
        let got = model.forward(sampleTokens)
        var worst = 0.0
        var scale = 0.0
        for t in 0..<sampleTokens.count {
            for v in 0..<263 {
                worst = max(worst, abs(Double(got[t, v]) - ref[t][v]))
                scale = max(scale, abs(ref[t][v]))
            }
        }
        #expect(scale > 0.5)  // non-trivial logits
        #expect(worst <= 1e-4, "max |ada − reference| = \(worst)")
    }

    @Test func skippingThePermutationChangesTheLogits() throws {
        let files = try TinyFiles()
        let good = try LlamaModel.load(path: files.hfDir)
        // The same model with q/k left in the HF half-split layout.
        var wrong = good
        let hf = files.tiny.hfWeights
        for l in 0..<2 {
            wrong.blocks[l].q = hf["model.layers.\(l).self_attn.q_proj.weight"]!
            wrong.blocks[l].k = hf["model.layers.\(l).self_attn.k_proj.weight"]!
            #expect(wrong.blocks[l].q != good.blocks[l].q)
        }
        let diff = maxAbsDiff(good.forward(sampleTokens), wrong.forward(sampleTokens))
        #expect(diff > 1e-2, "unpermuted q/k changed logits by only \(diff)")
        // A directory whose q/k are stored in the adjacent layout (i.e. not HF's) is permuted
        // on load and therefore disagrees with the GGUF.
        let dir = TempDir()
        try files.tiny.writeDirectory(dir.path, hfLayout: false)
        let misread = try LlamaModel.load(path: dir.path)
        let gg = try LlamaModel.load(path: files.ggufPath)
        #expect(maxAbsDiff(misread.forward(sampleTokens), gg.forward(sampleTokens)) > 1e-2)
        // Position 0 has no rotation, so the first row is unaffected by the layout.
        let l0 = good.forward([5]), w0 = wrong.forward([5])
        #expect(maxAbsDiff(l0, w0) <= 1e-5)
    }

    @Test func tiedOutputHead() throws {
        let files = try TinyFiles(tied: true)
        let a = try LlamaModel.load(path: files.hfDir)
        let b = try LlamaModel.load(path: files.ggufPath)
        #expect(a.output == nil && b.output == nil)
        #expect(a.head == a.tokenEmbedding)
        let ref = TinyLlama.referenceLogits(hf: files.tiny.hfWeights, tokens: Array(sampleTokens.prefix(6)), tied: true)
        let got = b.forward(Array(sampleTokens.prefix(6)))
        var worst = 0.0
        for t in 0..<6 { for v in 0..<263 { worst = max(worst, abs(Double(got[t, v]) - ref[t][v])) } }
        #expect(worst <= 1e-4)
        #expect(maxAbsDiff(a.forward(sampleTokens), b.forward(sampleTokens)) <= 1e-5)
    }

    @Test func tokenizersFromBothFormatsAgree() throws {
        let files = try TinyFiles()
        let a = try #require(try LlamaModel.load(path: files.hfDir).tokenizer as? BPETokenizer)
        let b = try #require(try LlamaModel.load(path: files.ggufPath).tokenizer as? BPETokenizer)
        #expect(a.vocabularySize == 263 && b.vocabularySize == 263)
        #expect(a.preTokenizer == .smollm && b.preTokenizer == .smollm)
        // "hello": h e l l o → (h e, rank 0) he l l o → (l l, 1) he ll o → (he ll, 2) hell o.
        // " world": Ġ w o r l d → (Ġ w, 3) Ġw o r l d → (o r, 4) Ġw or l d → (Ġw or, 5) Ġwor l d.
        // "42": digits split one by one. Byte ids equal the byte value.
        let expected: [Int32] = [258, 111, 261, 108, 100, 32, 52, 50]
        #expect(a.encode("hello world 42") == expected)
        #expect(b.encode("hello world 42") == expected)
        #expect(a.decode(expected) == "hello world 42")
        #expect(a.decode([262]) == "<|end|>")
        #expect(b.decode([262, 104]) == "<|end|>h")
        // "wor" without the leading space does not merge into Ġwor: w (119), or (260).
        #expect(a.encode("wor") == [119, 260])
        // Non-ASCII goes through the byte tokens: é = C3 A9.
        #expect(b.encode("é") == [0xC3, 0xA9])
        for s in ["hello, hello world!", "  spaced\n\nout  ", "日本語 🎉", "a1b22c333"] {
            #expect(a.encode(s) == b.encode(s), "\(s)")
            #expect(a.decode(a.encode(s)) == s)
        }
    }

    @Test func directoryErrors() throws {
        let files = try TinyFiles()
        let dir = TempDir()
        // No config.json.
        let cfgPath = dir.path + "/config.json"
        expectModelFileError(cfgPath, mentions: ["missing"]) { _ = try LlamaModel.load(path: dir.path) }
        // config.json lacking hidden_size.
        var cfg = TinyLlama.configJSON
        cfg.removeValue(forKey: "hidden_size")
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: cfgPath))
        expectModelFileError(cfgPath, mentions: ["hidden_size"]) { _ = try LlamaModel.load(path: dir.path) }
        // Heads not divisible by KV heads.
        cfg = TinyLlama.configJSON
        cfg["num_key_value_heads"] = 3
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: cfgPath))
        expectModelFileError(cfgPath, mentions: ["kv heads"]) { _ = try LlamaModel.load(path: dir.path) }
        // Valid config, no safetensors.
        try JSONSerialization.data(withJSONObject: TinyLlama.configJSON).write(to: URL(fileURLWithPath: cfgPath))
        expectModelFileError(dir.path, mentions: ["safetensors"]) { _ = try LlamaModel.load(path: dir.path) }
        // A safetensors file missing one tensor.
        var w = SafetensorsWriter()
        for (name, t) in files.tiny.hfWeights where name != "model.layers.1.mlp.up_proj.weight" { w.add(name, f32: t) }
        try w.write(to: dir.path + "/model.safetensors")
        expectModelFileError(dir.path, mentions: ["model.layers.1.mlp.up_proj.weight"]) { _ = try LlamaModel.load(path: dir.path) }
        // A tensor of the wrong shape.
        w = SafetensorsWriter()
        for (name, t) in files.tiny.hfWeights {
            w.add(name, f32: name == "model.norm.weight" ? Tensor(zeros: [17]) : t)
        }
        try w.write(to: dir.path + "/model.safetensors")
        expectModelFileError(dir.path + "/model.safetensors", mentions: ["model.norm.weight", "[17]"]) {
            _ = try LlamaModel.load(path: dir.path)
        }
    }

    @Test func weightsSplitAcrossSeveralSafetensorsFiles() throws {
        let files = try TinyFiles()
        let dir = TempDir()
        try FileManager.default.copyItem(atPath: files.hfDir + "/config.json", toPath: dir.path + "/config.json")
        try FileManager.default.copyItem(atPath: files.hfDir + "/tokenizer.json", toPath: dir.path + "/tokenizer.json")
        var w1 = SafetensorsWriter(), w2 = SafetensorsWriter()
        for (name, t) in files.tiny.hfWeights.sorted(by: { $0.key < $1.key }) {
            if name.contains("layers.1") { w2.add(name, f32: t) } else { w1.add(name, f32: t) }
        }
        try w1.write(to: dir.path + "/model-00001-of-00002.safetensors")
        try w2.write(to: dir.path + "/model-00002-of-00002.safetensors")
        let split = try LlamaModel.load(path: dir.path)
        let whole = try LlamaModel.load(path: files.ggufPath)
        #expect(maxAbsDiff(split.forward(sampleTokens), whole.forward(sampleTokens)) <= 1e-5)
    }
}

@Suite("Forward pass identities")
struct ForwardTests {
    static func model() throws -> LlamaModel {
        let files = try TinyFiles()
        return try LlamaModel.load(path: files.ggufPath)
    }

    @Test func causal() throws {
        let m = try Self.model()
        let base = m.forward(sampleTokens)
        let n = sampleTokens.count
        for changeAt in [n - 1, n / 2, 1] {
            var other = sampleTokens
            other[changeAt] = other[changeAt] == 7 ? 8 : 7
            let l = m.forward(other)
            // Rows before the change are unaffected; the changed row itself differs.
            #expect(maxAbsDiff(base.rows(0..<changeAt), l.rows(0..<changeAt)) <= 1e-6, "change at \(changeAt)")
            #expect(maxAbsDiff(base.rows(changeAt..<(changeAt + 1)), l.rows(changeAt..<(changeAt + 1))) > 1e-3)
        }
    }

    @Test func prefixGivesTheSameLogits() throws {
        let m = try Self.model()
        let full = m.forward(sampleTokens)
        for k in [1, 2, 5, 11] {
            let part = m.forward(Array(sampleTokens.prefix(k)))
            #expect(maxAbsDiff(part, full.rows(0..<k)) <= 1e-5, "prefix \(k)")
        }
    }

    @Test func blockStreamTracesEqualRunBlock() throws {
        let m = try Self.model()
        let windows: [[Int32]] = [sampleTokens, Array(sampleTokens.reversed().prefix(9)), [3, 3, 3, 3]]
        let stream = BlockStream(model: m, windows: windows)
        #expect(stream.hidden.count == 3)
        #expect(stream.rope.positions == sampleTokens.count)
        #expect(stream.hidden[1] == m.embed(windows[1]))
        var blocksSeen = 0
        while !stream.isFinished {
            let b = stream.block
            let weights = m.blocks[b]
            let inputs = stream.hidden
            var seen = Set<Int>()
            stream.trace { i, tr, out in
                seen.insert(i)
                let x = inputs[i]
                let rope = m.ropeTable(positions: x.shape[0])
                var direct: BlockTrace?
                let expectedOut = m.runBlock(weights, x, rope: rope) { direct = $0 }
                #expect(maxAbsDiff(out, expectedOut) <= 1e-6)
                #expect(maxAbsDiff(tr.attnIn, direct!.attnIn) <= 1e-6)
                #expect(maxAbsDiff(tr.attnContext, direct!.attnContext) <= 1e-6)
                #expect(maxAbsDiff(tr.mlpIn, direct!.mlpIn) <= 1e-6)
                #expect(maxAbsDiff(tr.mlpAct, direct!.mlpAct) <= 1e-6)
                // The traced inputs recompose the block's output:
                // attnIn = rmsNorm(x), h = x + ctx·Woᵀ, mlpIn = rmsNorm(h),
                // mlpAct = silu(mlpIn·Wgᵀ) ⊙ mlpIn·Wuᵀ, out = h + mlpAct·Wdᵀ.
                let eps = m.config.rmsNormEps
                #expect(maxAbsDiff(tr.attnIn, Forward.rmsNorm(x, weight: weights.attnNorm, eps: eps)) <= 1e-6)
                let h = try! x + Forward.linear(tr.attnContext, weights.o)
                #expect(maxAbsDiff(tr.mlpIn, Forward.rmsNorm(h, weight: weights.ffnNorm, eps: eps)) <= 1e-5)
                let g = Forward.linear(tr.mlpIn, weights.gate), u = Forward.linear(tr.mlpIn, weights.up)
                let act = Tensor(shape: g.shape, data: zip(g.data, u.data).map { gv, uv in
                    Float(Double(gv) / (1 + Foundation.exp(-Double(gv))) * Double(uv))
                })
                #expect(maxAbsDiff(tr.mlpAct, act) <= 1e-5)
                #expect(maxAbsDiff(out, try! h + Forward.linear(tr.mlpAct, weights.down)) <= 1e-5)
                #expect(tr.input(of: .q) == tr.attnIn && tr.input(of: .o) == tr.attnContext)
                #expect(tr.input(of: .up) == tr.mlpIn && tr.input(of: .down) == tr.mlpAct)
                #expect(tr.attnContext.shape == [x.shape[0], 16] && tr.mlpAct.shape == [x.shape[0], 24])
            }
            #expect(seen == [0, 1, 2])
            #expect(stream.block == b)  // trace does not advance
            stream.advance()
            blocksSeen += 1
        }
        #expect(blocksSeen == 2)
        for (i, w) in windows.enumerated() {
            #expect(maxAbsDiff(m.logits(stream.hidden[i]), m.forward(w)) <= 1e-5, "window \(i)")
        }
    }

    @Test func blockStreamWithSubstitutedWeightsAndOutputs() throws {
        let m = try Self.model()
        let windows: [[Int32]] = [Array(sampleTokens.prefix(8)), Array(sampleTokens.suffix(8))]
        // A block whose down projection is zero adds only the attention branch.
        var noMLP = m.blocks[0]
        noMLP.down = Tensor(zeros: noMLP.down.shape)
        let s1 = BlockStream(model: m, windows: windows)
        var outputs: [Tensor] = []
        s1.trace(weights: noMLP) { i, tr, out in
            let x = m.embed(windows[i])
            #expect(maxAbsDiff(out, try! x + Forward.linear(tr.attnContext, noMLP.o)) <= 1e-6)
            outputs.append(out)
        }
        s1.advance(outputs: outputs)
        let s2 = BlockStream(model: m, windows: windows)
        s2.advance(weights: noMLP)
        #expect(s1.block == 1 && s2.block == 1)
        for i in 0..<2 { #expect(maxAbsDiff(s1.hidden[i], s2.hidden[i]) <= 1e-6) }
        // Thrown errors propagate out of trace.
        struct Stop: Error {}
        #expect(throws: Stop.self) { try s1.trace { _, _, _ in throw Stop() } }
    }

    @Test func ropeTableValues() {
        // θ_i = p · base^(−2i/d): head dim 4, base 10000 → frequencies 1 and 0.01.
        let t = RoPETable(positions: 3, headDim: 4, theta: 10000)
        var x = Tensor(shape: [3, 4], data: [1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1])
        Forward.applyRoPE(&x, heads: 1, headDim: 4, table: t)
        // Row 0 (p = 0): unchanged.
        #expect(Array(x.row(0)) == [1, 0, 1, 0])
        // Row 1 (p = 1): (1, 0) rotated by 1 rad and by 0.01 rad.
        let r1: [Float] = [Float(cos(1.0)), Float(sin(1.0)), Float(cos(0.01)), Float(sin(0.01))]
        #expect(zip(Array(x.row(1)), r1).allSatisfy { abs($0 - $1) <= 1e-6 })
        // Row 2 (p = 2): (0, 1) rotated by 2 rad → (−sin 2, cos 2), and by 0.02 rad.
        let r2: [Float] = [Float(-sin(2.0)), Float(cos(2.0)), Float(-sin(0.02)), Float(cos(0.02))]
        #expect(zip(Array(x.row(2)), r2).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    @Test func attentionAndNormOnHandValues() {
        // RMSNorm of (3, 4): mean square 12.5 → divide by √12.5; weight (1, 2).
        let n = Forward.rmsNorm(Tensor(shape: [1, 2], data: [3, 4]), weight: [1, 2], eps: 0)
        let rms = Float(12.5).squareRoot()
        #expect(abs(n.data[0] - 3 / rms) <= 1e-6 && abs(n.data[1] - 8 / rms) <= 1e-6)
        // Single-head attention, head dim 2, two positions. Row 0 attends only to itself → v0.
        // Row 1: scores q1·k0/√2 = 0, q1·k1/√2 = 2/√2 → weights softmax(0, √2).
        let q = Tensor(shape: [2, 2], data: [1, 0, 0, 2])
        let k = Tensor(shape: [2, 2], data: [1, 0, 0, 1])
        let v = Tensor(shape: [2, 2], data: [10, 20, 30, 40])
        let o = Forward.attention(q: q, k: k, v: v, heads: 1, kvHeads: 1, headDim: 2)
        let w1 = exp(2.0.squareRoot()) / (1 + exp(2.0.squareRoot()))
        #expect(abs(o[0, 0] - 10) <= 1e-5 && abs(o[0, 1] - 20) <= 1e-5)
        #expect(abs(Double(o[1, 0]) - (10 * (1 - w1) + 30 * w1)) <= 1e-4)
        #expect(abs(Double(o[1, 1]) - (20 * (1 - w1) + 40 * w1)) <= 1e-4)
        // Linear: x·Wᵀ.
        let y = Forward.linear(Tensor(shape: [1, 3], data: [1, 2, 3]), Tensor(shape: [2, 3], data: [1, 0, 0, 1, 1, 1]))
        #expect(y.data == [1, 6])
        // SwiGLU: silu(0)·u = 0, silu(2)·3 = 2/(1+e^−2)·3.
        var g = Tensor(shape: [2], data: [0, 2])
        Forward.swiglu(&g, Tensor(shape: [2], data: [5, 3]))
        #expect(g.data[0] == 0)
        #expect(abs(Double(g.data[1]) - 6 / (1 + exp(-2.0))) <= 1e-5)
    }

    @Test func longAttentionEqualsFloat64Reference() {
        // T = 300 spans three row blocks of `attention` (the last one ragged), with grouped
        // heads (4 heads on 2 KV heads): every row against a plain float64 causal softmax.
        let t = 300, heads = 4, kvHeads = 2, hd = 8
        var rng = UInt64(0x5EED)
        func next() -> Float {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: rng >> 11) % 2000 - 1000) / 500
        }
        let q = Tensor(shape: [t, heads * hd], data: (0..<(t * heads * hd)).map { _ in next() })
        let k = Tensor(shape: [t, kvHeads * hd], data: (0..<(t * kvHeads * hd)).map { _ in next() })
        let v = Tensor(shape: [t, kvHeads * hd], data: (0..<(t * kvHeads * hd)).map { _ in next() })
        #expect(t > 2 * Forward.attentionRowBlock)
        let o = Forward.attention(q: q, k: k, v: v, heads: heads, kvHeads: kvHeads, headDim: hd)
        var worst = 0.0
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            for r in 0..<t {
                var s = (0...r).map { j in
                    (0..<hd).reduce(0.0) { $0 + Double(q[r, h * hd + $1]) * Double(k[j, g * hd + $1]) } / Double(hd).squareRoot()
                }
                let m = s.max()!
                s = s.map { exp($0 - m) }
                let z = s.reduce(0, +)
                for d in 0..<hd {
                    let want = (0...r).reduce(0.0) { $0 + s[$1] / z * Double(v[$1, g * hd + d]) }
                    worst = max(worst, abs(want - Double(o[r, h * hd + d])))
                }
            }
        }
        #expect(worst <= 1e-4, "largest difference \(worst)")
    }
}
