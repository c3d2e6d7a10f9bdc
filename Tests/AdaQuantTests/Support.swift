import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

// Test support for AdaQuantTests: a seeded generator, float64 helpers, a float64 GPTQ written
// from the algorithm, a tiny random LLaMA and a float64 forward pass of its blocks.


func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout TestRNG, scale: Float = 1) -> Tensor {
    Tensor(shape: [rows, cols]) { _ in rng.normal() * scale }
}

/// Calibration-like activations `[n, ic]`: correlated features (a random mixing of a few
/// latent factors plus noise) with a few large-magnitude channels, as in real LLM inputs.
func randomActivations(_ n: Int, _ ic: Int, _ rng: inout TestRNG) -> Tensor {
    let latent = max(2, ic / 3)
    let mix = (0..<(latent * ic)).map { _ in Double(rng.normal()) }
    let chanScale = (0..<ic).map { _ in Double(rng.uniform(0.3, 1.5)) * (rng.int(0...5) == 0 ? 6 : 1) }
    var x = [Float](repeating: 0, count: n * ic)
    for t in 0..<n {
        let z = (0..<latent).map { _ in Double(rng.normal()) }
        for c in 0..<ic {
            var v = 0.3 * Double(rng.normal())
            for l in 0..<latent { v += z[l] * mix[l * ic + c] / Double(latent).squareRoot() }
            x[t * ic + c] = Float(v * chanScale[c])
        }
    }
    return Tensor(shape: [n, ic], data: x)
}

func hessianOf(_ x: Tensor) -> Hessian {
    var h = Hessian(size: x.shape[1])
    h.add(x)
    return h
}

/// `Σ_t Σ_o (x_t · (Ŵ − W)_oᵀ)²` in float64, and the number of terms.
func outputErrorSum(_ w: Tensor, _ wq: Tensor, _ x: Tensor) -> (sum: Double, count: Int) {
    let (oc, ic) = (w.shape[0], w.shape[1])
    let n = x.shape[0]
    let d = zip(wq.data, w.data).map { Double($0) - Double($1) }
    var s = 0.0
    for t in 0..<n {
        for o in 0..<oc {
            var acc = 0.0
            for c in 0..<ic { acc += Double(x.data[t * ic + c]) * d[o * ic + c] }
            s += acc * acc
        }
    }
    return (s, n * oc)
}


// MARK: - Grid formulas written from docs/reference.md §1.1 (Float32, round half to even)

struct RefGroup {
    var scale: Float
    var zero: Float

    static func fit(_ v: [Float], bits: Int, grid: GridKind) -> RefGroup {
        let maxq = Float((1 << bits) - 1)
        let mn = v.min()!, mx = v.max()!
        switch grid {
        case .minmax, .reference:
            let s = max(mx - mn, 1e-5) / maxq
            var z = (-mn / s).rounded(.toNearestOrEven)
            if grid == .reference { z = min(max(z, 0), maxq) }
            return RefGroup(scale: s, zero: z)
        case .gptq:
            var lo = min(mn, 0), hi = max(mx, 0)
            if lo == 0 && hi == 0 { lo = -1; hi = 1 }
            let s = (hi - lo) / maxq
            return RefGroup(scale: s, zero: (-lo / s).rounded(.toNearestOrEven))
        default:
            fatalError("reference grid \(grid) not needed here")
        }
    }

    func quantize(_ w: Float, bits: Int) -> Float {
        let maxq = Float((1 << bits) - 1)
        let q = min(max((w / scale).rounded(.toNearestOrEven) + zero, 0), maxq)
        return (q - zero) * scale
    }
}

// MARK: - Float64 GPTQ, unblocked, straight from the algorithm

/// GPTQ of `w: [oc, ic]` on calibration inputs `x: [n, ic]`, returning the dequantized weights.
/// H = (2/N)·XᵀX; dead inputs get H[i,i] = 1 and a zero weight column; per-OC static groups on
/// GPTQ's grid from the (dead-zeroed) original weights; act-order = stable sort by descending
/// diag(H) (ties keep column order, as the library documents); damping 1% of the mean diagonal;
/// U = upper Cholesky factor of (H + λI)⁻¹; columns quantized one at a time with the error
/// `(w − q)/U[k,k]` propagated to later columns through row k of U. per-IC: each column's
/// groups are fitted (minmax) to the error-updated column when it is quantized.
func referenceGPTQ(_ wt: Tensor, x xt: Tensor, bits: Int, group: Int, dim: QuantDim, actOrder: Bool,
                   damp: Double = 0.01) -> [Float] {
    let (oc, ic) = (wt.shape[0], wt.shape[1])
    let n = xt.shape[0]
    let g = group == 0 ? (dim == .oc ? ic : oc) : group
    var h = [Double](repeating: 0, count: ic * ic)
    for t in 0..<n {
        for i in 0..<ic {
            let xi = Double(xt.data[t * ic + i])
            if xi == 0 { continue }
            for j in 0..<ic { h[i * ic + j] += xi * Double(xt.data[t * ic + j]) }
        }
    }
    for i in 0..<(ic * ic) { h[i] *= 2 / Double(n) }
    var w = wt.data.map(Double.init)
    for i in 0..<ic where h[i * ic + i] == 0 {
        h[i * ic + i] = 1
        for r in 0..<oc { w[r * ic + i] = 0 }
    }
    // Static per-OC groups.
    var staticGroups: [[RefGroup]] = []
    if dim == .oc {
        for r in 0..<oc {
            staticGroups.append(stride(from: 0, to: ic, by: g).map { c0 in
                RefGroup.fit((c0..<min(c0 + g, ic)).map { Float(w[r * ic + $0]) }, bits: bits, grid: .gptq)
            })
        }
    }
    var perm = Array(0..<ic)
    if actOrder {
        perm.sort { h[$0 * ic + $0] != h[$1 * ic + $1] ? h[$0 * ic + $0] > h[$1 * ic + $1] : $0 < $1 }
    }
    var hp = [Double](repeating: 0, count: ic * ic)
    for i in 0..<ic { for j in 0..<ic { hp[i * ic + j] = h[perm[i] * ic + perm[j]] } }
    let mean = (0..<ic).reduce(0.0) { $0 + hp[$1 * ic + $1] } / Double(ic)
    for i in 0..<ic { hp[i * ic + i] += damp * mean }
    let hinv = spdInverse(hp, ic)
    let l2 = cholesky(hinv, ic)                 // hinv = L2·L2ᵀ
    var u = [Double](repeating: 0, count: ic * ic)  // U = L2ᵀ, hinv = UᵀU
    for i in 0..<ic { for j in 0..<ic { u[i * ic + j] = l2[j * ic + i] } }

    var wp = [Double](repeating: 0, count: oc * ic)
    for r in 0..<oc { for k in 0..<ic { wp[r * ic + k] = w[r * ic + perm[k]] } }
    var out = [Float](repeating: 0, count: oc * ic)
    for k in 0..<ic {
        let orig = perm[k]
        var colGroups: [RefGroup] = []
        if dim == .ic {
            colGroups = stride(from: 0, to: oc, by: g).map { r0 in
                RefGroup.fit((r0..<min(r0 + g, oc)).map { Float(wp[$0 * ic + k]) }, bits: bits, grid: .minmax)
            }
        }
        for r in 0..<oc {
            let gp = dim == .ic ? colGroups[r / g] : staticGroups[r][orig / g]
            let v = Float(wp[r * ic + k])
            let dq = gp.quantize(v, bits: bits)
            out[r * ic + orig] = dq
            let err = (Double(v) - Double(dq)) / u[k * ic + k]
            for j in (k + 1)..<ic { wp[r * ic + j] -= err * u[k * ic + j] }
        }
    }
    return out
}

/// Lower Cholesky factor L of a symmetric positive definite `a` (row-major): a = L·Lᵀ.
func cholesky(_ a: [Double], _ n: Int) -> [Double] {
    var l = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
        var s = a[j * n + j]
        for k in 0..<j { s -= l[j * n + k] * l[j * n + k] }
        precondition(s > 0, "not positive definite")
        let d = s.squareRoot()
        l[j * n + j] = d
        for i in (j + 1)..<n {
            var t = a[i * n + j]
            for k in 0..<j { t -= l[i * n + k] * l[j * n + k] }
            l[i * n + j] = t / d
        }
    }
    return l
}

/// Inverse of a symmetric positive definite matrix through its Cholesky factor.
func spdInverse(_ a: [Double], _ n: Int) -> [Double] {
    let l = cholesky(a, n)
    // Linv: lower triangular inverse of L by forward substitution.
    var li = [Double](repeating: 0, count: n * n)
    for c in 0..<n {
        for i in c..<n {
            var s = i == c ? 1.0 : 0.0
            for k in c..<i { s -= l[i * n + k] * li[k * n + c] }
            li[i * n + c] = s / l[i * n + i]
        }
    }
    // a⁻¹ = Linvᵀ·Linv.
    var inv = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n {
            var s = 0.0
            for k in max(i, j)..<n { s += li[k * n + i] * li[k * n + j] }
            inv[i * n + j] = s
        }
    }
    return inv
}

/// Fraction of entries equal within `tol` (absolute), and the largest difference.
func agreement(_ a: [Float], _ b: [Float], tol: Float) -> (fraction: Double, maxDiff: Float) {
    var same = 0
    var md: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        md = max(md, d)
        if d <= tol { same += 1 }
    }
    return (Double(same) / Double(max(a.count, 1)), md)
}

// MARK: - A tiny random LLaMA

/// 2 blocks, hidden 32, 4 heads of dim 8, 2 KV heads (k/v have 16 outputs), FFN 48, vocab 64.
/// A few weights carry structure so that AdaDim has something to choose: q's input columns have
/// very different scales (per-IC wins), gate's output rows too (per-OC wins), and block 1's v
/// sits exactly on a 4-bit grid in both dimensions (both errors are 0: a tie).
enum QTiny {
    static let config = LlamaConfig(vocabSize: 64, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4,
                                    numKVHeads: 2, headDim: 8, ropeTheta: 10000, rmsNormEps: 1e-5, contextLength: 64)

    /// Built as a GGUF file (LlamaBlock has no public initializer) and loaded back.
    static func model(seed: UInt64 = 0xADA) -> LlamaModel {
        var rng = TestRNG(seed: seed)
        let c = config
        func rand(_ r: Int, _ k: Int, _ s: Float) -> Tensor { Tensor(shape: [r, k]) { _ in rng.uniform(-s, s) } }
        func norm(_ n: Int) -> Tensor { Tensor(shape: [n]) { _ in rng.uniform(0.6, 1.4) } }
        let d = c.hiddenSize, qd = c.numHeads * c.headDim, kvd = c.numKVHeads * c.headDim, f = c.intermediateSize
        var g = GGUFWriter()
        g.set("general.architecture", .string("llama"))
        g.set("llama.block_count", .uint32(UInt32(c.numLayers)))
        g.set("llama.context_length", .uint32(UInt32(c.contextLength)))
        g.set("llama.embedding_length", .uint32(UInt32(d)))
        g.set("llama.feed_forward_length", .uint32(UInt32(f)))
        g.set("llama.attention.head_count", .uint32(UInt32(c.numHeads)))
        g.set("llama.attention.head_count_kv", .uint32(UInt32(c.numKVHeads)))
        g.set("llama.rope.freq_base", .float32(c.ropeTheta))
        g.set("llama.attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps))
        g.set("tokenizer.ggml.model", .string("gpt2"))
        g.set("tokenizer.ggml.tokens", .array((0..<c.vocabSize).map { .string("t\($0)") }))
        g.set("tokenizer.ggml.merges", .array([]))
        g.add("token_embd.weight", .f32(rand(c.vocabSize, d, 1)))
        for b in 0..<c.numLayers {
            let p = "blk.\(b)."
            // q: input columns of very different magnitudes (per-IC fits each column's range);
            // gate: output rows of very different magnitudes (per-OC fits each row's range).
            var q = rand(qd, d, 0.5)
            let colScale = (0..<d).map { _ in Float(exp(Double(rng.uniform(-2, 2)))) }
            for r in 0..<qd { for j in 0..<d { q.data[r * d + j] *= colScale[j] } }
            var gate = rand(f, d, 0.4)
            let rowScale = (0..<f).map { _ in Float(exp(Double(rng.uniform(-2, 2)))) }
            for r in 0..<f { for j in 0..<d { gate.data[r * d + j] *= rowScale[r] } }
            var v = rand(kvd, d, 0.4)
            if b == 1 {
                // Checkerboard of {0, 15/16}: every group of either dimension holds both values,
                // which a 4-bit minmax grid (scale 1/16) reproduces exactly.
                v = Tensor(shape: [kvd, d]) { i in (i / d + i % d) % 2 == 0 ? 0 : 15.0 / 16 }
            }
            g.add(p + "attn_norm.weight", .f32(norm(d)))
            g.add(p + "ffn_norm.weight", .f32(norm(d)))
            g.add(p + "attn_q.weight", .f32(q))
            g.add(p + "attn_k.weight", .f32(rand(kvd, d, 0.5)))
            g.add(p + "attn_v.weight", .f32(v))
            g.add(p + "attn_output.weight", .f32(rand(d, qd, 0.4)))
            g.add(p + "ffn_gate.weight", .f32(gate))
            g.add(p + "ffn_up.weight", .f32(rand(f, d, 0.4)))
            g.add(p + "ffn_down.weight", .f32(rand(d, f, 0.3)))
        }
        g.add("output_norm.weight", .f32(norm(d)))
        g.add("output.weight", .f32(rand(c.vocabSize, d, 0.5)))
        let path = FileManager.default.temporaryDirectory.path + "/ada-quant-tests-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try g.write(to: path)
            let m = try LlamaModel.loadGGUF(path)
            precondition(m.config == config, "tiny model config \(m.config)")
            return m
        } catch {
            fatalError("tiny model: \(error)")
        }
    }

    static func windows(count: Int, length: Int, seed: UInt64 = 7) -> [[Int32]] {
        var rng = TestRNG(seed: seed)
        return (0..<count).map { _ in (0..<length).map { _ in Int32(rng.int(0...(config.vocabSize - 1))) } }
    }
}

// MARK: - Float64 block forward (adjacent-pair RoPE, docs/reference.md §2.3), independent of Forward

typealias DM = [[Double]]

func dLinear(_ x: DM, _ w: Tensor) -> DM {
    let (oc, ic) = (w.shape[0], w.shape[1])
    return x.map { row in
        (0..<oc).map { o in
            var s = 0.0
            for c in 0..<ic { s += row[c] * Double(w.data[o * ic + c]) }
            return s
        }
    }
}

func dRMSNorm(_ x: DM, _ g: [Float], eps: Float) -> DM {
    x.map { row in
        let ms = row.reduce(0) { $0 + $1 * $1 } / Double(row.count)
        let inv = 1 / (ms + Double(eps)).squareRoot()
        return zip(row, g).map { $0 * inv * Double($1) }
    }
}

func dRoPE(_ x: DM, heads: Int, headDim hd: Int, theta: Float) -> DM {
    var out = x
    for p in 0..<x.count {
        for h in 0..<heads {
            for i in 0..<(hd / 2) {
                let a = Double(p) * pow(Double(theta), -2.0 * Double(i) / Double(hd))
                let x0 = x[p][h * hd + 2 * i], x1 = x[p][h * hd + 2 * i + 1]
                out[p][h * hd + 2 * i] = x0 * cos(a) - x1 * sin(a)
                out[p][h * hd + 2 * i + 1] = x0 * sin(a) + x1 * cos(a)
            }
        }
    }
    return out
}

/// Attention context (input of o) of normed input `xn` with the block's q, k, v.
func dAttentionContext(_ w: LlamaBlock, _ xn: DM, _ c: LlamaConfig) -> DM {
    let hd = c.headDim, T = xn.count
    let q = dRoPE(dLinear(xn, w.q), heads: c.numHeads, headDim: hd, theta: c.ropeTheta)
    let k = dRoPE(dLinear(xn, w.k), heads: c.numKVHeads, headDim: hd, theta: c.ropeTheta)
    let v = dLinear(xn, w.v)
    var ctx = DM(repeating: [Double](repeating: 0, count: c.numHeads * hd), count: T)
    let rep = c.numHeads / c.numKVHeads
    for h in 0..<c.numHeads {
        let g = h / rep
        for t in 0..<T {
            var s = (0...t).map { j in (0..<hd).reduce(0.0) { $0 + q[t][h * hd + $1] * k[j][g * hd + $1] } / Double(hd).squareRoot() }
            let m = s.max()!
            s = s.map { exp($0 - m) }
            let z = s.reduce(0, +)
            for j in 0...t { for e in 0..<hd { ctx[t][h * hd + e] += s[j] / z * v[j][g * hd + e] } }
        }
    }
    return ctx
}

/// silu(gate)·up (input of down) of normed input `xn`.
func dMLPActivation(_ w: LlamaBlock, _ xn: DM) -> DM {
    zip(dLinear(xn, w.gate), dLinear(xn, w.up)).map { zip($0, $1).map { g, u in g / (1 + exp(-g)) * u } }
}

struct DTrace {
    var attnIn, attnContext, mlpIn, mlpAct, output: DM
    func input(_ k: LinearKind) -> DM {
        switch k {
        case .q, .k, .v: return attnIn
        case .o: return attnContext
        case .gate, .up: return mlpIn
        case .down: return mlpAct
        }
    }
}

func dBlock(_ w: LlamaBlock, _ x: DM, _ c: LlamaConfig) -> DTrace {
    let attnIn = dRMSNorm(x, w.attnNorm, eps: c.rmsNormEps)
    let ctx = dAttentionContext(w, attnIn, c)
    let h = zip(x, dLinear(ctx, w.o)).map { zip($0, $1).map(+) }
    let mlpIn = dRMSNorm(h, w.ffnNorm, eps: c.rmsNormEps)
    let act = dMLPActivation(w, mlpIn)
    let out = zip(h, dLinear(act, w.down)).map { zip($0, $1).map(+) }
    return DTrace(attnIn: attnIn, attnContext: ctx, mlpIn: mlpIn, mlpAct: act, output: out)
}

/// Full-precision traces of every block for every window: `traces[block][window]`.
func dTraces(_ m: LlamaModel, _ windows: [[Int32]]) -> [[DTrace]] {
    var xs: [DM] = windows.map { w in w.map { t in m.tokenEmbedding.row(Int(t)).map(Double.init) } }
    var all: [[DTrace]] = []
    for b in m.blocks {
        let tr = xs.map { dBlock(b, $0, m.config) }
        all.append(tr)
        xs = tr.map(\.output)
    }
    return all
}

func dMSE(_ a: DM, _ b: DM) -> Double {
    var s = 0.0, n = 0
    for (ra, rb) in zip(a, b) { for (x, y) in zip(ra, rb) { s += (x - y) * (x - y); n += 1 } }
    return s / Double(n)
}

/// AdaDim's block criterion, written from docs/reference.md §1.3 in float64, with candidates
/// from `make` (the run's quantizer): greedy in module order inside each block; q/k/v/o judged
/// at the attention output, gate/up/down at the MLP output; each candidate compared with the
/// target of the block whose earlier modules are already quantized; block and MLP inputs from
/// the full-precision model; mean over the first `nSel` windows. Earlier choices follow
/// `follow` (the library's), so that each error is comparable even if a near-tie were decided
/// differently in float64.
func referenceBlockErrors(_ m: LlamaModel, traces: [[DTrace]], nSel: Int, follow: [LinearID: QuantDim],
                                  make: (LinearID, QuantDim) throws -> Tensor) throws -> [LinearID: (oc: Double, ic: Double)] {
    var res: [LinearID: (oc: Double, ic: Double)] = [:]
    for b in 0..<m.blocks.count {
        var cur = m.blocks[b]
        var ref: [DM] = []
        for k in LinearKind.allCases {
            func target(_ w: LlamaBlock, _ i: Int) -> DM {
                let tr = traces[b][i]
                switch k {
                case .q, .k, .v, .o: return dLinear(dAttentionContext(w, tr.attnIn, m.config), w.o)
                case .gate, .up, .down: return dLinear(dMLPActivation(w, tr.mlpIn), w.down)
                }
            }
            let id = LinearID(block: b, kind: k)
            var cOC = cur, cIC = cur
            cOC[k] = try make(id, .oc)
            cIC[k] = try make(id, .ic)
            if k == .q || k == .gate { ref = (0..<nSel).map { target(cur, $0) } }
            let outOC = (0..<nSel).map { target(cOC, $0) }, outIC = (0..<nSel).map { target(cIC, $0) }
            res[id] = ((0..<nSel).reduce(0.0) { $0 + dMSE(outOC[$1], ref[$1]) } / Double(nSel),
                       (0..<nSel).reduce(0.0) { $0 + dMSE(outIC[$1], ref[$1]) } / Double(nSel))
            let d = follow[id]!
            cur = d == .ic ? cIC : cOC
            ref = d == .ic ? outIC : outOC
        }
    }
    return res
}
