import AdaLang
import AdaTestSupport
import Testing

@Suite("Lexer")
struct LexerTests {
    func kinds(_ s: String) throws -> [TokenKind] {
        var lx = Lexer(SourceFile(name: "t", text: s))
        return try lx.tokenize().map(\.kind)
    }

    @Test func tokensAndPositions() throws {
        var lx = Lexer(SourceFile(name: "t", text: "x = load \"smollm2\"  # comment\n  m[\"a\"]"))
        let toks = try lx.tokenize()
        #expect(toks.map(\.kind) == [
            .identifier("x"), .punct(.assign), .identifier("load"), .string("smollm2"), .newline,
            .identifier("m"), .punct(.lbracket), .string("a"), .punct(.rbracket), .eof,
        ])
        #expect(toks[3].range.line == 1 && toks[3].range.column == 10 && toks[3].range.length == 9)
        #expect(toks[5].range.line == 2 && toks[5].range.column == 3)
        // Whitespace flags drive command syntax: `m[` is tight, `load "` is spaced.
        #expect(toks[6].spaceBefore == false)
        #expect(toks[3].spaceBefore == true)
    }

    @Test func numbers() throws {
        #expect(try kinds("1_000 2.5 1e-3 7E2") == [.number(1000), .number(2.5), .number(0.001), .number(700), .eof])
        // `1.` is a number followed by a dot (field access is rejected later), `x.5` is not a float.
        #expect(try kinds("a.b") == [.identifier("a"), .punct(.dot), .identifier("b"), .eof])
    }

    @Test func stringsAndEscapes() throws {
        #expect(try kinds(#""a\n\"b\" \u{e9}" 'single'"#) == [.string("a\n\"b\" é"), .string("single"), .eof])
    }

    @Test func operatorsAndKeywords() throws {
        #expect(try kinds("a += 1 == 2 != 3 <= 4 and not b") == [
            .identifier("a"), .punct(.plusAssign), .number(1), .punct(.eq), .number(2), .punct(.ne), .number(3),
            .punct(.le), .number(4), .keyword(.and), .keyword(.not), .identifier("b"), .eof,
        ])
    }

    @Test func lexicalErrors() {
        #expect(syntaxError("x = \"open")?.message == "unterminated string")
        #expect(syntaxError("x = 3 @ 4")?.message == "unexpected character '@'")
        #expect(syntaxError("x = 12abc")?.message == "invalid number '12abc'")
        #expect(syntaxError("x = \"\\q\"")?.message == "unknown escape '\\q'")
        let e = syntaxError("a = 1\nb = \"x")!
        #expect(e.range?.line == 2 && e.range?.column == 5)
    }
}

@Suite("Parser")
struct ParserTests {
    func statements(_ s: String) throws -> [Stmt] { try Parser.parse(SourceFile(name: "t", text: s)).statements }

    func call(_ s: String) throws -> (name: String, args: [Argument], style: CallStyle) {
        let st = try statements(s)
        guard st.count == 1, case .expr(let e) = st[0].kind, case .call(let n, _, let a, let style) = e.kind else {
            Issue.record("not a single call: \(s)")
            return ("", [], .command)
        }
        return (n, a, style)
    }

    @Test func commandSyntax() throws {
        let c = try call("perplexity q \"austen:pride\" windows=8 ctx=512")
        #expect(c.name == "perplexity" && c.style == .command)
        #expect(c.args.map(\.label) == [nil, nil, "windows", "ctx"])
    }

    @Test func callSyntax() throws {
        let c = try call("perplexity(q, \"austen:pride\", windows=8)")
        #expect(c.style == .parenthesized)
        #expect(c.args.map(\.label) == [nil, nil, "windows"])
    }

    @Test func commandArgumentsAreArithmetic() throws {
        // `print i, i * 2`: two arguments; `f a -1`: two; `f a - 1`: one; `f a-1`: one.
        #expect(try call("print i, i * 2").args.count == 2)
        #expect(try call("f a -1").args.count == 2)
        #expect(try call("f a - 1").args.count == 1)
        #expect(try call("f a-1").args.count == 1)
        #expect(try call("f a [1]").args.count == 2)
        #expect(try call("f a[1]").args.count == 1)
        #expect(try call("f a (b)").args.count == 2)
    }

    @Test func spacingDecidesIndexAndCall() throws {
        // `m["x"]` indexes; `m ["x"]` passes a list to the command m.
        let s1 = try statements("m[\"x\"]")
        if case .expr(let e) = s1[0].kind, case .index = e.kind {} else { Issue.record("m[\"x\"] is not an index") }
        let c = try call("m [\"x\"]")
        #expect(c.name == "m" && c.args.count == 1)
    }

    @Test func nestedCommandInParentheses() throws {
        let st = try statements("print dim, (perplexity q \"austen:pride\" windows=8).ppl")
        guard case .expr(let e) = st[0].kind, case .call("print", _, let args, .command) = e.kind else {
            Issue.record("not a print command"); return
        }
        #expect(args.count == 2)
        guard case .field(let base, "ppl", _) = args[1].value.kind, case .call("perplexity", _, let pa, .command) = base.kind else {
            Issue.record("second argument is not (perplexity …).ppl"); return
        }
        #expect(pa.count == 3)
    }

    @Test func commandArgumentsSpanLinesInsideParentheses() throws {
        let st = try statements("r = (perplexity q\n   \"austen:pride\"\n   windows=8)\nx = 1")
        #expect(st.count == 2)
    }

    @Test func blocksAndFunctions() throws {
        let st = try statements("""
        for x in [1, 2] {
          if x > 1 { print x } else if x == 1 { print "one" } else { print "none" }
        }
        fn f(a, b=2) {
          return a + b
        }
        """)
        #expect(st.count == 2)
        guard case .function("f", _, let params, let body) = st[1].kind else { Issue.record("no fn"); return }
        #expect(params.map(\.name) == ["a", "b"])
        #expect(params[1].defaultValue != nil && body.count == 1)
    }

    @Test func statementRangesCoverBlocks() throws {
        let src = "x = 1\nfor i in [1] {\n  print i\n}\n"
        let p = try Parser.parse(SourceFile(name: "t", text: src))
        #expect(p.text(of: p.statements[1]) == "for i in [1] {\n  print i\n}")
    }

    @Test func incompleteInputIsFlagged() {
        for s in ["for x in xs {", "fn f(a,", "x = [1, 2", "if a {\n  print 1\n} else {", "r = (perplexity m"] {
            let e = syntaxError(s)
            #expect(e?.incomplete == true, "\(s)")
        }
        for s in ["x = 1 +", "x = )", "}"] {
            #expect(syntaxError(s)?.incomplete == false, "\(s)")
        }
    }

    @Test func syntaxErrorsPointAtTheProblem() {
        let e = syntaxError("x = 1\ny = x +* 2")!
        #expect(e.message == "expected an expression, found '*'")
        #expect(e.range?.line == 2 && e.range?.column == 8)
        #expect(e.exitStatus == 2)
        #expect(syntaxError("a < b < c")?.message == "comparisons do not chain")
        #expect(syntaxError("return 1")?.message == "'return' outside a function")
        #expect(syntaxError("break")?.message == "'break' outside a loop")
        #expect(syntaxError("if x {\n  fn g() { }\n}")?.message == "functions are defined at the top level only")
        #expect(syntaxError("if x { }\nelse { }")?.message == "'else' without 'if'")
        #expect(syntaxError("len xs > 3")?.message == "unexpected '>' after the arguments of 'len'")
        #expect(syntaxError("x = 1 2")?.message.hasPrefix("expected end of statement") == true)
        #expect(syntaxError("for x in xs\n{ }")?.message.hasPrefix("expected '{'") == true)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        onBigStack {
            let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
            #expect(syntaxError(deep)?.message == "expression nested too deeply (more than 120 levels)")
            let neg = "x = " + String(repeating: "-", count: 5000) + "1"
            #expect(syntaxError(neg)?.message == "expression nested too deeply (more than 120 levels)")
        }
    }

    @Test func oneLineDescription() {
        let e = syntaxError("x = 1\nr = perplexity q \"a\" windows=8 > 2")!
        #expect(e.description == "t.ada:2:32: error: unexpected '>' after the arguments of 'perplexity'")
    }

    @Test func nestedBlocksAndLongChainsAreErrorsNotCrashes() {
        onBigStack {
            let n = 5000
            let ifs = String(repeating: "if true { ", count: n) + "x = 1" + String(repeating: " }", count: n)
            #expect(syntaxError(ifs)?.message.hasSuffix("nested too deeply (more than 120 levels)") == true)
            let fors = String(repeating: "for i in [1] { ", count: n) + "x = 1" + String(repeating: " }", count: n)
            #expect(syntaxError(fors)?.message.hasSuffix("nested too deeply (more than 120 levels)") == true)
            // Operator and postfix chains build tall trees without brackets: bounded too.
            let sum = "x = " + Array(repeating: "1", count: 200_000).joined(separator: " + ")
            #expect(syntaxError(sum)?.message == "expression too long: more than 1000 operators or indexes in a row")
            let idx = "x = [1]" + String(repeating: "[0]", count: 5000)
            #expect(syntaxError(idx)?.message == "expression too long: more than 1000 operators or indexes in a row")
            let fields = "x = r" + String(repeating: ".a", count: 5000)
            #expect(syntaxError(fields)?.message == "expression too long: more than 1000 operators or indexes in a row")
            // Just inside the bounds parses.
            #expect(syntaxError("x = " + Array(repeating: "1", count: 1000).joined(separator: " + ")) == nil)
            #expect(syntaxError(String(repeating: "if true { ", count: 100) + "x = 1" + String(repeating: " }", count: 100)) == nil)
        }
    }

    @Test func heightCountsNesting() throws {
        let p = try Parser.parseExpression(SourceFile(name: "t", text: "1 + 2 * (3 - f(4))"))
        // + → * → - → f(…) → 4: five levels.
        #expect(p.height == 5)
    }
}
