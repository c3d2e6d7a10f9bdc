import AdaModel
import AdaTensor
import Foundation

/// How a perplexity is measured: which windows are cut from the text and which of their
/// positions are scored.
public enum PerplexityProtocol: String, CaseIterable, Sendable {
    /// ada's own: `windows` non-overlapping windows of `ctx` tokens from the start, every
    /// position after the first scored (`perplexity(view:tokens:windows:ctx:)`).
    case ada
    /// llama.cpp's `llama-perplexity`: every whole chunk of `ctx` tokens, BOS first in each
    /// when the tokenizer adds one, only the second half of each chunk scored
    /// (`llamaCppPerplexity(view:tokens:ctx:chunks:)`).
    case llamaCpp = "llama.cpp"
}

/// Result of a perplexity evaluation.
public struct PerplexityResult: Sendable, CustomStringConvertible {
    public let perplexity: Double
    /// Mean negative log-likelihood (nats per token).
    public let nll: Double
    /// Number of predicted tokens (ada: windows × (ctx − 1); llama.cpp: chunks × (ctx/2 − 1)).
    public let tokens: Int
    /// Windows (llama.cpp: chunks) run through the model.
    public let windows: Int
    public let context: Int
    public let seconds: Double
    public var method: PerplexityProtocol = .ada
    /// Tokens run through the model per second (windows × ctx / seconds).
    public var tokensPerSecond: Double { Double(windows * context) / max(seconds, 1e-9) }

    public var description: String {
        switch method {
        case .ada:
            return String(format: "ppl %.4f over %d tokens (%d × %d), %.1f tok/s", perplexity, tokens, windows, context, tokensPerSecond)
        case .llamaCpp:
            return String(format: "ppl %.4f over %d tokens (llama.cpp protocol: %d chunks × %d, second halves scored), %.1f tok/s",
                          perplexity, tokens, windows, context, tokensPerSecond)
        }
    }
}

/// The first `chars` characters (Unicode scalars) of `text`; `chars = 0` is the whole text.
/// llama.cpp's published figures are often on a prefix of a text (for example the first
/// 50,000 characters), which this cuts before tokenizing.
public func textPrefix(_ text: String, chars: Int) throws -> String {
    guard chars >= 0 else { throw EvalError("chars must be 0 (the whole text) or a positive count, got \(chars)", origin: .chars) }
    guard chars > 0 else { return text }
    return String(String.UnicodeScalarView(text.unicodeScalars.prefix(chars)))
}

/// Cuts evaluation windows: non-overlapping runs of `ctx` tokens from token 0, no BOS.
public func evaluationWindows(_ tokens: [Int32], windows: Int, ctx: Int) throws -> [[Int32]] {
    guard ctx >= 2 else { throw EvalError("context must be at least 2 tokens, got \(ctx)", origin: .ctx) }
    guard windows >= 1 else { throw EvalError("need at least one window, got \(windows)", origin: .windows) }
    let available = tokens.count / ctx
    guard windows <= available else {
        throw EvalError("text has \(tokens.count) tokens: room for \(available) windows of \(ctx), \(windows) asked", origin: .text)
    }
    return (0..<windows).map { Array(tokens[($0 * ctx)..<(($0 + 1) * ctx)]) }
}

/// Per-position negative log-likelihoods of `tokens[1...]` given the logits of positions
/// 0..<T−1 (positions 2…T in 1-based terms), accumulated in double precision.
public func tokenNLLs(logits: Tensor, tokens: [Int32]) -> [Double] {
    let (t, vocab) = logits.matrixShape
    guard t >= 2 else { return [] }
    return logits.data.withUnsafeBufferPointer { p in
        nextTokenNLLs(p.baseAddress!, rows: t - 1, vocab: vocab, targets: Array(tokens[1..<t]))
    }
}

/// `−log softmax(row r)[targets[r]]` for each of `rows` rows of `[rows, vocab]` logits,
/// rows split across two workers.
func nextTokenNLLs(_ logits: UnsafePointer<Float>, rows: Int, vocab: Int, targets: [Int32]) -> [Double] {
    var out = [Double](repeating: 0, count: rows)
    out.withUnsafeMutableBufferPointer { o in
        let po = SendableDoubles(o.baseAddress!), pl = SendableFloats(logits)
        let workers = 2
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var r = w
            while r < rows {
                let row = pl.p + r * vocab
                let m = FastMath.max(row, vocab)
                let s = FastMath.sumExp(row, vocab, shift: m)
                po.p[r] = log(s) + Double(m) - Double(row[Int(targets[r])])
                r += workers
            }
        }
    }
    return out
}

struct SendableDoubles: @unchecked Sendable { let p: UnsafeMutablePointer<Double>; init(_ p: UnsafeMutablePointer<Double>) { self.p = p } }
struct SendableFloats: @unchecked Sendable { let p: UnsafePointer<Float>; init(_ p: UnsafePointer<Float>) { self.p = p } }

/// Negative log-likelihoods of a window's next tokens, running the output head on chunks of
/// `chunk` positions so the `[T, vocab]` logits never exist at once.
public func windowNLLs(model: LlamaModel, window: [Int32], chunk: Int = 64) -> [Double] {
    headNLLs(model: model, hidden: model.finalHidden(window), window: window, chunk: chunk)
}

/// The next-token NLLs of `window` from its final hidden state `[T, hidden]` (before the final
/// norm): the final norm, then the output head on chunks of `chunk` positions. Only the rows
/// `from..<T−1` are scored (they predict tokens `from+1…T−1`); the others never reach the head.
public func headNLLs(model: LlamaModel, hidden: Tensor, window: [Int32], from: Int = 0, chunk: Int = 64) -> [Double] {
    let t = window.count
    let from = max(from, 0)
    guard from < t - 1 else { return [] }
    let h = Forward.rmsNorm(from == 0 ? hidden : hidden.rows(from..<t), weight: model.outputNorm, eps: model.config.rmsNormEps)
    var out: [Double] = []
    out.reserveCapacity(t - 1 - from)
    var r0 = from
    while r0 < t - 1 {
        let r1 = min(r0 + chunk, t - 1)
        // Rows r0..<r1 predict tokens r0+1...r1.
        let logits = Forward.linear(h.rows((r0 - from)..<(r1 - from)), model.head)
        out += logits.data.withUnsafeBufferPointer {
            nextTokenNLLs($0.baseAddress!, rows: r1 - r0, vocab: logits.cols, targets: Array(window[(r0 + 1)...r1]))
        }
        r0 = r1
    }
    return out
}

/// Perplexity with the protocol of ada: tokenize the text, cut `windows` non-overlapping
/// windows of `ctx` tokens, no BOS (for a model whose tokenizer adds one, BOS replaces each
/// window's first token), loss on positions 2…ctx of each window.
public func perplexity(model: LlamaModel, tokens: [Int32], windows: Int, ctx: Int,
                       progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> PerplexityResult {
    try perplexity(view: ModelView(base: model), tokens: tokens, windows: windows, ctx: ctx, progress: progress,
                   shouldStop: shouldStop)
}

/// Perplexity of a model view, block by block: every window goes through block `l` before
/// block `l+1` is materialized, so the view's replaced layers exist in Float32 one block at a
/// time. The numbers are bit-identical to running each window through the materialized model
/// (`windowNLLs`): per window the same operations in the same order, summed in window order.
/// `progress(done, total)` counts the blocks, then the windows through the output head.
public func perplexity(view: ModelView, tokens: [Int32], windows: Int, ctx: Int,
                       progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> PerplexityResult {
    // A model whose tokenizer adds BOS (Gemma) sees BOS first in every window, in place of
    // the window's first token (as llama.cpp's protocol does); SmolLM2's adds none.
    let bos = view.base.tokenizer.bosID
    let ws = try evaluationWindows(tokens, windows: windows, ctx: ctx).map { w in
        guard let bos else { return w }
        var b = w
        b[0] = bos
        return b
    }
    let start = DispatchTime.now()
    let steps = view.blockCount + ws.count
    let hidden = try view.finalHiddens(ws, progress: { b, _ in progress?(b, steps) }, shouldStop: shouldStop)
    var total: Double = 0
    var count = 0
    for (i, w) in ws.enumerated() {
        if shouldStop?() == true { throw CancellationError() }
        let nll = headNLLs(model: view.base, hidden: hidden[i], window: w)
        total += nll.reduce(0, +)
        count += nll.count
        progress?(view.blockCount + i + 1, steps)
    }
    let secs = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let mean = total / Double(count)
    return PerplexityResult(perplexity: exp(mean), nll: mean, tokens: count, windows: windows, context: ctx, seconds: secs)
}

/// The chunks of llama.cpp's protocol: `tokens` (as the tokenizer encodes the text, with BOS
/// first when it adds one) cut into `chunks` consecutive chunks of `ctx` tokens from token 0
/// (nil: every whole chunk; the tail that fills no chunk is dropped), and, for a tokenizer
/// that adds BOS, BOS in place of each chunk's first token.
public func llamaCppChunks(_ tokens: [Int32], ctx: Int, chunks: Int? = nil, bos: Int32?) throws -> [[Int32]] {
    guard ctx >= 4, ctx % 2 == 0 else {
        throw EvalError("llama.cpp's protocol scores the second half of each chunk: ctx must be even and at least 4, got \(ctx)", origin: .ctx)
    }
    let available = tokens.count / ctx
    guard available >= 1 else {
        throw EvalError("the text has \(tokens.count) tokens, fewer than one chunk of \(ctx)", origin: .text)
    }
    if let chunks {
        guard chunks >= 1 else { throw EvalError("need at least one chunk, got \(chunks)", origin: .windows) }
        guard chunks <= available else {
            throw EvalError("the text has \(tokens.count) tokens: room for \(available) chunks of \(ctx), \(chunks) asked", origin: .windows)
        }
    }
    return (0..<(chunks ?? available)).map { c in
        var w = Array(tokens[(c * ctx)..<((c + 1) * ctx)])
        if let bos { w[0] = bos }
        return w
    }
}

/// Perplexity with the protocol of llama.cpp's `llama-perplexity`: the chunks of
/// `llamaCppChunks`, each run from its start, and only the second half of each scored — the
/// NLL of the tokens at positions ctx/2+1 … ctx−1 (0-based) given everything before them in
/// the chunk, ctx/2 − 1 tokens per chunk; perplexity = exp(mean NLL over every scored token).
/// Block-streamed like `perplexity(view:…)`, `batch` chunks at a time (each batch runs the
/// view's blocks once), so memory holds one block and one batch's hidden states.
/// `progress(done, total)` counts the blocks of every batch, then the chunks through the head.
public func llamaCppPerplexity(view: ModelView, tokens: [Int32], ctx: Int, chunks: Int? = nil, batch: Int = 32,
                               progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> PerplexityResult {
    let ws = try llamaCppChunks(tokens, ctx: ctx, chunks: chunks, bos: view.base.tokenizer.bosID)
    let start = DispatchTime.now()
    let batch = max(batch, 1)
    let batches = (ws.count + batch - 1) / batch
    let steps = batches * view.blockCount + ws.count
    var done = 0
    var total: Double = 0
    var count = 0
    for b0 in stride(from: 0, to: ws.count, by: batch) {
        let part = Array(ws[b0..<min(b0 + batch, ws.count)])
        let hidden = try view.finalHiddens(part, progress: { _, _ in done += 1; progress?(done, steps) }, shouldStop: shouldStop)
        for (i, w) in part.enumerated() {
            if shouldStop?() == true { throw CancellationError() }
            let nll = headNLLs(model: view.base, hidden: hidden[i], window: w, from: ctx / 2)
            total += nll.reduce(0, +)
            count += nll.count
            done += 1
            progress?(done, steps)
        }
    }
    let secs = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let mean = total / Double(count)
    return PerplexityResult(perplexity: exp(mean), nll: mean, tokens: count, windows: ws.count, context: ctx, seconds: secs,
                            method: .llamaCpp)
}
