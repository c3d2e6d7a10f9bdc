import AdaModel
import AdaQuant
import AdaTensor
import Foundation

/// How a decoder multiplies by a quantized model's layers.
public enum DecodeKernels: String, Sendable, CaseIterable {
    /// Float32 weights (a quantized view's layers dequantized once, kept within the memory
    /// budget), OpenBLAS products.
    case dense
    /// Packed layers through the packed kernels, never dequantized: the layer's memory is its
    /// packed size. The head too runs from 8-bit codes when those represent it exactly (a
    /// file that stores it as Q8_0). Equal to `dense` up to Float32 summation order.
    case packed
    /// As `packed`, each product's input rounded to int8 per block of 32 and multiplied with
    /// integer dot products (AVX-512 VNNI; on CPUs without them, the same as `packed`). The
    /// logits differ from `dense` by the input rounding (at most half a step of 1/127 of each
    /// block's largest input, per input).
    case packedInt8 = "packed_int8"
}

/// A decoder over a model view that keeps every layer's keys and values (after QK-norm and
/// RoPE) for the positions it has run, so each further token is one batch-1 pass through
/// each block: its q attends to the cached keys (within the window on sliding-window
/// layers). The operations are those of `LlamaModel.runBlock` (the same `rotated`,
/// `residual` and `mlpActivation` of the family's spec); only attention reads the cache.
/// Blocks come from a `BlockCache`, so a quantized view's layers are materialized once and
/// kept while they fit in the memory budget.
public final class KVDecoder {
    public let view: ModelView
    /// Positions the cache holds at most.
    public let capacity: Int
    /// Positions run so far (the next token's position).
    public private(set) var length = 0
    let blocks: BlockCache
    let rope: RoPETable
    let kvWidth: Int
    private var keys: [[Float]]
    private var values: [[Float]]
    /// With `.packed`: each block's packed layers in the kernels' layout, and the head.
    let packed: [[LinearKind: PackedMatrix]]?
    let packedHead: PackedMatrix?
    let activations: PackedActivations

    public init(view: ModelView, capacity: Int, budget: Int = MemoryBudget.bytes, kernels: DecodeKernels = .dense) {
        precondition(capacity >= 1, "KVDecoder: capacity must be at least 1")
        self.view = view
        self.capacity = capacity
        let c = view.config
        kvWidth = c.numKVHeads * c.headDim
        blocks = BlockCache(view, budget: budget)
        rope = view.base.ropeTable(positions: capacity)
        keys = Array(repeating: [Float](repeating: 0, count: capacity * kvWidth), count: view.blockCount)
        values = keys
        activations = kernels == .packedInt8 ? .int8 : .float32
        if kernels != .dense {
            packed = (0..<view.blockCount).map { b in
                var layers: [LinearKind: PackedMatrix] = [:]
                for kind in LinearKind.allCases {
                    if let p = view.overlay[LinearID(block: b, kind: kind)] as? PackedLayer { layers[kind] = PackedMatrix(p) }
                }
                return layers
            }
            packedHead = PackedMatrix.exactInt8(view.base.head)
        } else {
            packed = nil
            packedHead = nil
        }
    }

    /// Layers of this decoder that run from packed codes (the head not counted).
    public var packedLayerCount: Int { packed?.reduce(0) { $0 + $1.count } ?? 0 }
    /// Whether the head runs from exact 8-bit codes.
    public var headIsPacked: Bool { packedHead != nil }

    /// Weight bytes one token's pass reads: every block's linear layers (packed codes, scales
    /// and zeros where this decoder multiplies them packed, Float32 otherwise) and the head.
    /// Norms and the one embedding row are left out.
    public var weightBytesPerToken: Int {
        let c = view.config
        var total = packedHead?.storedBytes ?? 4 * c.vocabSize * c.hiddenSize
        for b in 0..<view.blockCount {
            for kind in LinearKind.allCases {
                total += packed?[b][kind]?.storedBytes ?? 4 * c.shape(kind).reduce(1, *)
            }
        }
        return total
    }

    /// Block `b`'s weights: with packed layers, the base block (its packed layers are read
    /// from codes and not materialized); otherwise the view's block through the cache.
    func weights(_ b: Int) -> LlamaBlock {
        if let p = packed?[b], !p.isEmpty { return view.base.blocks[b] }
        return blocks.block(b)
    }

    /// `x · Wᵀ` for each of `kinds` (sharing input `x`) in block `l`: packed layers in one
    /// kernel call, the others with OpenBLAS.
    func project(_ kinds: [LinearKind], _ x: Tensor, _ w: LlamaBlock, layer l: Int) throws -> [Tensor] {
        guard let p = packed?[l], !p.isEmpty else { return kinds.map { Forward.linear(x, w[$0]) } }
        let fused = kinds.compactMap { p[$0] }
        if fused.count == kinds.count { return try PackedMatrix.multiply(fused, x, activations: activations) }
        return try kinds.map { k in try p[k].map { try $0.multiply(x, activations: activations) } ?? Forward.linear(x, w[k]) }
    }

    /// Runs `tokens` at positions `length…`, appending their keys and values, and returns the
    /// logits `[vocab]` of the last one. Throws when the packed kernels run out of memory.
    public func append(_ tokens: [Int32]) throws -> [Float] {
        precondition(!tokens.isEmpty && length + tokens.count <= capacity, "KVDecoder: \(tokens.count) tokens past the capacity")
        let model = view.base
        let positions = Array(length..<(length + tokens.count))
        var x = model.embed(tokens)
        for b in 0..<view.blockCount { x = try step(weights(b), x, layer: b, positions: positions) }
        length += tokens.count
        let last = x.rows((tokens.count - 1)..<tokens.count)
        guard let head = packedHead else { return model.logits(last).data }
        return try head.multiply(Forward.rmsNorm(last, weight: model.outputNorm, eps: model.config.rmsNormEps),
                                 activations: activations).data
    }

    /// One block on rows at `positions` (consecutive, starting at `length`).
    func step(_ w: LlamaBlock, _ x: Tensor, layer l: Int, positions: [Int]) throws -> Tensor {
        let model = view.base, eps = model.config.rmsNormEps
        let xn = Forward.rmsNorm(x, weight: w.attnNorm, eps: eps)
        let qkv = try project([.q, .k, .v], xn, w, layer: l)
        let q = model.rotate(.q, qkv[0], block: w, rope: rope, positions: positions)
        let k = model.rotate(.k, qkv[1], block: w, rope: rope, positions: positions)
        let v = qkv[2]
        let start = positions[0] * kvWidth
        keys[l].withUnsafeMutableBufferPointer { d in
            k.data.withUnsafeBufferPointer { s in (d.baseAddress! + start).update(from: s.baseAddress!, count: s.count) }
        }
        values[l].withUnsafeMutableBufferPointer { d in
            v.data.withUnsafeBufferPointer { s in (d.baseAddress! + start).update(from: s.baseAddress!, count: s.count) }
        }
        let ctx = attend(q, layer: l, first: positions[0])
        let h = model.residual(x, try project([.o], ctx, w, layer: l)[0], postNorm: w.postAttnNorm)
        let gu = try project([.gate, .up], Forward.rmsNorm(h, weight: w.ffnNorm, eps: eps), w, layer: l)
        return model.residual(h, try project([.down], model.activate(gu[0], gu[1]), w, layer: l)[0], postNorm: w.postFFNNorm)
    }

    /// Attention of query rows at positions `first…` over the cached keys `0…first+T−1`
    /// (row `r` sees keys up to its own position, and only the last `window` of them on a
    /// sliding-window layer). `[T, heads·headDim]`.
    func attend(_ q: Tensor, layer l: Int, first: Int) -> Tensor {
        let c = view.config
        let t = q.shape[0], n = first + t, hd = c.headDim, qw = c.numHeads * hd, kw = kvWidth
        let group = c.numHeads / c.numKVHeads
        let scale = c.arch.attentionScale ?? 1 / Float(hd).squareRoot()
        let window = c.arch.window(l)
        var out = Tensor(zeros: [t, qw])
        var scores = [Float](repeating: 0, count: t * n)
        q.data.withUnsafeBufferPointer { pq in
            keys[l].withUnsafeBufferPointer { pk in
                values[l].withUnsafeBufferPointer { pv in
                    scores.withUnsafeMutableBufferPointer { ps in
                        out.data.withUnsafeMutableBufferPointer { po in
                            for h in 0..<c.numHeads {
                                let g = h / group
                                sgemm(transA: false, transB: true, m: t, n: n, k: hd, alpha: scale,
                                      a: pq.baseAddress! + h * hd, lda: qw, b: pk.baseAddress! + g * hd, ldb: kw,
                                      beta: 0, c: ps.baseAddress!, ldc: n)
                                for r in 0..<t {
                                    let hi = first + r + 1, lo = window.map { max(0, hi - $0) } ?? 0
                                    Self.softmax(ps.baseAddress! + r * n, lo: lo, hi: hi, count: n)
                                }
                                sgemm(transA: false, transB: false, m: t, n: hd, k: n, alpha: 1,
                                      a: ps.baseAddress!, lda: n, b: pv.baseAddress! + g * hd, ldb: kw,
                                      beta: 0, c: po.baseAddress! + h * hd, ldc: qw)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Softmax of `row[lo..<hi]` in place; the rest of the row's `count` entries become 0.
    static func softmax(_ row: UnsafeMutablePointer<Float>, lo: Int, hi: Int, count: Int) {
        let m = FastMath.max(row + lo, hi - lo)
        let s = FastMath.expInPlace(row + lo, hi - lo, shift: m)
        let inv = 1 / s
        for j in lo..<hi { row[j] *= inv }
        for j in 0..<lo { row[j] = 0 }
        for j in hi..<count { row[j] = 0 }
    }
}

/// Why a generation stopped.
public enum GenerationStop: String, Sendable {
    /// The model wrote an end token (EOS, end of turn); it is not part of the text.
    case end
    /// The requested number of tokens was written.
    case length
    /// ^C (the caller's `shouldStop`): what was written so far is kept.
    case interrupted
}

/// What `generate` wrote.
public struct GenerationResult: Sendable {
    /// The prompt's token ids (with BOS for a tokenizer that adds one).
    public let prompt: [Int32]
    /// The new tokens (an end token that stopped the generation is not among them).
    public let tokens: [Int32]
    /// The text the new tokens add to the prompt.
    public let text: String
    public let stop: GenerationStop
    /// Seconds of the prompt's pass, and of the one-token passes after it.
    public let promptSeconds: Double
    public let decodeSeconds: Double
    /// One-token passes run (each new token but the first, which the prompt's pass predicts).
    public let decodeSteps: Int

    /// One-token passes per second (the decode rate; NaN when there was none).
    public var tokensPerSecond: Double { decodeSteps == 0 ? .nan : Double(decodeSteps) / max(decodeSeconds, 1e-9) }
}

/// The text `tokens` add after `prompt`: the decoded whole less the decoded prompt (so a
/// tokenizer's rule for the first piece, such as SentencePiece dropping its leading space,
/// applies to the prompt and not to the continuation).
public func continuationText(_ tokenizer: any TextTokenizer, prompt: [Int32], tokens: [Int32]) -> String {
    let whole = tokenizer.decode(prompt + tokens), head = tokenizer.decode(prompt)
    return whole.hasPrefix(head) ? String(whole.dropFirst(head.count)) : tokenizer.decode(tokens)
}

/// Turns new tokens into text pieces as they come: each `push` returns the text added since
/// the last piece, holding back a trailing incomplete UTF-8 character (a token can end in the
/// middle of one) until a later token completes it.
public struct TextStream {
    let tokenizer: any TextTokenizer
    let prompt: [Int32]
    public private(set) var tokens: [Int32] = []
    private var written = 0

    public init(tokenizer: any TextTokenizer, prompt: [Int32]) {
        self.tokenizer = tokenizer
        self.prompt = prompt
    }

    public mutating func push(_ token: Int32) -> String {
        tokens.append(token)
        var text = continuationText(tokenizer, prompt: prompt, tokens: tokens)
        while text.last == "\u{FFFD}" { text.removeLast() }
        return take(text)
    }

    /// What is left (an incomplete character at the very end included).
    public mutating func finish() -> String { take(continuationText(tokenizer, prompt: prompt, tokens: tokens)) }

    private mutating func take(_ text: String) -> String {
        guard text.count > written else { return "" }
        let piece = String(text.dropFirst(written))
        written = text.count
        return piece
    }
}

/// Writes up to `maxTokens` tokens after `prompt` with a KV cache (one pass over the prompt,
/// then one batch-1 pass per token), picking each by `sampling`; stops at one of the
/// tokenizer's end ids when `stopAtEnd`. `onToken` hears each new token as it is picked;
/// `shouldStop` (^C) is checked between tokens and ends the generation keeping what was
/// written. Refuses an empty prompt, ids outside the vocabulary, `maxTokens` below 1 or past
/// the context length, and bad sampling parameters (`EvalError` with their origins).
public func generate(view: ModelView, prompt: [Int32], maxTokens: Int, sampling: Sampling = .greedy,
                     kernels: DecodeKernels = .dense, stopAtEnd: Bool = true, onToken: ((Int32) -> Void)? = nil,
                     shouldStop: (() -> Bool)? = nil) throws -> GenerationResult {
    let c = view.config, tokenizer = view.base.tokenizer
    let bos = tokenizer.bosID
    guard prompt.contains(where: { $0 != bos }) else {
        throw EvalError("the prompt has no tokens\(bos == nil ? "" : " besides BOS"): give some text", origin: .prompt)
    }
    if let bad = prompt.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
        throw EvalError("prompt token \(bad) is outside the vocabulary (\(c.vocabSize) ids)", origin: .prompt)
    }
    guard maxTokens >= 1 else { throw EvalError("tokens must be at least 1, got \(maxTokens)", origin: .tokens) }
    let room = c.contextLength - prompt.count
    guard maxTokens <= room else {
        throw EvalError("the prompt has \(prompt.count) token\(prompt.count == 1 ? "" : "s") and the context is \(c.contextLength): room for \(max(room, 0)) new tokens, \(maxTokens) asked",
                        origin: .tokens)
    }
    try sampling.validate()
    let decoder = KVDecoder(view: view, capacity: prompt.count + maxTokens, kernels: kernels)
    var sampler = Sampler(sampling)
    let ends = stopAtEnd ? tokenizer.endIDs : []
    let t0 = DispatchTime.now().uptimeNanoseconds
    var logits = try decoder.append(prompt)
    let t1 = DispatchTime.now().uptimeNanoseconds
    var out: [Int32] = [], steps = 0, stop = GenerationStop.length
    while true {
        let next = sampler.pick(logits)
        if ends.contains(next) { stop = .end; break }
        out.append(next)
        onToken?(next)
        if out.count == maxTokens { break }
        if shouldStop?() == true { stop = .interrupted; break }
        logits = try decoder.append([next])
        steps += 1
    }
    let t2 = DispatchTime.now().uptimeNanoseconds
    return GenerationResult(prompt: prompt, tokens: out, text: continuationText(tokenizer, prompt: prompt, tokens: out),
                            stop: stop, promptSeconds: Double(t1 - t0) / 1e9, decodeSeconds: Double(t2 - t1) / 1e9,
                            decodeSteps: steps)
}
