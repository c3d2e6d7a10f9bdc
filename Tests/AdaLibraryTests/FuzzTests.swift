import AdaModel
import AdaLang
import AdaLibrary
import AdaRender
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

/// Feeds more than 10,000 random and mutated inputs to the lexer, parser, checker and
/// interpreter. Nothing may crash, and every failure must be a proper diagnostic: an
/// `AdaError` with a file, a line and column inside the input, and a message.
@Suite("Fuzz")
struct FuzzTests {
    typealias Rng = SplitMix64

    /// A tiny LLaMA model (2 blocks, hidden 8) so model builtins run instantly.
    static func tinyModel() throws -> LlamaModel { try LlamaModel.load(path: tinyModelFile()) }

    /// The sandboxed standard library (`load` gives the tiny model, `text` a small dataset,
    /// no file is written), with plots' SVG made as well as their terminal drawing.
    static func registry(_ tiny: LlamaModel) -> Registry {
        let r = Registry.sandboxed(model: tiny)
        guard var b = r["plot"] else { return r }
        let plot = b.run
        b.run = { a, ctx in
            let v = try plot(a, ctx)
            if case .object(let p as PlotValue) = v { _ = p.svg() }
            return v
        }
        r.register(b)
        return r
    }

    static let corpus: [String] = {
        var out: [String] = [
            "x = 1\ny = x * 2 + 3\nprint x, y",
            "m = load\nt = layers m\nt[0]\nw = m[\"blk.1.ffn_down\"]\nshape w\nabsmax w axis=0",
            "calib = text \"austen:emma\" windows=4 ctx=16\nr = perplexity m calib windows=2 ctx=8\nr.ppl",
            "for dim in [\"oc\", \"ic\"] {\n  q = load\n  print dim, (perplexity q \"austen:pride\" windows=8).ppl\n}",
            "fn f(a, b=2) {\n  if a > b { return a } else { return b }\n}\nf 1\nf(3, b=1)",
            "rows = []\nfor i in range 4 { rows = append(rows, {i: i, sq: i * i}) }\nsort (table rows) by=\"sq\" desc=true",
            "a = rand 4 4 seed=1\nb = matmul a (transpose a)\nsum b axis=1\nb[0:2, :]\nreshape b 2 8",
            "s = \"héllo\"\ns[1:3] + str(len s)\ntokens \"abc\"\ndecode [1, 2, 3]",
            "if not true or 1 < 2 and \"a\" != \"b\" { print \"ok\" }",
            "help\nhelp perplexity\nhistory\nvars\nsave \"x.ada\" overwrite=true",
        ]
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("golden")
        if let names = try? FileManager.default.contentsOfDirectory(atPath: golden.path) {
            for n in names.sorted() where n.hasSuffix(".ada") {
                if let s = try? String(contentsOf: golden.appendingPathComponent(n), encoding: .utf8) { out.append(s) }
            }
        }
        return out
    }()

    static let vocabulary: [String] = [
        "x", "y", "m", "t", "r", "xs", "calib", "i", "f", "load", "text", "perplexity", "layers", "print", "range",
        "round", "sum", "mean", "rand", "zeros", "tensor", "shape", "matmul", "transpose", "len", "table", "append",
        "help", "history", "save", "sort", "format", "str", "decode", "tokens", "reshape", "absmax", "min", "max",
        "fn", "if", "else", "for", "in", "return", "break", "continue", "true", "false", "none", "and", "or", "not",
        "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "=", "+=", "-=", "==", "!=", "<", "<=", ">", ">=",
        "+", "-", "*", "/", "%", "\n", " ", "  ", "#c\n", "0", "1", "-1", "3", "2.5", "1e308", "-1e308", "1e-300",
        "99999999999", "4294967297", "9007199254740993", "\"s\"", "\"austen:emma\"", "\"blk.0.attn_q\"", "''",
        "\"\\n\"", "\"\\u{1F600}\"", "windows=", "ctx=", "seed=", "axis=", "digits=", "step=", "by=", "desc=",
        "m[\"blk.1.ffn_up\"]", "[1, 2]", "{a: 1}", "é", "\t", "\\", "\"", "'", "@", "!", "`",
        "plot", "explain", "show", "gptq", "kind=", "levels=", "bins=", "log=true", "width=", "height=", "at=", "channel=",
    ]

    func mutate(_ s: String, _ rng: inout Rng) -> String {
        var chars = Array(s.unicodeScalars)
        let ops = 1 + rng.int(4)
        for _ in 0..<ops {
            switch rng.int(7) {
            case 0 where !chars.isEmpty:  // delete a span
                let a = rng.int(chars.count), n = 1 + rng.int(min(12, chars.count - a))
                chars.removeSubrange(a..<min(chars.count, a + n))
            case 1:  // insert a token
                let at = rng.int(chars.count + 1)
                chars.insert(contentsOf: rng.pick(FuzzTests.vocabulary).unicodeScalars, at: at)
            case 2 where !chars.isEmpty:  // replace a character
                chars[rng.int(chars.count)] = rng.pick(Array("(){}[]\"'=+-*/,.:;#\n 0aZ_é".unicodeScalars))
            case 3 where chars.count > 2:  // duplicate a span
                let a = rng.int(chars.count), b = min(chars.count, a + 1 + rng.int(40))
                chars.insert(contentsOf: Array(chars[a..<b]), at: rng.int(chars.count))
            case 4 where !chars.isEmpty:  // truncate
                chars.removeSubrange(rng.int(chars.count)...)
            case 5 where chars.count > 1:  // swap two characters
                let a = rng.int(chars.count), b = rng.int(chars.count)
                chars.swapAt(a, b)
            default:  // splice another corpus entry in
                let other = Array(rng.pick(FuzzTests.corpus).unicodeScalars)
                let a = rng.int(other.count + 1)
                chars.insert(contentsOf: other[a..<min(other.count, a + rng.int(80))], at: rng.int(chars.count + 1))
            }
        }
        var v = String.UnicodeScalarView()
        v.append(contentsOf: chars)
        return String(v)
    }

    func tokenSoup(_ rng: inout Rng) -> String {
        (0..<(1 + rng.int(40))).map { _ in rng.pick(FuzzTests.vocabulary) + (rng.chance(0.6) ? " " : "") }.joined()
    }

    /// Random programs that are mostly well-formed, to reach the interpreter.
    func program(_ rng: inout Rng, _ registry: Registry) -> String {
        let names = ["x", "y", "xs", "t", "m", "r", "s", "i"]
        func expr(_ d: Int) -> String {
            let atoms = ["0", "1", "-2", "2.5", "1e9", "\"s\"", "\"austen:pride\"", "true", "none", "[1, 2, 3]", "{a: 1, b: \"x\"}"]
            if d <= 0 { return rng.chance(0.5) ? rng.pick(names) : rng.pick(atoms) }
            switch rng.int(10) {
            case 0: return "\(expr(d - 1)) \(rng.pick(["+", "-", "*", "/", "%", "==", "<", "and", "or"])) \(expr(d - 1))"
            case 1: return "[\(expr(d - 1)), \(expr(d - 1))]"
            case 2: return "(\(command(d - 1)))"
            case 3: return "\(rng.pick(names))[\(expr(d - 1))]"
            case 4: return "\(rng.pick(names))[\(rng.chance(0.5) ? expr(0) : ""):\(rng.chance(0.5) ? expr(0) : "")]"
            case 5: return "\(rng.pick(names)).\(rng.pick(["ppl", "a", "shape", "rows", "blocks", "windows", "b"]))"
            case 6: return "not \(expr(d - 1))"
            case 7: return "-(\(expr(d - 1)))"
            case 8: return "\(rng.pick(["round", "len", "str", "sum", "max", "type"]))(\(expr(d - 1)))"
            default: return rng.chance(0.5) ? rng.pick(names) : rng.pick(atoms)
            }
        }
        func command(_ d: Int) -> String {
            let cmds: [(String, [String])] = [
                ("load", []), ("text", ["\"austen:emma\"", "windows=2", "ctx=8"]), ("perplexity", ["m", "\"austen:pride\"", "windows=2"]),
                ("layers", ["m"]), ("rand", ["3", "4", "seed=1"]), ("zeros", ["2", "2"]), ("range", ["5"]),
                ("sum", ["t"]), ("mean", ["t", "axis=1"]), ("transpose", ["t"]), ("matmul", ["t", "t"]), ("shape", ["t"]),
                ("print", ["x", "y"]), ("len", ["xs"]), ("round", ["2.567", "digits=1"]), ("table", ["[{a: 1}]"]),
                ("tokens", ["\"abc\""]), ("decode", ["[1, 2]"]), ("append", ["xs", "1"]), ("sort", ["xs"]),
            ]
            // Quantization commands, when registered, on the tiny model (fast).
            let quant: [(String, [String])] = [
                ("rtn", ["t", "bits=3", "group=3"]), ("weightstats", ["t"]),
                ("quantize", ["m", "method=rtn", "bits=3", "group=4", "dim=oc"]),
                ("quantize", ["m", "method=gptq", "bits=2", "group=4", "dim=ic", "calib=(text \"x\" windows=2 ctx=8)"]),
                ("quantize", ["m", "method=rtn", "bits=4", "group=4", "dim=ada", "calib=(text \"x\" windows=2 ctx=8)"]),
                ("capture", ["m", "(text \"x\" windows=2 ctx=8)"]),
                ("outliers", ["(capture m (text \"x\" windows=2 ctx=8))", "top=3"]),
                ("plot", ["t"]), ("plot", ["xs", "kind=hist", "bins=3", "levels=[0, 1]"]), ("plot", ["[t, t]", "log=true"]),
                ("plot", ["(table [{a: 1, b: 2}, {a: 2, b: -1}])", "x=\"a\"", "y=\"b\""]),
                ("explain", ["t", "bits=2"]), ("explain", ["m", "\"blk.0.ffn_down\"", "bits=2", "group=4"]),
                ("gptq", ["m", "\"blk.1.ffn_up\"", "(text \"x\" windows=2 ctx=8)", "bits=3", "group=4"]), ("show", ["t", "x"]),
            ].filter { registry[$0.0] != nil }
            let (c, args) = rng.chance(0.2) && !quant.isEmpty ? rng.pick(quant) : rng.pick(cmds)
            var parts = [c]
            for a in args { parts.append(rng.chance(0.15) ? "(\(expr(d)))" : a) }
            if rng.chance(0.1) { parts.append("(\(expr(d)))") }
            return parts.joined(separator: " ")
        }
        func statement(_ d: Int) -> String {
            switch rng.int(8) {
            case 0, 1: return "\(rng.pick(names)) = \(rng.chance(0.5) ? command(d) : expr(d))"
            case 2: return "for i in \(rng.pick(["range 3", "xs", "[1, 2]", "\"ab\"", "t", "(\(expr(d)))"])) {\n  \(statement(d - 1))\n}"
            case 3: return "if (\(expr(d))) { \(statement(d - 1)) } else { \(statement(d - 1)) }"
            case 4: return "print (\(expr(d))), (\(expr(d)))"
            case 5: return command(d)
            default: return expr(d)
            }
        }
        var lines = ["x = 1", "y = 2", "i = 0", "xs = [1, 2, 3]", "t = rand 3 3 seed=2", "m = load", "r = {ppl: 1, a: 2}", "s = \"str\""]
        lines.append("fn g(a, b=1) {\n  \(statement(1))\n  return a + b\n}")
        for _ in 0..<(1 + rng.int(6)) { lines.append(statement(2)) }
        if rng.chance(0.3) { lines.append("g(x)") }
        return lines.joined(separator: "\n")
    }

    /// Whether an error is a proper diagnostic for this input.
    func isProper(_ e: AdaError, _ file: SourceFile) -> Bool {
        guard !e.message.isEmpty, e.file === file, let r = e.range else { return false }
        guard r.line >= 1, r.line <= file.lineCount + 1, r.column >= 1, r.length >= 0 else { return false }
        return e.render(color: false).hasPrefix("\(file.name):\(r.line):\(r.column): ")
    }

    @Test func randomAndMutatedInputs() {
        guard let tiny = try? FuzzTests.tinyModel() else {
            Issue.record("cannot build the tiny model")
            return
        }
        nonisolated(unsafe) let registry = FuzzTests.registry(tiny)
        final class Stats: @unchecked Sendable {
            var inputs = 0, syntaxErrors = 0, checkErrors = 0, ran = 0, runtimeErrors = 0
            var improper: [String] = []
        }
        let stats = Stats()
        onBigStack {
            let env = ProcessInfo.processInfo.environment
            var rng = Rng(state: UInt64(env["FUZZ_SEED"] ?? "") ?? 20_241_129)
            for n in 0..<(Int(env["FUZZ_COUNT"] ?? "") ?? 12_000) {
                let src: String
                switch n % 3 {
                case 0: src = mutate(rng.pick(FuzzTests.corpus), &rng)
                case 1: src = program(&rng, registry)
                default: src = rng.chance(0.5) ? tokenSoup(&rng) : mutate(program(&rng, registry), &rng)
                }
                stats.inputs += 1
                let file = SourceFile(name: "fuzz.ada", text: src)
                let program: Program
                do {
                    program = try Parser.parse(file)
                } catch let e as AdaError {
                    if n % 3 == 1, ProcessInfo.processInfo.environment["FUZZ_DEBUG"] != nil { print("SY:", e.message, src) }
                    stats.syntaxErrors += 1
                    if !isProper(e, file) || e.kind != .syntax { stats.improper.append(src) }
                    continue
                } catch {
                    stats.improper.append(src)
                    continue
                }
                let problems = Checker.check(program, registry: registry)
                if !problems.isEmpty { stats.checkErrors += 1 }
                for p in problems where !isProper(p, file) { stats.improper.append(src) }
                // Run everything, even what the checker rejects: the interpreter must cope.
                let it = Interpreter(registry: registry, host: PlainHost(output: { _ in }, errorOutput: { _ in }))
                it.cancellation = CancelFlag()
                it.limits.maxSteps = 3_000
                it.limits.maxElements = 20_000
                it.limits.maxListLength = 20_000
                it.limits.maxCallDepth = 60
                // Statement by statement, as the REPL does, so later statements run after
                // earlier ones fail.
                for st in program.statements {
                    if let e = it.executeTopLevel(st, in: program) {
                        if n % 3 == 1, ProcessInfo.processInfo.environment["FUZZ_DEBUG"] != nil { print("RT:", e.message) }
                        stats.runtimeErrors += 1
                        if !isProper(e, file) || e.kind != .runtime { stats.improper.append(src) }
                    } else {
                        stats.ran += 1
                    }
                }
            }
        }
        let summary = "fuzz: \(stats.inputs) inputs; syntax errors \(stats.syntaxErrors), check problems \(stats.checkErrors), statements run \(stats.ran), runtime errors \(stats.runtimeErrors)"
        print(summary)
        #expect(stats.inputs >= 10_000)
        #expect(stats.improper.isEmpty, "improper diagnostics for: \(stats.improper.prefix(3))")
        // The inputs reached every stage.
        #expect(stats.syntaxErrors > 1000 && stats.ran > 10_000 && stats.runtimeErrors > 1000 && stats.checkErrors > 500, "\(summary)")
    }
}

extension SplitMix64 {
    mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 10_000) / 10_000 < p }
}
