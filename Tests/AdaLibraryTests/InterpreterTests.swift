import AdaLang
import AdaLibrary
import AdaModel
import AdaRender
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

@Suite("Interpreter")
struct InterpreterTests {
    @Test func arithmeticAndValues() throws {
        #expect(try value("1 + 2 * 3") == .number(7))
        #expect(try value("(1 + 2) * 3") == .number(9))
        #expect(try value("-7 % 3") == .number(2))
        #expect(try value("7 / 2") == .number(3.5))
        #expect(try value("\"a\" + \"b\"") == .string("ab"))
        #expect(try value("[1] + [2, 3]") == .list([.number(1), .number(2), .number(3)]))
        #expect(try value("not (1 < 2) or 2 >= 2") == .bool(true))
        #expect(try value("{a: 1, b: {c: \"x\"}}.b.c") == .string("x"))
        #expect(try value("[10, 20, 30][-1]") == .number(30))
        #expect(try value("[10, 20, 30][1:]") == .list([.number(20), .number(30)]))
        #expect(try value("\"hello\"[1:3]") == .string("el"))
        #expect(try value("none") == Value.none)
    }

    @Test func commandAndCallSyntaxAgree() throws {
        #expect(try value("round 3.14159 digits=2") == value("round(3.14159, digits=2)"))
        #expect(try value("round 2.5") == .number(2))  // ties to even
        #expect(try value("(range 2 8 step=3)") == .list([.number(2), .number(5)]))
        #expect(try value("len (range 5)") == .number(5))
        #expect(try value("max [3, 9, 2]") == .number(9))
    }

    @Test func controlFlowAndFunctions() throws {
        let src = """
        total = 0
        for v in range 10 {
          if v == 2 { continue }
          if v > 5 { break }
          total += v
        }
        fn fact(n) {
          if n <= 1 { return 1 }
          return n * fact(n - 1)
        }
        fn add(a, b=10) { return a + b }
        [total, (fact 5), (add 1), add(1, b=2), (add 1 b=3)]
        """
        #expect(try value(src) == .list([13, 120, 11, 3, 4].map { .number($0) }))
    }

    @Test func functionLocalsDoNotLeak() throws {
        let (it, _) = makeInterpreter()
        _ = try it.evaluate("g = 1\nfn f() {\n  g = 99\n  h = 2\n  return g\n}\nr = f()")
        #expect(it.globals["g"] == .number(1))
        #expect(it.globals["h"] == nil)
        #expect(it.globals["r"] == .number(99))
    }

    @Test func expressionStatementsShowTheirValues() {
        let (out, err) = run("x = 3\nx * 2\nprint \"p\", x\nnone\n[1, \"a\"]\n")
        #expect(err == nil)
        #expect(out == "6\np 3\n[1, \"a\"]\n")
    }

    @Test func failedStatementLeavesVariablesUnchanged() {
        let (it, _) = makeInterpreter()
        #expect(run("x = 1\nys = [1, 2]", in: it).error == nil)
        // The loop assigns x and creates z before failing: both are rolled back.
        let e = run("for i in range 3 {\n  x = 100 + i\n  z = i\n  if i == 2 { w = 1 / 0 }\n}", in: it).error
        #expect(e?.message == "division by zero")
        #expect(it.globals["x"] == .number(1))
        #expect(it.globals["z"] == nil)
        #expect(it.globals["ys"] == .list([.number(1), .number(2)]))
        // A function defined in a failed statement is gone too; history has only successes.
        #expect(run("fn f() { return 1 }; nope", in: it).error != nil)
        #expect(it.globals["f"] != nil)  // its own statement succeeded
        #expect(it.state.history == ["x = 1", "ys = [1, 2]", "fn f() { return 1 }"])
    }

    @Test func helpHistoryAndSaveAreNotRecorded() {
        let (it, _) = makeInterpreter()
        run("a = 1\nhelp\nhelp round\nhistory\nvars\nprint a", in: it)
        #expect(it.state.history == ["a = 1", "print a"])
    }

    @Test func runtimeErrorsCarryLocationAndCaret() {
        let (_, e) = run("x = 1\ny = round \"a\"", name: "s.ada")
        let err = e!
        #expect(err.kind == .runtime && err.exitStatus == 1)
        #expect(err.range?.line == 2 && err.range?.column == 11)
        #expect(err.render(color: false) == """
        s.ada:2:11: error: round: 'value' must be a number, got a string "a"
         2 | y = round "a"
           |           ^~~
        note: usage: round VALUE [digits=0]

        """)
    }

    @Test func unknownNamesSuggestTheClosest() {
        #expect(run("results = 1\nprint reslts").error?.message == "unknown name 'reslts'; did you mean 'results'?")
        #expect(run("perplexty 1").error?.message == "unknown command 'perplexty'; did you mean 'perplexity'?")
        #expect(run("round 2.5 digts=1").error?.message == "round has no argument 'digts'; did you mean 'digits'?")
        #expect(run("r = {ppl: 1}\nr.pll").error?.message == "no field 'pll' in this record; did you mean 'ppl'?")
        #expect(run("rand 2 2 dist=unifrom").error?.message == "unknown name 'unifrom'; did you mean 'uniform'?")
        #expect(run("rand 2 2 dist=\"unifrom\"").error?.notes.first == "did you mean 'uniform'?")
        #expect(run("zzqx").error?.message == "unknown name 'zzqx'")
    }

    @Test func argumentErrors() {
        #expect(run("round").error?.message == "round: missing argument 'value' (a number)")
        #expect(run("round 1 2 3").error?.message == "round takes at most 2 positional arguments")
        #expect(run("round 1 digits=2 digits=3").error?.message == "round: argument 'digits' given twice")
        #expect(run("range 1.5").error?.message == "range: 'start' must be an integer, got a number 1.5")
        #expect(run("x = 3\nx 4").error?.message == "'x' is a number, not a command")
        #expect(run("load = 3").error?.message == "cannot assign to 'load': it is a builtin command")
        #expect(run("sum [1, \"a\"]").error?.message.hasPrefix("sum: 'value' must be") == true)
    }

    @Test func recursionIsBounded() {
        onBigStack {
            let (_, e) = run("fn f(n) { return f(n + 1) }\nf 0")
            #expect(e?.message.hasPrefix("calls nested too deeply") == true)
            // Deep expressions inside recursion: the evaluation depth is bounded across calls,
            // and the session keeps its variables.
            let (it, _) = makeInterpreter()
            let chain = Array(repeating: "1", count: 900).joined(separator: " + ")
            let src = "keep = 7\nfn g(n) {\n  if n == 0 { return 0 }\n  return g(n - 1) + \(chain)\n}\ng 150"
            let e2 = run(src, in: it).error
            #expect(e2?.message == "evaluation nested too deeply (more than 4000 levels of expressions and calls)")
            #expect(it.variable("keep") == .number(7))
            #expect(run("print g(3)", in: it).out == "2700\n")
        }
    }

    @Test func longScriptsRunInLinearTime() throws {
        // 20,000 statements: a quadratic step (a history copy or a statement search per
        // statement) would make this take minutes; the history is exact.
        let (it, _) = makeInterpreter()
        let src = (0..<20_000).map { "x\($0 % 50) = \($0)" }.joined(separator: "\n")
        #expect(run(src, in: it).error == nil)
        #expect(it.state.history.count == 20_000 && it.variable("x49") == .number(19_999))
        #expect(run("x0 = 1\nnope", in: it).error != nil)
        #expect(it.state.history.count == 20_001 && it.variable("x0") == .number(1))
    }

    @Test func stepLimit() {
        let (it, _) = makeInterpreter()
        it.limits.maxSteps = 1000
        #expect(run("for i in range 100000 { x = i }", in: it).error?.message.hasPrefix("step limit reached") == true)
    }

    @Test func memorySettingRollsBackWithTheStatement() {
        let (it, _) = makeInterpreter()
        defer { MemoryBudget.override = nil }
        #expect(run("memory \"1G\"", in: it).error == nil)
        #expect(MemoryBudget.current.bytes == 1 << 30 && MemoryBudget.current.source == .setting)
        // "2G" is set, then the bad size fails the statement: the 1G setting comes back.
        let e = run("for s in [\"2G\", \"12X\"] { memory s }", in: it).error
        #expect(e?.message.contains("'12X' is not a size") == true)
        #expect(MemoryBudget.override == 1 << 30)
        #expect(it.state.settings["memory"] == .int(1 << 30))
        #expect(run("memory \"default\"", in: it).error == nil)
        #expect(MemoryBudget.override == nil && it.state.settings["memory"] == nil)
    }

    @Test func interruptionRollsBack() {
        // A builtin that simulates ^C arriving while it runs.
        let r = Registry.standard()
        r.register(Builtin(name: "slow", category: "test", summary: "Requests cancellation.", examples: ["slow"],
                           run: { _, ctx in ctx.interpreter.cancellation.request(); return .number(1) }))
        let (it, _) = makeInterpreter(r)
        it.cancellation = CancelFlag()  // not the process-wide flag: tests run in parallel
        run("x = 1", in: it)
        let e = run("x = 2\nfor i in range 10 {\n  x = slow\n}", in: it).error
        #expect(e?.kind == .interrupted)
        #expect(e?.exitStatus == 130)
        #expect(it.globals["x"] == .number(2))  // "x = 2" succeeded; the loop was rolled back
        #expect(it.cancellation.isRequested == false)
        #expect(run("y = x + 1", in: it).error == nil)
        #expect(it.globals["y"] == .number(3))
    }

    @Test func tensors() throws {
        let (it, _) = makeInterpreter()
        _ = try it.evaluate("a = tensor [[1, 2, 3], [4, 5, 6]]")
        #expect(try value("shape a", in: it) == .list([.number(2), .number(3)]))
        #expect(try value("sum a", in: it) == .number(21))
        #expect(try value("a[1, 2]", in: it) == .number(6))
        #expect(try value("shape a[:, 1:]", in: it) == .list([.number(2), .number(2)]))
        #expect(try value("sum (matmul a (transpose a))", in: it) == .number(14 + 32 + 32 + 77))
        #expect(try value("(rand 3 3 seed=5) == (rand 3 3 seed=5)", in: it) == .bool(true))
        #expect(try value("(rand 3 3 seed=5) == (rand 3 3 seed=6)", in: it) == .bool(false))
        guard case .object(let o) = try value("a * 2 - 1", in: it), let t = o as? TensorValue else {
            Issue.record("not a tensor"); return
        }
        #expect(t.tensor == Tensor(shape: [2, 3], data: [1, 3, 5, 7, 9, 11]))
        #expect(run("a[2, 0]", in: it).error?.message == "index 2 out of range for dimension 0 of size 2")
        #expect(run("matmul a a", in: it).error?.message == "matmul: inner dimensions differ: [2, 3] · [2, 3]")
    }

    @Test func setPinsAVariable() throws {
        let (it, c) = makeInterpreter()
        try it.set("bits", literal: "2")
        try it.set("name", literal: "plain words")
        try it.set("dims", literal: "[1, 2]")
        run("bits = 4\nprint bits name dims", in: it)
        #expect(c.out == "2 plain words [1, 2]\n")
        #expect(it.state.history.first == "# skipped: bits was set on the command line\n# bits = 4")
        #expect(throws: AdaError.self) { try it.set("load", literal: "1") }
        #expect(throws: AdaError.self) { try it.set("2x", literal: "1") }
    }
}

@Suite("Extension points")
struct ExtensionTests {
    /// An engine value type defined outside the module, as the quantization builtins do.
    final class Histogram: EngineValue {
        let counts: [Int]
        init(_ c: [Int]) { counts = c }
        var typeName: String { "histogram" }
        var summary: String { "<histogram \(counts.count) bins>" }
        func outputs(_ style: DisplayStyle) -> [RichOutput] { [.text(counts.map { String(repeating: "#", count: $0) }.joined(separator: "\n"))] }
        var fieldNames: [String] { ["bins", "total"] }
        func field(_ name: String) -> Value? {
            name == "bins" ? .int(counts.count) : name == "total" ? .int(counts.reduce(0, +)) : nil
        }
        var length: Int? { counts.count }
    }

    func registry() -> Registry {
        let r = Registry.standard()
        r.register(Builtin(
            name: "histogram", category: "test", summary: "Counts values into bins.",
            examples: ["histogram [1, 2, 2] bins=2"],
            params: [Param("values", .list(.number), doc: "the values"),
                     Param("bins", .int, default: .int(4), doc: "number of bins"),
                     Param("method", .choice(["rtn", "gptq"]), default: .string("rtn"), doc: "a choice")],
            returns: "a histogram",
            run: { a, _ in
                let bins = try a.int("bins", min: 1)
                let xs = (a["values"].list ?? []).compactMap(\.number)
                let lo = xs.min() ?? 0, hi = xs.max() ?? 1
                var c = [Int](repeating: 0, count: bins)
                for x in xs { c[min(bins - 1, Int((x - lo) / max(hi - lo, 1e-9) * Double(bins)))] += 1 }
                return .object(Histogram(c))
            }))
        r.register(Builtin(name: "takes_histogram", category: "test", summary: "Type-checks a custom kind.",
                           examples: ["takes_histogram h"], params: [Param("h", .object("histogram"), doc: "a histogram")],
                           run: { a, _ in .string(try a.object("h", as: Histogram.self).summary) }))
        r.constant("oc", .string("oc"), doc: "per-output-channel groups")
        return r
    }

    @Test func customValueTypeRendersAndHasFields() throws {
        let (it, c) = makeInterpreter(registry())
        run("h = histogram [1, 2, 2, 3] bins=3\nh\nh.total\nlen h\ntakes_histogram h", in: it)
        #expect(c.out == "#\n##\n#\n4\n3\n\"<histogram 3 bins>\"\n")
        #expect(run("takes_histogram 3", in: it).error?.message == "takes_histogram: 'h' must be a histogram, got a number 3")
        #expect(run("h.bims", in: it).error?.message == "a histogram has no field 'bims'; did you mean 'bins'?")
    }

    @Test func choicesAcceptBareWordsAndConstantsWork() throws {
        let (it, _) = makeInterpreter(registry())
        #expect(run("h = histogram [1] method=gptq", in: it).error == nil)
        #expect(run("m = \"gptq\"\nh = histogram [1] method=m", in: it).error == nil)
        #expect(run("histogram [1] method=gptqq", in: it).error?.message.contains("did you mean 'gptq'?") == true)
        #expect(try value("[oc, \"x\"]", in: it) == .list([.string("oc"), .string("x")]))
        #expect(run("oc = 1", in: it).error?.message == "cannot assign to 'oc': it is a constant")
    }

    @Test func helpAndMarkdownIncludeNewBuiltins() {
        let r = registry()
        let md = builtinsMarkdown(r)
        #expect(md.contains("#### `histogram`"))
        #expect(md.contains("| `bins` | int | `4` | number of bins |"))
        #expect(Help.topic("histogram", registry: r)?.contains("usage: histogram VALUES [bins=4] [method=\"rtn\"]") == true)
        // Every builtin has a summary and an example, and its examples parse.
        let standard = Registry.standard()
        for n in standard.order {
            let b = standard[n]!
            #expect(!b.summary.isEmpty && !b.examples.isEmpty, "\(n)")
            for ex in b.examples {
                #expect(syntaxError(ex) == nil, "example of \(n): \(ex): \(syntaxError(ex)?.message ?? "")")
            }
        }
    }
}

@Suite("Checker")
struct CheckerTests {
    func problems(_ s: String, predefined: Set<String> = []) throws -> [String] {
        let p = try Parser.parse(SourceFile(name: "c.ada", text: s))
        return Checker.check(p, registry: .standard(), predefined: predefined).map(\.message)
    }

    @Test func cleanScriptsPass() throws {
        #expect(try problems("""
        xs = [1, 2]
        for i in range 3 {
          if i > 0 { print prev }
          prev = i
        }
        fn f(a, b=2) { return a + b + later }
        later = 1
        print (f 1), f(1, b=3)
        help perplexity
        rand 2 2 dist=uniform
        """).isEmpty)
    }

    @Test func problemsAreFound() throws {
        #expect(try problems("print x") == ["unknown name 'x'"])
        #expect(try problems("perplexty 1") == ["unknown command 'perplexty'; did you mean 'perplexity'?"])
        #expect(try problems("round 1 digts=2") == ["round has no argument 'digts'; did you mean 'digits'?"])
        #expect(try problems("round") == ["round: missing argument 'value' (a number)"])
        #expect(try problems("round \"x\"") == ["round: 'value' must be a number, got a string \"x\""])
        #expect(try problems("f 1\nfn f(a) { return a }") == ["'f' is used before its 'fn' definition"])
        #expect(try problems("fn f(a) { return a }\nf 1 2") == ["f takes 1 argument"])
        #expect(try problems("print bits", predefined: ["bits"]).isEmpty)
        #expect(try problems("a = b\nc = d").count == 2)
    }
}

@Suite("Sessions")
struct SessionTests {
    @Test func renderHeaderAndStatements() {
        let text = SessionWriter.render(
            history: ["m = load", "x = 1"], models: [LoadedModelFile(name: "smollm2", path: "/d/m.gguf")],
            pinned: [("bits", "2")], date: Date(timeIntervalSince1970: 86400), sha256: { _ in String(repeating: "a", count: 64) })
        #expect(text == """
        # ada session, saved by ada \(AdaVersion.string) on 1970-01-02 00:00:00 UTC
        # replay with: ada run FILE
        # model "smollm2": /d/m.gguf
        #   sha256 \(String(repeating: "a", count: 64))

        # set on the command line (--set)
        bits = 2

        m = load
        x = 1

        """)
    }

    @Test func saveIsAtomicAndRefusesToClobber() throws {
        let dir = tempDir()
        let path = dir + "/s.ada"
        let (it, c) = makeInterpreter()
        #expect(run("x = 2\ny = x * 3\nsave \(renderString(path))", in: it).error == nil)
        #expect(c.out == "saved 2 statements to \(path)\n")
        let e = run("save \(renderString(path))", in: it).error
        #expect(e?.message == "save: '\(path)' exists; not overwriting it")
        #expect(run("z = 1\nsave \(renderString(path)) overwrite=true", in: it).error == nil)
        let saved = try String(contentsOfFile: path, encoding: .utf8)
        #expect(saved.hasSuffix("x = 2\ny = x * 3\nz = 1\n"))
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["s.ada"])
        // Replaying reproduces the values.
        let (it2, _) = makeInterpreter()
        #expect(run(saved, in: it2).error == nil)
        #expect(it2.globals["y"] == .number(6) && it2.globals["z"] == .number(1))
        #expect(run("save \"/nonexistent-dir/x.ada\"", in: it).error?.message == "save: no such folder '/nonexistent-dir'")
    }

    @Test func sha256OfAFile() throws {
        let path = tempDir() + "/f.txt"
        try "abc".write(toFile: path, atomically: true, encoding: .utf8)
        // sha256("abc")
        #expect(SessionWriter.sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
