import AdaLibrary
import AdaModel
import AdaTensor
import ArgumentParser
import Foundation

/// The shape of a synthetic LLaMA (`ada bench synth`).
public struct SynthShape: Equatable, Sendable {
    public var blocks, hidden, ffn, heads, kvHeads, vocab, ctx: Int
    public var ropeBase: Float = 10000
    public var rmsEps: Float = 1e-5
    /// No `output.weight`: the head is the token embedding (SmolLM2); LLaMA-2 has its own.
    public var tiedEmbeddings = false

    public init(blocks: Int, hidden: Int, ffn: Int, heads: Int, kvHeads: Int, vocab: Int, ctx: Int,
                ropeBase: Float = 10000, rmsEps: Float = 1e-5, tiedEmbeddings: Bool = false) {
        (self.blocks, self.hidden, self.ffn, self.heads, self.kvHeads, self.vocab, self.ctx) = (blocks, hidden, ffn, heads, kvHeads, vocab, ctx)
        (self.ropeBase, self.rmsEps, self.tiedEmbeddings) = (ropeBase, rmsEps, tiedEmbeddings)
    }

    /// LLaMA-2-7B: 6.74 B parameters, 13.5 GB in F16.
    public static let llama2_7b = SynthShape(blocks: 32, hidden: 4096, ffn: 11008, heads: 32, kvHeads: 32, vocab: 32000, ctx: 4096)
    /// SmolLM2-135M's shapes (tied embeddings, RoPE base 100000).
    public static let smollm2 = SynthShape(blocks: 30, hidden: 576, ffn: 1536, heads: 9, kvHeads: 3, vocab: 49152, ctx: 8192,
                                           ropeBase: 100000, tiedEmbeddings: true)
    /// A model small enough for tests (the default without --preset).
    public static let tiny = SynthShape(blocks: 2, hidden: 64, ffn: 176, heads: 4, kvHeads: 2, vocab: 512, ctx: 512)

    public var headDim: Int { hidden / heads }

    /// Special tokens, the 256 byte tokens: the smallest vocabulary.
    public static let minVocab = SynthVocabulary.specials.count + 256
    /// Every pair of bytes, then every pair followed by a byte.
    public static let maxVocab = minVocab + 256 * 256 + 256 * 256 * 256
    /// The loader's bound on every size.
    public static let maxSize = 1 << 24

    /// Every tensor in file order with its row-major shape (norms F32, the rest F16).
    public var tensors: [(name: String, shape: [Int])] {
        let q = heads * headDim, kv = kvHeads * headDim
        var out: [(String, [Int])] = [("token_embd.weight", [vocab, hidden])]
        for b in 0..<blocks {
            let p = "blk.\(b)."
            out += [(p + "attn_norm.weight", [hidden]), (p + "attn_q.weight", [q, hidden]), (p + "attn_k.weight", [kv, hidden]),
                    (p + "attn_v.weight", [kv, hidden]), (p + "attn_output.weight", [hidden, q]),
                    (p + "ffn_norm.weight", [hidden]), (p + "ffn_gate.weight", [ffn, hidden]),
                    (p + "ffn_up.weight", [ffn, hidden]), (p + "ffn_down.weight", [hidden, ffn])]
        }
        out.append(("output_norm.weight", [hidden]))
        if !tiedEmbeddings { out.append(("output.weight", [vocab, hidden])) }
        return out
    }

    /// Checks every size; the first problem as a sentence naming the option.
    public func validate() throws {
        for (name, v) in [("--blocks", blocks), ("--hidden", hidden), ("--ffn", ffn), ("--heads", heads),
                          ("--kv-heads", kvHeads), ("--vocab", vocab), ("--ctx", ctx)] where !(v >= 1 && v < Self.maxSize) {
            throw ValidationError("\(name) must be a positive integer below \(Self.maxSize), got \(v)")
        }
        guard hidden % heads == 0 else { throw ValidationError("--hidden \(hidden) is not divisible by --heads \(heads)") }
        guard headDim % 2 == 0 else {
            throw ValidationError("head dim --hidden/--heads = \(headDim) must be even (RoPE rotates pairs)")
        }
        guard heads % kvHeads == 0 else { throw ValidationError("--heads \(heads) is not divisible by --kv-heads \(kvHeads)") }
        guard vocab >= Self.minVocab && vocab <= Self.maxVocab else {
            throw ValidationError("--vocab must be between \(Self.minVocab) (3 special and 256 byte tokens) and \(Self.maxVocab), got \(vocab)")
        }
        guard let n = parameterCount, n <= Int.max / 4 else { throw ValidationError("the model's parameter count overflows") }
    }

    /// Total parameters (nil on overflow), from the sizes alone.
    public var parameterCount: Int? {
        func mul(_ xs: Int...) -> Int? {
            var n = 1
            for x in xs {
                let (p, o) = n.multipliedReportingOverflow(by: x)
                if o { return nil }
                n = p
            }
            return n
        }
        func add(_ xs: Int?...) -> Int? {
            var n = 0
            for x in xs {
                guard let x else { return nil }
                let (s, o) = n.addingReportingOverflow(x)
                if o { return nil }
                n = s
            }
            return n
        }
        let q = heads * headDim, kv = kvHeads * headDim
        let block = add(mul(2, hidden), mul(2, q, hidden), mul(2, kv, hidden), mul(3, ffn, hidden))
        return add(block.flatMap { mul($0, blocks) }, mul(tiedEmbeddings ? 1 : 2, vocab, hidden), hidden)
    }
}

/// A GPT-2 byte-level vocabulary of any size: `<unk>`, `<s>`, `</s>` (control), the 256 byte
/// tokens, then merges of two bytes (the most common letters first), then of a pair and a byte.
public enum SynthVocabulary {
    public static let specials = ["<unk>", "<s>", "</s>"]

    /// GPT-2's byte-to-character table (printable bytes stand for themselves).
    static let byteChars: [String] = {
        var bs = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) { bs.append(b); cs.append(256 + n); n += 1 }
        var table = [String](repeating: "", count: 256)
        for (b, c) in zip(bs, cs) { table[b] = String(Character(Unicode.Scalar(UInt32(c))!)) }
        return table
    }()

    /// Bytes by how early their merges come: space and lower-case letters by frequency first.
    static let byteOrder: [Int] = {
        let common = Array(" etaoinsrhldcumfpgwybvkxjqzETAOINSRHLDCUMFPGWYBVKXJQZ0123456789.,;:'\"!?-()\n".utf8).map(Int.init)
        return common + (0..<256).filter { !common.contains($0) }
    }()

    /// Tokens, their GGUF token types (3 control, 6 byte, 1 normal) and merges, for `size` tokens.
    public static func make(size: Int) -> (tokens: [String], types: [Int32], merges: [String]) {
        var tokens = specials + byteChars
        var types = [Int32](repeating: 3, count: specials.count) + [Int32](repeating: 6, count: 256)
        var merges: [String] = []
        let reserved = Set(specials)
        @discardableResult func add(_ a: String, _ b: String) -> Bool {
            guard tokens.count < size, !reserved.contains(a + b) else { return false }
            tokens.append(a + b); types.append(1); merges.append(a + " " + b)
            return true
        }
        // Pairs of bytes along anti-diagonals of the byte order (the commonest pairs first).
        var pairs: [String] = []
        for s in 0..<511 where tokens.count < size {
            for i in max(0, s - 255)...min(s, 255) {
                let a = byteChars[byteOrder[i]], b = byteChars[byteOrder[s - i]]
                if add(a, b) { pairs.append(a + b) }
            }
        }
        for p in pairs where tokens.count < size {
            for j in byteOrder where tokens.count < size { add(p, byteChars[j]) }
        }
        return (tokens, types, merges)
    }
}

/// Writes synthetic LLaMA GGUF files: F16 weights drawn from N(0, std²), norms 1 (F32).
public enum SynthModel {
    /// Elements per independently seeded chunk: the values do not depend on how many threads
    /// draw them.
    static let chunk = 1 << 20

    /// Writes the model tensor by tensor (memory: a few chunks); returns the parameter count
    /// and the file's size in bytes.
    @discardableResult
    public static func write(_ shape: SynthShape, seed: UInt64, std: Float = 0.02, to path: String,
                             progress: ((Int, Int) -> Void)? = nil) throws -> (parameters: Int, bytes: Int) {
        try shape.validate()
        try checkFreeSpace(2 * shape.parameterCount!, path: path)  // before building a header that may be huge
        var w = GGUFStreamWriter()
        for (k, v) in metadata(shape, seed: seed, std: std) { w.set(k, v) }
        for (name, s) in shape.tensors { try w.declare(name, type: s.count == 1 ? .f32 : .f16, shape: s) }
        guard let size = w.fileSize else { throw ValidationError("the file's size overflows") }
        try checkFreeSpace(size, path: path)
        let lanes = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var buffer = [UInt16](repeating: 0, count: lanes * chunk)
        let count = w.tensors.count
        try w.write(to: path) { index, spec, sink in
            if spec.type == .f32 {
                try [Float](repeating: 1, count: spec.elementCount).withUnsafeBufferPointer { try sink.write(floats: $0) }
            } else {
                try writeNormal(spec.elementCount, tensor: index, seed: seed, std: std, lanes: lanes, buffer: &buffer, sink: sink)
            }
            progress?(index + 1, count)
        }
        return (shape.parameterCount!, size)
    }

    static func metadata(_ s: SynthShape, seed: UInt64, std: Float) -> [(String, GGUFValue)] {
        let v = SynthVocabulary.make(size: s.vocab)
        func u(_ n: Int) -> GGUFValue { .uint32(UInt32(n)) }
        return [("general.architecture", .string("llama")), ("general.name", .string("ada synthetic")),
                ("general.file_type", u(1)), ("ada.synth.seed", .uint64(seed)), ("ada.synth.std", .float32(std)),
                ("llama.block_count", u(s.blocks)), ("llama.context_length", u(s.ctx)),
                ("llama.embedding_length", u(s.hidden)), ("llama.feed_forward_length", u(s.ffn)),
                ("llama.attention.head_count", u(s.heads)), ("llama.attention.head_count_kv", u(s.kvHeads)),
                ("llama.rope.freq_base", .float32(s.ropeBase)), ("llama.attention.layer_norm_rms_epsilon", .float32(s.rmsEps)),
                ("llama.rope.dimension_count", u(s.headDim)), ("llama.vocab_size", u(s.vocab)),
                ("tokenizer.ggml.model", .string("gpt2")),
                ("tokenizer.ggml.tokens", .array(v.tokens.map { .string($0) })),
                ("tokenizer.ggml.token_type", .array(v.types.map { .int32($0) })),
                ("tokenizer.ggml.merges", .array(v.merges.map { .string($0) })),
                ("tokenizer.ggml.unknown_token_id", u(0)), ("tokenizer.ggml.bos_token_id", u(1)),
                ("tokenizer.ggml.eos_token_id", u(2))]
    }

    /// Refuses a file the folder's file system has no room for.
    static func checkFreeSpace(_ bytes: Int, path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var st = statvfs()
        guard statvfs(dir, &st) == 0 else { return }  // the writer reports a missing folder
        let free = Double(st.f_bavail) * Double(st.f_frsize)
        guard Double(bytes) <= free else {
            throw ValidationError(String(format: "%@ needs %.2f GB but only %.2f GB are free there", path, Double(bytes) / 1e9, free / 1e9))
        }
    }

    /// One tensor's F16 values, `lanes` chunks drawn at a time in parallel.
    static func writeNormal(_ n: Int, tensor: Int, seed: UInt64, std: Float, lanes: Int,
                            buffer: inout [UInt16], sink: GGUFStreamWriter.Sink) throws {
        let chunks = (n + chunk - 1) / chunk
        var first = 0
        while first < chunks {
            let k = min(lanes, chunks - first)
            let end = min(n, (first + k) * chunk)
            buffer.withUnsafeMutableBufferPointer { buf in
                nonisolated(unsafe) let base = buf.baseAddress!
                let start = first
                DispatchQueue.concurrentPerform(iterations: k) { j in
                    let c = start + j
                    let len = min(chunk, n - c * chunk)
                    fillNormal(UnsafeMutableBufferPointer(start: base + j * chunk, count: len),
                               seed: seed, tensor: tensor, chunk: c, std: std)
                }
            }
            try buffer.withUnsafeBufferPointer { try sink.write(halfBits: UnsafeBufferPointer(rebasing: $0[0..<(end - first * chunk)])) }
            first += k
        }
    }

    /// Fills `out` with F16 bits of N(0, std²) values (Box–Muller, both 24-bit uniforms from
    /// one 64-bit draw), from a generator seeded by (seed, tensor, chunk) alone.
    static func fillNormal(_ out: UnsafeMutableBufferPointer<UInt16>, seed: UInt64, tensor: Int, chunk: Int, std: Float) {
        var key = SplitMix64(state: UInt64(truncatingIfNeeded: tensor) << 32 | UInt64(truncatingIfNeeded: chunk))
        var g = SplitMix64(state: seed ^ key.next())
        var i = 0
        while i < out.count {
            let a = g.next()
            let u1 = Float((a >> 40) + 1) * 0x1p-24, u2 = Float((a >> 16) & 0xFF_FFFF) * 0x1p-24
            let r = std * (-2 * Foundation.log(u1)).squareRoot(), t = 2 * Float.pi * u2
            out[i] = Float16(r * Foundation.cos(t)).bitPattern
            if i + 1 < out.count { out[i + 1] = Float16(r * Foundation.sin(t)).bitPattern }
            i += 2
        }
    }
}

/// `ada bench synth`: a LLaMA-shaped GGUF with random F16 weights, for memory and speed
/// benchmarks at sizes no real model here has (docs/benchmarks.md).
struct SynthBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a LLaMA-shaped GGUF with random F16 weights (N(0, 0.02²), norms 1), streamed tensor by tensor.",
        discussion: "The options override the preset's sizes (default preset: tiny, 2 blocks of hidden 64). The same seed gives the same file. The vocabulary is a GPT-2 byte-level one of --vocab tokens.")

    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case tiny, smollm2
        case llama2_7b = "llama2-7b"
        var shape: SynthShape {
            switch self {
            case .tiny: return .tiny
            case .smollm2: return .smollm2
            case .llama2_7b: return .llama2_7b
            }
        }
    }

    @Option(help: "The GGUF file to write (atomically).") var out: String
    @Option var preset: Preset = .tiny
    @Option var blocks: Int?
    @Option var hidden: Int?
    @Option var ffn: Int?
    @Option var heads: Int?
    @Option(name: .customLong("kv-heads")) var kvHeads: Int?
    @Option var vocab: Int?
    @Option var ctx: Int?
    @Option var seed: UInt64 = 0

    var shape: SynthShape {
        var s = preset.shape
        if let blocks { s.blocks = blocks }
        if let hidden { s.hidden = hidden }
        if let ffn { s.ffn = ffn }
        if let heads { s.heads = heads }
        if let kvHeads { s.kvHeads = kvHeads }
        if let vocab { s.vocab = vocab }
        if let ctx { s.ctx = ctx }
        return s
    }

    func validate() throws {
        try shape.validate()
        let dir = URL(fileURLWithPath: out).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("--out: no such folder '\(dir)'")
        }
    }

    func run() throws {
        let s = shape
        let t0 = wallClock()
        let tty = isatty(2) == 1
        let r: (parameters: Int, bytes: Int)
        do {
            r = try SynthModel.write(s, seed: seed, to: out) { i, n in
                if tty { FileHandle.standardError.write("\rtensor \(i)/\(n)".data(using: .utf8)!) }
            }
        } catch { throw fail(error) }
        if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
        print("wrote \(out): llama, \(s.blocks) blocks, hidden \(s.hidden), ffn \(s.ffn), heads \(s.heads), kv heads \(s.kvHeads), vocab \(s.vocab), ctx \(s.ctx), seed \(seed)")
        print(String(format: "parameters: %d (%.3f B); F16 file: %d bytes (%.2f GB); %.1f s", r.parameters, Double(r.parameters) / 1e9,
                     r.bytes, Double(r.bytes) / 1e9, wallClock() - t0))
    }
}
