import AdaModel
import AdaLang
import AdaLibrary
import AdaRender
import AdaTensor
import AdaTestSupport
import Foundation

/// Collects what an interpreter writes.
final class Capture: @unchecked Sendable {
    var out = ""
    var err = ""
}

/// An interpreter whose output goes to a `Capture`.
func makeInterpreter(_ registry: Registry = .standard()) -> (Interpreter, Capture) {
    let c = Capture()
    let it = Interpreter(registry: registry, host: StandardHost(output: { c.out += $0 }, errorOutput: { c.err += $0 }))
    return (it, c)
}

extension Interpreter {
    /// The host `makeInterpreter` gives every test interpreter.
    var standardHost: StandardHost { host as! StandardHost }
}

/// Runs a source; returns its output and the error (nil on success).
@discardableResult
func run(_ source: String, in it: Interpreter? = nil, name: String = "test.ada") -> (out: String, error: AdaError?) {
    let i = it ?? makeInterpreter().0
    let c = Capture()
    let previous = i.standardHost.output
    i.standardHost.output = { c.out += $0; previous($0) }
    defer { i.standardHost.output = previous }
    let e = i.run(SourceFile(name: name, text: source))
    return (c.out, e)
}

/// The value of an expression (statements before it may set things up).
func value(_ source: String, in it: Interpreter? = nil) throws -> Value {
    try (it ?? makeInterpreter().0).evaluate(source)
}

/// Parses, returning the syntax error if any.
func syntaxError(_ source: String) -> AdaError? {
    do { _ = try Parser.parse(SourceFile(name: "t.ada", text: source)); return nil } catch let e as AdaError { return e } catch { return nil }
}

/// Writes (once per process) a tiny LLaMA GGUF: 2 blocks, hidden 8, 2 heads (1 KV head),
/// FFN 16, a 32-token vocabulary without merges. Returns its path.
func tinyModelFile() throws -> String {
    TinyModelFile.lock.lock()
    defer { TinyModelFile.lock.unlock() }
    if let p = TinyModelFile.path { return p }
    var seed: UInt64 = 7
    func rnd() -> Float {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int(seed >> 40) % 2001 - 1000) / 4000
    }
    func t(_ shape: [Int]) -> Tensor { Tensor(shape: shape) { _ in rnd() } }
    var w = GGUFWriter()
    w.set("general.architecture", .string("llama"))
    w.set("llama.embedding_length", .uint32(8))
    w.set("llama.feed_forward_length", .uint32(16))
    w.set("llama.block_count", .uint32(2))
    w.set("llama.attention.head_count", .uint32(2))
    w.set("llama.attention.head_count_kv", .uint32(1))
    w.set("llama.context_length", .uint32(64))
    w.set("tokenizer.ggml.model", .string("gpt2"))
    let letters = (0..<32).map { i -> String in String(UnicodeScalar(UInt8(97 + i % 26))) + (i >= 26 ? "\(i)" : "") }
    w.set("tokenizer.ggml.tokens", .array(letters.map { .string($0) }))
    w.set("tokenizer.ggml.merges", .array([]))
    w.add("token_embd.weight", .f32(t([32, 8])))
    w.add("output_norm.weight", .f32(Tensor(repeating: 1, shape: [8])))
    for b in 0..<2 {
        let p = "blk.\(b)."
        w.add(p + "attn_norm.weight", .f32(Tensor(repeating: 1, shape: [8])))
        w.add(p + "ffn_norm.weight", .f32(Tensor(repeating: 1, shape: [8])))
        w.add(p + "attn_q.weight", .f32(t([8, 8])))
        w.add(p + "attn_k.weight", .f32(t([4, 8])))
        w.add(p + "attn_v.weight", .f32(t([4, 8])))
        w.add(p + "attn_output.weight", .f32(t([8, 8])))
        w.add(p + "ffn_gate.weight", .f32(t([16, 8])))
        w.add(p + "ffn_up.weight", .f32(t([16, 8])))
        w.add(p + "ffn_down.weight", .f32(t([8, 16])))
    }
    let path = tempDir() + "/tiny.gguf"
    try w.write(to: path)
    TinyModelFile.path = path
    return path
}

enum TinyModelFile {
    static let lock = NSLock()
    nonisolated(unsafe) static var path: String?
}
