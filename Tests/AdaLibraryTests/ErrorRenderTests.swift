import AdaLang
import AdaRender
import Testing

@Suite("Error rendering") struct ErrorRenderTests {
    @Test func caretRendering() {
        let e = syntaxError("x = 1\nr = perplexity q \"a\" windows=8 > 2")!
        #expect(e.render(color: false) == """
        t.ada:2:32: error: unexpected '>' after the arguments of 'perplexity'
         2 | r = perplexity q "a" windows=8 > 2
           |                                ^
        note: a command's arguments are arithmetic expressions; put a comparison in parentheses, f (a > b), or the whole call: (perplexity q "a" windows=8) > …

        """)
    }
}
