import AdaLang
import AdaLibrary
import AdaShell
import Testing

@Suite("Completion")
struct CompletionTests {
    @Test func completesCommandsKeywordsVariablesAndArguments() throws {
        let it = Interpreter(registry: .standard(), host: PlainHost(output: { _ in }))
        _ = try it.evaluate("results = 1\nr = {ppl: 1, nll: 2}")
        let c = Completer(interpreter: it)
        #expect(c.complete(prefix: "", word: "perp") == ["perplexity"])
        #expect(c.complete(prefix: "", word: "resu") == ["results"])
        #expect(c.complete(prefix: "", word: "fo") == ["for", "format"])
        #expect(c.complete(prefix: "x = perplexity m \"austen:pride\" ", word: "win") == ["windows="])
        #expect(c.complete(prefix: "perplexity m windows=2 ", word: "") .contains("ctx="))
        #expect(!c.complete(prefix: "perplexity m windows=2 ", word: "").contains("windows="))
        // An argument may be a call, so builtin names are offered beside the parameters.
        #expect(c.complete(prefix: "rand 2 2 ", word: "di") == ["diff", "dist="])
        #expect(c.complete(prefix: "rand 2 2 ", word: "dis") == ["dist="])
        #expect(c.complete(prefix: "rand 2 2 dist=", word: "un") == ["uniform"])
        #expect(c.complete(prefix: "", word: "r.") == ["r.nll", "r.ppl"])
        #expect(c.complete(prefix: "x = text \"", word: "austen:e") == ["austen:emma"])
    }
}
