import AdaLang
import AdaLibrary
import AdaModel
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// Hostile model and packed files through the interpreter: `load` and `load_packed` fail with
/// one line naming the file and the tensor, the caret under the path, and the session's
/// variables survive; `load … nonfinite=true` loads NaN weights, which `quantize` refuses.
@Suite("Hostile files through the interpreter")
struct HostileFileTests {
    /// The tiny model with a NaN at `blk.1.ffn_up.weight[0, 3]`.
    func nanModelFile() throws -> String {
        let src = try GGUFFile(path: try tinyModelFile())
        var w = GGUFWriter()
        w.copyMetadata(from: src)
        for info in src.tensors {
            var t = try src.tensor(info.name)
            if info.name == "blk.1.ffn_up.weight" { t.data[3] = .nan }
            w.add(info.name, .f32(t))
        }
        let path = tempDir() + "/nan.gguf"
        try w.write(to: path)
        return path
    }

    /// A packed file for block 9 of a 2-block model.
    func block9PackedFile() throws -> String {
        var w = SafetensorsWriter()
        w.metadata = ["format": "ada-packed-1", "blk.9.attn_q": "bits=4 group=4 dim=oc grid=minmax shape=8x8"]
        w.add("blk.9.attn_q.qweight", dtype: "U8", shape: [32], bytes: [UInt8](repeating: 0, count: 32))
        w.add("blk.9.attn_q.scales", f32: Tensor(repeating: 1, shape: [8, 2]))
        w.add("blk.9.attn_q.zeros", f32: Tensor(zeros: [8, 2]))
        let path = tempDir() + "/block9.safetensors"
        try w.write(to: path)
        return path
    }

    func failure(_ source: String, in it: Interpreter) -> (caret: String, message: String)? {
        guard let e = run(source, in: it).error else { return nil }
        let file = SourceFile(name: "test.ada", text: source)
        return (e.range.map { file.slice($0.offset, $0.end) } ?? "", e.message)
    }

    @Test func hostileLoadAndLoadPackedKeepTheSession() throws {
        let good = try tinyModelFile()
        let nan = try nanModelFile(), packed = try block9PackedFile()
        let (it, _) = makeInterpreter()
        #expect(run("x = 41\nm = load \(renderString(good))", in: it).error == nil)

        let l = try #require(failure("m = load \(renderString(nan))", in: it), "a NaN weight loaded")
        #expect(l.caret == renderString(nan))
        for s in [nan, "tensor 'blk.1.ffn_up.weight'", "nan at [0, 3]", "nonfinite=true"] {
            #expect(l.message.contains(s), "'\(l.message)' should mention '\(s)'")
        }
        #expect(!l.message.contains("\n"))

        let p = try #require(failure("q = load_packed \(renderString(packed)) m", in: it), "block 9 applied")
        #expect(p.caret == renderString(packed))
        for s in [packed, "tensor 'blk.9.attn_q'", "no block 9"] { #expect(p.message.contains(s), "'\(p.message)' should mention '\(s)'") }
        #expect(!p.message.contains("\n"))

        // The session is as it was: x, and m is still the good model.
        #expect(try value("x", in: it).integer == 41)
        #expect(try value("m.path", in: it).string == good)
        #expect(run("q", in: it).error != nil, "q was never assigned")

        // Opting in loads the NaN for inspection; quantize refuses it, naming the layer.
        #expect(run("n = load \(renderString(nan)) nonfinite=true", in: it).error == nil)
        #expect(try value("(n[\"blk.1.ffn_up\"]).shape", in: it).list?.count == 2)
        let q = try #require(failure("q = quantize n method=rtn bits=4 group=4", in: it), "NaN weights quantized")
        #expect(q.caret == "n")
        #expect(q.message.contains("blk.1.ffn_up") && q.message.contains("nan at [0, 3]"), "\(q.message)")
        #expect(try value("x + 1", in: it).integer == 42)
        #expect(run("q = quantize m method=rtn bits=4 group=4", in: it).error == nil)
    }
}
