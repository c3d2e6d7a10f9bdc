import AdaModel
import AdaTensor
import Foundation

// Log-likelihood scoring of (context, continuation) requests, the engine under `evaluate`.
//
// The requests of one item (the answer choices of a question) usually share a prefix: the
// question. The item is packed into one *segment*: its shared tokens once, then each
// request's remaining tokens as a branch that attends to the shared part and to itself,
// with RoPE positions that continue after the shared part (a depth-1 tree). Several segments
// run through the linear layers as one batch of rows; attention runs per segment. A prefix
// shared by many items (MMLU's five-shot examples) can be run once and its keys and values
// kept (`KVPrefix`); segments then attend to it as if it preceded them. Only the rows that
// predict continuation tokens go through the output head. The result equals running every
// request alone through `LlamaModel.forward` (up to float rounding), which the tests check.

/// One request in tokens: the model reads `context + continuation` and the log-probability
/// of each continuation token given everything before it is summed.
public struct TokenRequest: Sendable, Equatable {
    public var context: [Int32]
    public var continuation: [Int32]
    public init(context: [Int32], continuation: [Int32]) {
        self.context = context
        self.continuation = continuation
    }
}

/// The score of one request.
public struct RequestScore: Sendable, Equatable {
    /// Σ log p(continuation token | everything before it), in nats.
    public var logLikelihood: Double
    /// Whether every continuation token is the model's most likely next token (greedy).
    public var isGreedy: Bool
    /// Continuation tokens scored.
    public var tokens: Int
    public init(logLikelihood: Double, isGreedy: Bool, tokens: Int) {
        self.logLikelihood = logLikelihood
        self.isGreedy = isGreedy
        self.tokens = tokens
    }
}

/// Where scoring time goes.
public struct ScoringTimes: Sendable {
    /// Seconds in the decoder blocks (embedding, attention, MLP).
    public var blocks: Double = 0
    /// Seconds in the final norm, output head and log-softmax of the scored rows.
    public var head: Double = 0
    /// Seconds tokenizing prompts (filled in by the task runner).
    public var tokenize: Double = 0
    /// Rows (tokens) run through the blocks, and forward passes (batches).
    public var rows = 0
    public var passes = 0
    public var forward: Double { blocks + head }
    public init() {}
    mutating func add(_ o: ScoringTimes) {
        blocks += o.blocks; head += o.head; tokenize += o.tokenize; rows += o.rows; passes += o.passes
    }
}

/// The harness's split of a text pair into tokens (lm-evaluation-harness `_encode_pair`):
/// trailing spaces of the context move to the continuation, the whole string is tokenized,
/// and the continuation is what follows the tokens of the context alone.
public func encodePair(_ tokenizer: any TextTokenizer, context: String, continuation: String) -> TokenRequest {
    var ctx = Substring(context)
    var cont = continuation
    var moved = ""
    while let last = ctx.last, last.isWhitespace { moved.insert(last, at: moved.startIndex); ctx.removeLast() }
    cont = moved + cont
    let whole = tokenizer.encode(String(ctx) + cont)
    let c = tokenizer.encode(String(ctx))
    let n = min(c.count, whole.count)
    return TokenRequest(context: Array(c), continuation: Array(whole[n...]))
}

/// Keys and values of a token prefix in every block, to be attended to by later segments.
public struct KVPrefix: Sendable {
    public let tokens: [Int32]
    /// Per block: keys after RoPE and values, `[P, kvHeads·headDim]` each.
    let keys: [Tensor]
    let values: [Tensor]
    public var count: Int { tokens.count }
}

/// A depth-1 tree of tokens: a shared stem, then branches that each see the stem and
/// themselves. Positions continue after `offset` (the length of a `KVPrefix`).
struct Segment {
    var tokens: [Int32] = []
    var stem = 0
    /// Start (segment-local row) of each branch; branch b spans branchStart[b]..<branchEnd[b].
    var branchStart: [Int] = []
    var branchEnd: [Int] = []
    /// RoPE position of each row.
    var positions: [Int] = []

    /// Row of position `i` of branch `b`'s input (stem positions are shared).
    func row(branch b: Int, index i: Int) -> Int { i < stem ? i : branchStart[b] + (i - stem) }

    /// Per row: the segment-local rows it may attend to besides the prefix, as at most two ranges.
    func visible(_ r: Int) -> (Range<Int>, Range<Int>) {
        if r < stem { return (0..<(r + 1), 0..<0) }
        let b = branchIndex(r)
        return (0..<stem, branchStart[b]..<(r + 1))
    }

    func branchIndex(_ r: Int) -> Int {
        var lo = 0, hi = branchStart.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if branchStart[mid] <= r { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}

/// Runs packed segments through a model: the batched forward pass of `evaluate`.
public final class PackedForward {
    /// The view's base: configuration, embedding, final norm and head.
    public let model: LlamaModel
    /// The blocks to run, materialized once per operation under the memory budget.
    public let blocks: BlockCache
    private var table: RoPETable?

    public init(view: ModelView) {
        model = view.base
        blocks = BlockCache(view)
    }

    public convenience init(model: LlamaModel) { self.init(view: ModelView(base: model)) }

    /// The RoPE table for positions 0..<n (grown geometrically, kept between passes).
    private func ensureRoPE(_ n: Int) {
        let have = table?.positions ?? 0
        guard n > have else { return }
        table = model.ropeTable(positions: max(n, 2 * have, 256))
    }

    /// Final hidden states (before the output norm) of all segments' rows, stacked in order.
    /// With `capture`, also the keys and values of every block (for a `KVPrefix`).
    func run(_ segments: [Segment], prefix: KVPrefix?, capture: Bool = false) -> (hidden: Tensor, keys: [Tensor], values: [Tensor]) {
        let c = model.config
        let hd = c.headDim, qw = c.numHeads * hd, kw = c.numKVHeads * hd
        let group = c.numHeads / c.numKVHeads
        let p0 = prefix?.count ?? 0
        let tokens = segments.flatMap(\.tokens)
        let positions = segments.flatMap(\.positions)
        ensureRoPE((positions.max() ?? 0) + 1)
        var bases: [Int] = []
        var acc = 0
        for s in segments { bases.append(acc); acc += s.tokens.count }
        let maxN = segments.map(\.tokens.count).max() ?? 0
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(1, c.numHeads * maxN * (p0 + maxN)))
        defer { scores.deallocate() }
        let scale = c.arch.attentionScale ?? 1 / Float(hd).squareRoot()
        var keysOut: [Tensor] = [], valuesOut: [Tensor] = []

        var x = model.embed(tokens)
        for l in 0..<model.blocks.count {
            let w = blocks.block(l)
            let xn = Forward.rmsNorm(x, weight: w.attnNorm, eps: c.rmsNormEps)
            let q = model.rotated(.q, xn, w.q, block: w, rope: table!, positions: positions)
            let k = model.rotated(.k, xn, w.k, block: w, rope: table!, positions: positions)
            let v = Forward.linear(xn, w.v)
            if capture { keysOut.append(k); valuesOut.append(v) }
            var ctx = Tensor(zeros: [tokens.count, qw])
            let pk = prefix?.keys[l], pv = prefix?.values[l]
            q.data.withUnsafeBufferPointer { pq in
            k.data.withUnsafeBufferPointer { pkk in
            v.data.withUnsafeBufferPointer { pvv in
            ctx.data.withUnsafeMutableBufferPointer { po in
            (pk?.data ?? []).withUnsafeBufferPointer { ppk in
            (pv?.data ?? []).withUnsafeBufferPointer { ppv in
                for (si, seg) in segments.enumerated() {
                    let n = seg.tokens.count, base = bases[si], width = p0 + n
                    for h in 0..<c.numHeads {
                        let g = h / group
                        let sc = scores + h * n * width
                        let qh = pq.baseAddress! + base * qw + h * hd
                        if p0 > 0 {
                            sgemm(transA: false, transB: true, m: n, n: p0, k: hd, alpha: scale,
                                  a: qh, lda: qw, b: ppk.baseAddress! + g * hd, ldb: kw, beta: 0, c: sc, ldc: width)
                        }
                        sgemm(transA: false, transB: true, m: n, n: n, k: hd, alpha: scale,
                              a: qh, lda: qw, b: pkk.baseAddress! + base * kw + g * hd, ldb: kw, beta: 0,
                              c: sc + p0, ldc: width)
                    }
                    let sp = MutableFloats(scores)
                    let sg = seg
                    DispatchQueue.concurrentPerform(iterations: c.numHeads) { h in
                        for r in 0..<n {
                            maskedSoftmax(sp.p + (h * n + r) * width, prefix: p0, visible: sg.visible(r), n: n)
                        }
                    }
                    for h in 0..<c.numHeads {
                        let g = h / group
                        let sc = scores + h * n * width
                        let oh = po.baseAddress! + base * qw + h * hd
                        if p0 > 0 {
                            sgemm(transA: false, transB: false, m: n, n: hd, k: p0, alpha: 1,
                                  a: sc, lda: width, b: ppv.baseAddress! + g * hd, ldb: kw, beta: 0, c: oh, ldc: qw)
                        }
                        sgemm(transA: false, transB: false, m: n, n: hd, k: n, alpha: 1,
                              a: sc + p0, lda: width, b: pvv.baseAddress! + base * kw + g * hd, ldb: kw,
                              beta: p0 > 0 ? 1 : 0, c: oh, ldc: qw)
                    }
                }
            }}}}}}
            let hres = model.residual(x, Forward.linear(ctx, w.o), postNorm: w.postAttnNorm)
            let mlpIn = Forward.rmsNorm(hres, weight: w.ffnNorm, eps: c.rmsNormEps)
            x = model.residual(hres, Forward.linear(model.mlpActivation(w, mlpIn), w.down), postNorm: w.postFFNNorm)
        }
        return (x, keysOut, valuesOut)
    }

    /// Runs `tokens` once and keeps their keys and values for segments that follow them.
    public func prefix(_ tokens: [Int32]) -> KVPrefix {
        var s = Segment()
        s.tokens = tokens
        s.stem = tokens.count
        s.positions = Array(0..<tokens.count)
        let r = run([s], prefix: nil, capture: true)
        return KVPrefix(tokens: tokens, keys: r.keys, values: r.values)
    }
}

struct MutableFloats: @unchecked Sendable { let p: UnsafeMutablePointer<Float>; init(_ p: UnsafeMutablePointer<Float>) { self.p = p } }

/// Softmax of one score row over the prefix columns and the visible segment columns
/// (offset by `prefix`); every other column becomes 0.
@inline(__always)
private func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, prefix p0: Int, visible: (Range<Int>, Range<Int>), n: Int) {
    let (a, b) = visible
    var m = -Float.infinity
    if p0 > 0 { m = Swift.max(m, FastMath.max(row, p0)) }
    if !a.isEmpty { m = Swift.max(m, FastMath.max(row + p0 + a.lowerBound, a.count)) }
    if !b.isEmpty { m = Swift.max(m, FastMath.max(row + p0 + b.lowerBound, b.count)) }
    var sum: Float = 0
    if p0 > 0 { sum += FastMath.expInPlace(row, p0, shift: m) }
    if !a.isEmpty { sum += FastMath.expInPlace(row + p0 + a.lowerBound, a.count, shift: m) }
    if !b.isEmpty { sum += FastMath.expInPlace(row + p0 + b.lowerBound, b.count, shift: m) }
    let inv = 1 / sum
    var j = 0
    let seg = row + p0
    if p0 > 0 { for i in 0..<p0 { row[i] *= inv } }
    while j < n {
        if a.contains(j) || b.contains(j) { seg[j] *= inv } else { seg[j] = 0 }
        j += 1
    }
}

/// Scores items of requests: each item's requests share one segment; segments are packed into
/// forward passes of about `batchTokens` rows.
public final class LogLikelihoodScorer {
    public let forward: PackedForward
    public var model: LlamaModel { forward.model }
    /// Rows per forward pass (an item longer than this runs alone).
    public var batchTokens: Int
    /// The longest input a request may have; longer inputs lose tokens on the left, as the
    /// harness truncates.
    public var maxLength: Int
    /// Scored rows sent through the output head at once.
    public var headChunk = 256
    public private(set) var times = ScoringTimes()

    public convenience init(model: LlamaModel, batchTokens: Int = 1024, maxLength: Int? = nil) {
        self.init(view: ModelView(base: model), batchTokens: batchTokens, maxLength: maxLength)
    }

    public init(view: ModelView, batchTokens: Int = 1024, maxLength: Int? = nil) {
        let model = view.base
        forward = PackedForward(view: view)
        self.batchTokens = batchTokens
        self.maxLength = maxLength ?? model.config.contextLength
    }

    /// The model input (full sequence minus its last token) and the first scored index, after
    /// left truncation to `maxLength`.
    func input(_ r: TokenRequest) throws -> (tokens: [Int32], targets: [Int32], first: Int) {
        guard !r.context.isEmpty else { throw EvalError("a request needs at least one context token", origin: .request) }
        guard !r.continuation.isEmpty else { throw EvalError("a request needs at least one continuation token", origin: .request) }
        guard r.continuation.count <= maxLength else {
            throw EvalError("continuation of \(r.continuation.count) tokens is longer than the model's \(maxLength)-token context", origin: .request)
        }
        var whole = r.context + r.continuation
        if whole.count - 1 > maxLength { whole.removeFirst(whole.count - 1 - maxLength) }
        let x = Array(whole.dropLast())
        return (x, r.continuation, x.count - r.continuation.count)
    }

    /// The longest token prefix shared by the inputs of all requests of all items, short
    /// enough that every request still has its whole continuation and at least one context
    /// token after it.
    public func commonPrefix(_ items: [[TokenRequest]]) throws -> [Int32] {
        var lcp: [Int32]? = nil
        var cap = Int.max
        for it in items {
            for r in it {
                let (x, _, first) = try input(r)
                cap = min(cap, first)
                if var l = lcp {
                    var n = 0
                    while n < l.count && n < x.count && l[n] == x[n] { n += 1 }
                    l.removeLast(l.count - n)
                    lcp = l
                } else {
                    lcp = x
                }
            }
        }
        return Array((lcp ?? []).prefix(max(0, cap)))
    }

    /// One item's requests as a scoring plan: a segment holding the shared stem once and one
    /// branch per request, the segment rows scored for each request, and their target tokens.
    struct ItemPlan { var seg: Segment; var rows: [[Int]]; var targets: [[Int32]] }

    /// The plan of one item's requests (their inputs after `prefix`, if any).
    func plan(_ it: [TokenRequest], prefix: KVPrefix?) throws -> ItemPlan {
        let p0 = prefix?.count ?? 0
        guard !it.isEmpty else { throw EvalError("an item has no requests", origin: .request) }
        var xs: [[Int32]] = [], firsts: [Int] = [], targets: [[Int32]] = []
        for r in it {
            var (x, t, first) = try input(r)
            if let p = prefix {
                guard x.count >= p0, Array(x[0..<p0]) == p.tokens, first >= p0 else {
                    throw EvalError("a request does not start with the shared prefix it is scored after", origin: .request)
                }
                x.removeFirst(p0)
                first -= p0
            }
            xs.append(x); firsts.append(first); targets.append(t)
        }
        // Stem: the longest prefix shared by all inputs of the item.
        var stem = xs[0].count
        for x in xs.dropFirst() {
            var n = 0
            while n < stem && n < x.count && xs[0][n] == x[n] { n += 1 }
            stem = n
        }
        var seg = Segment()
        seg.tokens = Array(xs[0][0..<stem])
        seg.stem = stem
        seg.positions = (0..<stem).map { p0 + $0 }
        for x in xs {
            seg.branchStart.append(seg.tokens.count)
            seg.tokens += x[stem...]
            seg.positions += (stem..<x.count).map { p0 + $0 }
            seg.branchEnd.append(seg.tokens.count)
        }
        var rows: [[Int]] = []
        for (b, x) in xs.enumerated() {
            rows.append((firsts[b]..<x.count).map { seg.row(branch: b, index: $0) })
        }
        return ItemPlan(seg: seg, rows: rows, targets: targets)
    }

    /// Scores every request of every item; `progress(doneItems, totalItems)` after each pass.
    /// With `prefix`, every request's input must start with the prefix's tokens.
    public func score(_ items: [[TokenRequest]], prefix: KVPrefix? = nil,
                      progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> [[RequestScore]] {
        // Build one segment per item.
        var plans: [ItemPlan] = []
        plans.reserveCapacity(items.count)
        for it in items { plans.append(try plan(it, prefix: prefix)) }

        var out = [[RequestScore]](repeating: [], count: items.count)
        var i = 0
        while i < plans.count {
            if shouldStop?() == true { throw CancellationError() }
            var j = i, n = 0
            while j < plans.count && (j == i || n + plans[j].seg.tokens.count <= batchTokens) {
                n += plans[j].seg.tokens.count
                j += 1
            }
            let batch = Array(plans[i..<j])
            let t0 = DispatchTime.now().uptimeNanoseconds
            let hidden = forward.run(batch.map(\.seg), prefix: prefix).hidden
            let t1 = DispatchTime.now().uptimeNanoseconds
            // Gather the scored rows of the batch.
            var rowIndex: [Int] = [], rowTarget: [Int32] = []
            var base = 0
            for p in batch {
                for (b, rs) in p.rows.enumerated() {
                    for (k, r) in rs.enumerated() { rowIndex.append(base + r); rowTarget.append(p.targets[b][k]) }
                }
                base += p.seg.tokens.count
            }
            let (nll, greedy) = scoreRows(hidden, rows: rowIndex, targets: rowTarget)
            let t2 = DispatchTime.now().uptimeNanoseconds
            times.blocks += Double(t1 - t0) / 1e9
            times.head += Double(t2 - t1) / 1e9
            times.rows += n
            times.passes += 1
            var k = 0
            for (pi, p) in batch.enumerated() {
                var scores: [RequestScore] = []
                for rs in p.rows {
                    var ll = 0.0, g = true
                    for _ in rs { ll -= nll[k]; g = g && greedy[k]; k += 1 }
                    scores.append(RequestScore(logLikelihood: ll, isGreedy: g, tokens: rs.count))
                }
                out[i + pi] = scores
            }
            i = j
            progress?(i, plans.count)
        }
        return out
    }

    /// Next-token NLL and greedy flag of the given rows of the final hidden states.
    func scoreRows(_ hidden: Tensor, rows: [Int], targets: [Int32]) -> ([Double], [Bool]) {
        let d = hidden.cols
        var nll: [Double] = [], greedy: [Bool] = []
        nll.reserveCapacity(rows.count)
        var r0 = 0
        while r0 < rows.count {
            let r1 = min(r0 + headChunk, rows.count)
            var h = Tensor(zeros: [r1 - r0, d])
            hidden.data.withUnsafeBufferPointer { src in
                h.data.withUnsafeMutableBufferPointer { dst in
                    for (k, r) in rows[r0..<r1].enumerated() {
                        (dst.baseAddress! + k * d).update(from: src.baseAddress! + r * d, count: d)
                    }
                }
            }
            let logits = model.logits(h)
            let tg = Array(targets[r0..<r1])
            logits.data.withUnsafeBufferPointer { p in
                nll += nextTokenNLLs(p.baseAddress!, rows: r1 - r0, vocab: logits.cols, targets: tg)
                for k in 0..<(r1 - r0) {
                    let row = p.baseAddress! + k * logits.cols
                    greedy.append(row[Int(tg[k])] >= FastMath.max(row, logits.cols))
                }
            }
            r0 = r1
        }
        return (nll, greedy)
    }
}
