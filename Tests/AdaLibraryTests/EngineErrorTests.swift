import AdaLang
import AdaLibrary
import AdaRender
import Foundation
import Testing

/// Engine errors point at the argument they concern: the error's origin (bits, group,
/// tensor, calibration, file, windows, …) picks the builtin's parameter for the caret, and
/// the session is left as it was.
@Suite("Engine errors name their argument")
struct EngineErrorTests {
    /// The source text under an error's caret.
    func caret(_ source: String, in it: Interpreter) -> (text: String, message: String)? {
        guard let e = run(source, in: it).error, let r = e.range else { return nil }
        let file = SourceFile(name: "test.ada", text: source)
        return (file.slice(r.offset, r.end), e.message)
    }

    @Test func eachEngineErrorKindPointsAtItsArgument() throws {
        let (it, _) = makeInterpreter()
        let path = try tinyModelFile()
        #expect(run("m = load \(renderString(path))\nd = text \"austen:emma\" windows=2 ctx=8\nkeep = 1", in: it).error == nil)
        let cases: [(String, String, String)] = [
            // QuantError.group: the group size does not fit the grouped dimension.
            ("r = rtn (tensor [[1, 2, 3, 4]]) bits=3 group=8", "group=8", "group size 8 is larger"),
            ("q = quantize m bits=3 group=64 dim=ic", "group=64", "group size 64 is larger"),
            // QuantError.tensor: a weight that is not 2-D.
            ("w = weightstats (tensor [1, 2, 3])", "tensor [1, 2, 3]", "2-D"),
            ("r = rtn (tensor [1, 2, 3, 4]) group=2", "tensor [1, 2, 3, 4]", "2-D"),
            // ModelFileError from the writer: the folder does not exist.
            ("export (quantize m bits=4 group=4) \"/no/such/folder/q.gguf\"", "\"/no/such/folder/q.gguf\"", "no such folder"),
        ]
        for (source, argument, fragment) in cases {
            let c = try #require(caret(source, in: it), "\(source) did not fail")
            #expect(c.text == argument, "\(source): caret under '\(c.text)', expected '\(argument)'")
            #expect(c.message.contains(fragment), "\(source): \(c.message)")
        }
        // EvalError.windows / ctx: more windows than the text holds, a context too short.
        let w = try #require(caret("p = perplexity m \"austen:pride\" windows=100000 ctx=8", in: it))
        #expect(w.text == "windows=100000", "caret under \(w.text): \(w.message)")
        // EvalError.tokens / temperature / topK / topP / prompt from generate.
        let generated: [(String, String, String)] = [
            ("g = generate m \"ab\" tokens=0", "tokens=0", "at least 1"),
            ("g = generate m \"ab\" tokens=100000000", "tokens=100000000", "room for"),
            ("g = generate m \"ab\" temperature=-0.5", "temperature=-0.5", "temperature"),
            ("g = generate m \"ab\" top_k=-1", "top_k=-1", "top_k"),
            ("g = generate m \"ab\" temperature=1 top_p=0", "top_p=0", "top_p"),
            ("g = generate m \"\"", "\"\"", "no tokens"),
        ]
        for (source, argument, fragment) in generated {
            let c = try #require(caret(source, in: it), "\(source) did not fail")
            #expect(c.text == argument, "\(source): caret under '\(c.text)', expected '\(argument)'")
            #expect(c.message.contains(fragment), "\(source): \(c.message)")
        }
        #expect(run("g = generate m \"ab\" tokens=3", in: it).error == nil)
        // Nothing was lost.
        #expect(it.variable("keep") == .number(1) && it.variable("q") == nil)
    }
}
