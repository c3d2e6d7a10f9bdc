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

    @Test func perplexityProtocolErrorsPointAtTheirArgument() throws {
        let (it, _) = makeInterpreter()
        let path = try tinyModelFile()
        #expect(run("m = load \(renderString(path))\nd = text \"austen:emma\" windows=2 ctx=8", in: it).error == nil)
        let cases: [(String, String, String)] = [
            // EvalError.chars: a negative character count.
            ("p = perplexity m \"austen:pride\" chars=-5", "chars=-5", "chars must be 0"),
            // EvalError.ctx: llama.cpp's protocol needs an even context of at least 4.
            ("p = perplexity m \"austen:pride\" protocol=llama.cpp ctx=63", "ctx=63", "must be even"),
            ("p = perplexity m \"austen:pride\" protocol=\"llama.cpp\" ctx=2", "ctx=2", "must be even"),
            // EvalError.text: ten characters are fewer tokens than one chunk.
            ("p = perplexity m \"austen:pride\" protocol=llama.cpp chars=10", "\"austen:pride\"", "fewer than one chunk"),
            // EvalError.windows: more chunks than the text holds.
            ("p = perplexity m \"austen:pride\" protocol=llama.cpp ctx=8 chars=100 windows=1000", "windows=1000", "room for"),
            // A dataset is tokenized already.
            ("p = perplexity m d chars=100", "chars=100", "already tokenized"),
            // A misspelt protocol word.
            ("p = perplexity m \"austen:pride\" protocol=llama.cp", "llama.cp", "did you mean 'llama.cpp'"),
        ]
        for (source, argument, fragment) in cases {
            let c = try #require(caret(source, in: it), "\(source) did not fail")
            #expect(c.text == argument, "\(source): caret under '\(c.text)', expected '\(argument)'")
            #expect(c.message.contains(fragment), "\(source): \(c.message)")
        }
        #expect(it.variable("p") == nil)
        // The bare dotted word and the string name the same protocol; windows= limits the chunks.
        #expect(run("a = perplexity m \"austen:pride\" protocol=llama.cpp ctx=16 chars=2000 windows=3\nb = perplexity m \"austen:pride\" protocol=\"llama.cpp\" ctx=16 chars=2000 windows=3", in: it).error == nil)
        guard case .record(let a)? = it.variable("a"), case .record(let b)? = it.variable("b") else {
            Issue.record("no results")
            return
        }
        #expect(a["ppl"] == b["ppl"] && a["windows"] == .int(3) && a["tokens"] == .int(3 * 7))
        #expect(a["protocol"] == .string("llama.cpp"))
    }
}
