import AdaEval
import AdaModel
import AdaTensor
import Foundation
import Testing

private func close(_ a: Double, _ b: Double, _ tol: Double) -> Bool { abs(a - b) <= tol }

@Suite("Log-likelihood scoring by hand (bigram model)")
struct HandScoringTests {
    static let model = TasksModels.bigram()

    @Test func logLikelihoodsAreTheHandValues() throws {
        let s = LogLikelihoodScorer(model: Self.model)
        // After 0: p(1) = .4, p(2) = .2; after 2: p(3) = .5; after 1: p(0) = .3; after 3: p(4) = .5.
        let reqs = [TokenRequest(context: [0], continuation: [1]),        // log .4
                    TokenRequest(context: [0], continuation: [2, 3]),     // log .2 + log .5 = log .1
                    TokenRequest(context: [0], continuation: [1, 0]),     // log .4 + log .3 = log .12, greedy
                    TokenRequest(context: [5, 0, 2], continuation: [3, 4])]  // log .5 + log .5 = log .25, greedy
        let r = try s.score([Array(reqs[0..<3]), [reqs[3]]])
        #expect(close(r[0][0].logLikelihood, log(0.4), 1e-5))
        #expect(close(r[0][1].logLikelihood, log(0.1), 1e-5))
        #expect(close(r[0][2].logLikelihood, log(0.12), 1e-5))
        #expect(close(r[1][0].logLikelihood, log(0.25), 1e-5))
        #expect(r[0][0].isGreedy && !r[0][1].isGreedy && r[0][2].isGreedy && r[1][0].isGreedy)
        #expect(r[0].map(\.tokens) == [1, 2, 2] && r[1][0].tokens == 2)
    }

    @Test func accAndAccNormRankDifferently() {
        // Choice 0 = token 1 (log .4 = −0.916), choice 1 = tokens 2 3 (log .1 = −2.303).
        // acc picks choice 0. With 1 byte for choice 0 and 5 bytes for choice 1, per byte:
        // −0.916 against −0.461, so acc_norm picks choice 1.
        let scores = [RequestScore(logLikelihood: log(0.4), isGreedy: true, tokens: 1),
                      RequestScore(logLikelihood: log(0.1), isGreedy: false, tokens: 2)]
        let item1 = TaskItem(requests: [TextRequest("c", " a"), TextRequest("c", " bbbbb")], label: 1, choiceBytes: [1, 5])
        let o1 = choiceOutcome(item1, scores)
        #expect(!o1.acc && o1.accNorm)
        // With 1 byte and 2 bytes: −0.916 against −1.151: both pick choice 0.
        let item0 = TaskItem(requests: item1.requests, label: 0, choiceBytes: [1, 2])
        let o0 = choiceOutcome(item0, scores)
        #expect(o0.acc && o0.accNorm)
        // Ties go to the first choice (numpy's argmax).
        let tie = [scores[0], scores[0]]
        #expect(choiceOutcome(TaskItem(requests: item1.requests, label: 0, choiceBytes: [3, 3]), tie).acc)
    }

    @Test func rankingsOfThreeItems() throws {
        // Item 0: token 1 (.4) against tokens 2 3 (.1); item 1 after 4: token 5 (.4) against
        // token 0 (.2); item 2 after 2: token 4 (.1) against token 3 (.5).
        let s = LogLikelihoodScorer(model: Self.model)
        let items: [[TokenRequest]] = [
            [.init(context: [0], continuation: [1]), .init(context: [0], continuation: [2, 3])],
            [.init(context: [4], continuation: [5]), .init(context: [4], continuation: [0])],
            [.init(context: [2], continuation: [4]), .init(context: [2], continuation: [3])],
        ]
        let r = try s.score(items)
        #expect(r.map { $0[0].logLikelihood > $0[1].logLikelihood ? 0 : 1 } == [0, 0, 1])
        let want = [[0.4, 0.1], [0.4, 0.2], [0.1, 0.5]]
        for (got, w) in zip(r, want) {
            for (g, p) in zip(got, w) { #expect(close(g.logLikelihood, log(p), 1e-5)) }
        }
    }
}

@Suite("Packed scoring equals plain forward passes")
struct PackedScoringTests {
    static let model = TasksModels.bytes()

    static func items() -> [[TokenRequest]] {
        var state: UInt64 = 99
        func tok() -> Int32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % 256)
        }
        func seq(_ n: Int) -> [Int32] { (0..<n).map { _ in tok() } }
        let shared = seq(9)
        let stem = seq(5)
        return [
            // Shared context, choices of different lengths.
            [TokenRequest(context: shared, continuation: seq(3)), TokenRequest(context: shared, continuation: seq(1)),
             TokenRequest(context: shared, continuation: seq(6))],
            // WinoGrande-like: contexts differ after a common stem, same continuation.
            { let tail = seq(4); return [TokenRequest(context: stem + seq(2), continuation: tail),
                                         TokenRequest(context: stem + seq(3), continuation: tail)] }(),
            // One request's input is a prefix of another's (empty branch).
            { let c = seq(7), x = seq(1); return [TokenRequest(context: c, continuation: x),
                                                   TokenRequest(context: c, continuation: x + seq(2))] }(),
            // A single request (LAMBADA-like), and identical requests.
            [TokenRequest(context: seq(12), continuation: seq(2))],
            { let r = TokenRequest(context: seq(4), continuation: seq(2)); return [r, r] }(),
        ]
    }

    static func check(_ got: [[RequestScore]], _ items: [[TokenRequest]], maxLength: Int = .max) {
        for (it, sc) in zip(items, got) {
            #expect(sc.count == it.count)
            for (r, s) in zip(it, sc) {
                let ref = referenceScore(model, r, maxLength: maxLength)
                #expect(close(s.logLikelihood, ref.logLikelihood, 2e-4), "packed \(s.logLikelihood) vs plain \(ref.logLikelihood)")
                #expect(s.isGreedy == ref.isGreedy)
                #expect(s.tokens == r.continuation.count)
            }
        }
    }

    @Test func oneBatchAndManyBatches() throws {
        let items = Self.items()
        for budget in [1, 16, 40, 4096] {
            let s = LogLikelihoodScorer(model: Self.model, batchTokens: budget)
            var calls: [(Int, Int)] = []
            let got = try s.score(items, progress: { calls.append(($0, $1)) })
            Self.check(got, items)
            #expect(calls.last.map { $0 == (items.count, items.count) } == true)
            if budget == 1 { #expect(s.times.passes == items.count) }
            if budget == 4096 { #expect(s.times.passes == 1) }
        }
    }

    @Test func sharedPrefixKeysAndValues() throws {
        // Three items behind a common 10-token prefix: run it once, then score after it.
        var items = Self.items()
        let head: [Int32] = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        items = items.map { $0.map { TokenRequest(context: head + $0.context, continuation: $0.continuation) } }
        let s = LogLikelihoodScorer(model: Self.model, batchTokens: 30)
        let common = try s.commonPrefix(items)
        #expect(common == head)
        let prefix = s.forward.prefix(common)
        Self.check(try s.score(items, prefix: prefix), items)
        // A request that does not start with the prefix is an error.
        #expect(throws: EvalError.self) {
            try s.score([[TokenRequest(context: [1, 2, 3], continuation: [4])]], prefix: prefix)
        }
    }

    @Test func commonPrefixLeavesEveryContextAToken() throws {
        let s = LogLikelihoodScorer(model: Self.model)
        let a = TokenRequest(context: [1, 2, 3], continuation: [4, 5])
        let b = TokenRequest(context: [1, 2, 3, 4], continuation: [5])
        // Inputs [1 2 3 4] and [1 2 3 4]: the first scored row is index 2 for a, so the prefix
        // stops before it.
        #expect(try s.commonPrefix([[a], [b]]) == [1, 2])
        #expect(try s.commonPrefix([[TokenRequest(context: [7], continuation: [1])]]) == [])
    }

    @Test func leftTruncation() throws {
        let items = Self.items()
        let s = LogLikelihoodScorer(model: Self.model, maxLength: 8)
        Self.check(try s.score(items), items, maxLength: 8)
    }

    @Test func errorsAndCancellation() throws {
        let s = LogLikelihoodScorer(model: Self.model)
        #expect(throws: EvalError.self) { try s.score([[TokenRequest(context: [], continuation: [1])]]) }
        #expect(throws: EvalError.self) { try s.score([[TokenRequest(context: [1], continuation: [])]]) }
        #expect(throws: EvalError.self) { try s.score([[]]) }
        #expect(throws: CancellationError.self) { try s.score(Self.items(), shouldStop: { true }) }
    }
}

@Suite("Prompt formats")
struct PromptFormatTests {
    @Test func hellaswag() throws {
        #expect(hellaswagPreprocess(" How to do x [title] Step one [step] more  text ") == "How to do x. Step one more text")
        #expect(hellaswagPreprocess("keep [unclosed") == "keep [unclosed")
        let row: EvalRow = ["activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
                            "endings": ["is using wrap.", "starts pulling up roofing [title] on a roof."], "label": 1]
        let it = try taskItem(.hellaswag, row)
        #expect(it.requests.map(\.context) == ["Roof shingle removal: A man is sitting on a roof. He",
                                               "Roof shingle removal: A man is sitting on a roof. He"])
        #expect(it.requests.map(\.continuation) == [" is using wrap.", " starts pulling up roofing. on a roof."])
        #expect(it.choiceBytes == [14, 37] && it.label == 1)
        // ctx_b is capitalized the Python way: the rest goes to lower case.
        let row2: EvalRow = ["activity_label": "X", "ctx_a": "A.", "ctx_b": "the LADY", "endings": ["a"], "label": 0]
        #expect(try taskItem(.hellaswag, row2).requests[0].context == "X: A. The lady")
    }

    @Test func piqaArcBoolqOpenbookqa() throws {
        let p = try taskItem(.piqa, ["goal": "Open a jar", "sol1": "Twist the lid.", "sol2": "Kick it.", "label": 0])
        #expect(p.requests == [TextRequest("Question: Open a jar\nAnswer:", " Twist the lid."),
                               TextRequest("Question: Open a jar\nAnswer:", " Kick it.")])
        #expect(p.choiceBytes == [14, 8])
        let a = try taskItem(.arcEasy, ["id": "x", "question": "Which is a gas?", "choices": ["ice", "steam", "rock"], "label": 1])
        #expect(a.requests.map(\.context) == Array(repeating: "Question: Which is a gas?\nAnswer:", count: 3))
        #expect(a.requests.map(\.continuation) == [" ice", " steam", " rock"] && a.label == 1)
        let b = try taskItem(.boolq, ["question": "is water wet", "passage": "Water is a liquid.", "label": 1])
        #expect(b.requests == [TextRequest("Water is a liquid.\nQuestion: is water wet?\nAnswer:", " no"),
                               TextRequest("Water is a liquid.\nQuestion: is water wet?\nAnswer:", " yes")])
        let o = try taskItem(.openbookqa, ["id": "1", "question_stem": "The sun is", "choices": ["hot", "cold"], "label": 0])
        #expect(o.requests == [TextRequest("The sun is", " hot"), TextRequest("The sun is", " cold")])
        #expect(throws: EvalError.self) { try taskItem(.piqa, ["goal": "g", "sol1": "a", "sol2": "b", "label": 2]) }
        #expect(throws: EvalError.self) { try taskItem(.piqa, ["goal": "g", "sol1": "a", "label": 0]) }
    }

    @Test func winograndeIsPartialScoring() throws {
        let it = try taskItem(.winogrande, ["sentence": "Sarah was a better surgeon than Maria so _ always got the harder cases.",
                                            "option1": "Sarah", "option2": "Maria", "label": 0])
        #expect(it.requests == [TextRequest("Sarah was a better surgeon than Maria so Sarah", " always got the harder cases."),
                                TextRequest("Sarah was a better surgeon than Maria so Maria", " always got the harder cases.")])
        #expect(it.choiceBytes == [28, 28])
    }

    @Test func lambadaAndMMLU() throws {
        let l = try taskItem(.lambada, ["context": "He took the", "target": "keys"])
        #expect(l.requests == [TextRequest("He took the", " keys")] && l.choiceBytes == [4])
        let dev: [EvalRow] = (0..<5).map { ["subject": "high_school_physics", "question": " Q\($0)? ", "choices": ["a", "b", "c", "d"], "label": $0 % 4] }
        let test: [EvalRow] = (0..<3).map { ["subject": "high_school_physics", "question": "T\($0)", "choices": ["w", "x", "y", "z"], "label": 2] }
            + [["subject": "anatomy", "question": "U", "choices": ["1", "2", "3", "4"], "label": 3]]
        let items = try mmluItems(test: test, dev: dev + dev.map { var r = $0; r["subject"] = "anatomy"; return r }, limit: 2)
        #expect(items.count == 3 && items.map(\.subject) == ["high_school_physics", "high_school_physics", "anatomy"])
        let ctx = items[0].requests[0].context
        #expect(ctx.hasPrefix("The following are multiple choice questions (with answers) about high school physics.\n\nQ0?\nA. a\nB. b\nC. c\nD. d\nAnswer: A\n\nQ1?"))
        #expect(ctx.hasSuffix("Answer: A\n\nT0\nA. w\nB. x\nC. y\nD. z\nAnswer:"))
        #expect(ctx.components(separatedBy: "Answer:").count == 7)
        #expect(items[0].requests.map(\.continuation) == [" A", " B", " C", " D"] && items[0].label == 2)
        #expect(throws: EvalError.self) { try mmluItems(test: test, dev: Array(dev.prefix(4)), limit: nil) }
    }

    @Test func encodePairFollowsTheHarness() throws {
        let m = TasksModels.bytes()
        let t = m.tokenizer
        let r = encodePair(t, context: "Answer:", continuation: " yes")
        #expect(r.context == t.encode("Answer:") && r.continuation == t.encode(" yes"))
        // Trailing spaces of the context move to the continuation.
        #expect(encodePair(t, context: "Answer: ", continuation: "yes") == r)
    }
}

@Suite("Tasks end to end on a byte-level tiny model")
struct TinyTaskTests {
    static let model = TasksModels.bytes()

    /// A data root holding a few hand-written rows of each format.
    static func dataRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.path + "/ada-eval-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/evals", withIntermediateDirectories: true)
        func write(_ name: String, _ rows: [[String: Any]]) throws {
            let lines = try rows.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            try (lines.joined(separator: "\n") + "\n").write(toFile: root + "/evals/" + name, atomically: true, encoding: .utf8)
        }
        try write("piqa_validation.jsonl", (0..<5).map { ["goal": "goal \($0)", "sol1": "first \($0)", "sol2": "the second one", "label": $0 % 2] })
        try write("hellaswag_validation.jsonl", (0..<4).map { ["activity_label": "Act", "ctx_a": "Ctx \($0).", "ctx_b": "then",
                                                              "endings": ["a", "bb", "ccc", "dddd"], "label": $0] })
        try write("winogrande_validation.jsonl", (0..<3).map { ["sentence": "A or B: _ won \($0).", "option1": "A", "option2": "Bee", "label": $0 % 2] })
        try write("arc_easy_test.jsonl", (0..<3).map { ["id": "\($0)", "question": "Q\($0)?", "choices": ["x", "yy", "zzz"], "label": 2] })
        try write("lambada_test.jsonl", (0..<4).map { ["context": "The cat sat on the", "target": ["mat", "hat", "t", "mat"][$0]] })
        try write("mmlu_test.jsonl", (0..<6).map { ["subject": $0 < 3 ? "anatomy" : "virology", "question": "Question \($0)",
                                                    "choices": ["p", "q", "r", "s"], "label": $0 % 4] })
        try write("mmlu_dev.jsonl", (0..<10).map { ["subject": $0 < 5 ? "anatomy" : "virology", "question": "Dev \($0)",
                                                    "choices": ["p", "q", "r", "s"], "label": $0 % 4] })
        return root
    }

    /// acc, acc_norm and LAMBADA's metrics recomputed from plain forward passes.
    static func expected(_ items: [TaskItem]) -> (acc: Double, norm: Double, greedy: Double, nll: Double) {
        var acc = 0.0, norm = 0.0, greedy = 0.0, nll = 0.0
        for it in items {
            // The tiny model's context is 256 tokens: MMLU's five-shot prompts are left-truncated.
            let sc = it.requests.map {
                referenceScore(model, encodePair(model.tokenizer, context: $0.context, continuation: $0.continuation),
                               maxLength: model.config.contextLength)
            }
            let o = choiceOutcome(it, sc)
            acc += o.acc ? 1 : 0
            norm += o.accNorm ? 1 : 0
            greedy += sc[0].isGreedy ? 1 : 0
            nll -= sc[0].logLikelihood
        }
        let n = Double(items.count)
        return (acc / n, norm / n, greedy / n, nll / n)
    }

    @Test func metricsMatchPlainScoring() throws {
        let root = try Self.dataRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let tasks: [EvalTaskName] = [.piqa, .hellaswag, .winogrande, .arcEasy, .lambada, .mmlu]
        var progress: [String: Int] = [:]
        let (rows, runs) = try evaluateTasks(tasks, model: Self.model, limit: nil, root: root, batchTokens: 64,
                                             progress: { t, d, n in progress[t.rawValue] = d; #expect(d <= n) })
        func value(_ task: String, _ metric: String) -> TaskMetric? { rows.first { $0.task == task && $0.metric == metric } }
        for t in tasks {
            let items = try loadTaskItems(t, limit: nil, root: root)
            #expect(progress[t.rawValue] == items.count)
            let e = Self.expected(items)
            if t == .lambada {
                #expect(close(value("lambada", "acc")!.value, e.greedy, 1e-12))
                #expect(close(value("lambada", "ppl")!.value, exp(e.nll), 1e-3 * exp(e.nll)))
                continue
            }
            let acc = try #require(value(t.rawValue, "acc"))
            #expect(close(acc.value, e.acc, 1e-12), "\(t.rawValue) acc")
            #expect(acc.examples == items.count)
            if t.hasAccNorm { #expect(close(value(t.rawValue, "acc_norm")!.value, e.norm, 1e-12), "\(t.rawValue) acc_norm") }
            // The harness's standard error: sqrt(p(1 − p)/(n − 1)).
            let n = Double(items.count)
            #expect(close(acc.stderr, (acc.value * (1 - acc.value) / (n - 1)).squareRoot(), 1e-12))
        }
        // csr: the mean of the four tasks, standard error √Σse² / 4.
        let four = ["piqa", "hellaswag", "winogrande", "arc_easy"].map { value($0, "acc")! }
        let csr = try #require(value("csr", "acc"))
        #expect(close(csr.value, four.reduce(0) { $0 + $1.value } / 4, 1e-12))
        #expect(close(csr.stderr, four.reduce(0) { $0 + $1.stderr * $1.stderr }.squareRoot() / 4, 1e-12))
        #expect(csr.examples == 5 + 4 + 3 + 3)
        #expect(value("csr", "acc_norm") != nil)
        // MMLU: two subjects of three, per-subject rows after the summary rows.
        #expect(rows.filter { $0.task.hasPrefix("mmlu_") }.map(\.task) == ["mmlu_anatomy", "mmlu_virology"])
        #expect(rows.last?.task == "mmlu_virology")
        let mmlu = runs.first { $0.task == .mmlu }!
        #expect(mmlu.times.passes >= 2 && mmlu.examples == 6)
        #expect(runs.allSatisfy { $0.seconds > 0 && $0.times.forward > 0 && $0.times.forward <= $0.seconds })
    }

    @Test func limitTakesTheFirstItems() throws {
        let root = try Self.dataRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let all = try loadTaskItems(.piqa, limit: nil, root: root)
        #expect(try loadTaskItems(.piqa, limit: 2, root: root) == Array(all.prefix(2)))
        // MMLU: per subject.
        let m = try loadTaskItems(.mmlu, limit: 1, root: root)
        #expect(m.count == 2 && m.map(\.subject) == ["anatomy", "virology"])
        #expect(m[1].requests[0].context.hasSuffix("Question 3\nA. p\nB. q\nC. r\nD. s\nAnswer:"))
        let run = try runTask(.piqa, model: Self.model, limit: 3, root: root)
        #expect(run.examples == 3 && run.requests == 6)
        #expect(throws: EvalError.self) { try runTask(.boolq, model: Self.model, limit: 3, root: root) }
    }
}

@Suite("Converted evaluation data (scripts/setup)")
struct EvalDataTests {
    @Test func rowCountsMatchThePublishedSplits() throws {
        for (file, rows) in evalFiles {
            let path = DataPaths.root + "/" + file
            let data = try #require(FileManager.default.contents(atPath: path), "\(path) missing: run scripts/setup")
            #expect(data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } == rows, "\(file)")
        }
    }

    @Test func everyTaskParses() throws {
        for t in EvalTaskName.allCases {
            let items = try loadTaskItems(t, limit: nil)
            #expect(items.count == t.rows, "\(t.rawValue)")
            #expect(items.allSatisfy { $0.label >= 0 && $0.label < $0.requests.count && $0.requests.count == $0.choiceBytes.count })
        }
        let mmlu = try loadTaskItems(.mmlu, limit: 1)
        #expect(mmlu.count == 57)
        #expect(Set(try loadTaskItems(.mmlu, limit: nil).map(\.subject)).count == 57)
        // HellaSwag has four endings, PIQA and WinoGrande two, ARC three to five.
        #expect(try loadTaskItems(.hellaswag, limit: 100).allSatisfy { $0.requests.count == 4 })
        #expect(try loadTaskItems(.arcEasy, limit: nil).allSatisfy { (3...5).contains($0.requests.count) })
    }
}

/// SmolLM2 and the real data: packed scoring (and MMLU's shared five-shot prefix) against
/// plain forward passes on a few items.
@Suite("SmolLM2 on the real tasks", .serialized)
struct RealTaskTests {
    static let model: LlamaModel? = try? LlamaModel.load(path: DataPaths.model("smollm2"))

    @Test func piqaPackedEqualsPlain() throws {
        let m = try #require(Self.model, "model missing: run scripts/setup")
        let items = try loadTaskItems(.piqa, limit: 6)
        let toks = items.map { $0.requests.map { encodePair(m.tokenizer, context: $0.context, continuation: $0.continuation) } }
        let got = try LogLikelihoodScorer(model: m).score(toks)
        for (it, sc) in zip(toks, got) {
            for (r, s) in zip(it, sc) {
                let ref = referenceScore(m, r)
                #expect(close(s.logLikelihood, ref.logLikelihood, 2e-3 + 1e-4 * abs(ref.logLikelihood)))
            }
        }
    }

    @Test func mmluPrefixEqualsNoPrefix() throws {
        let m = try #require(Self.model, "model missing: run scripts/setup")
        let items = Array(try loadTaskItems(.mmlu, limit: 2).prefix(2))
        #expect(items[0].subject == items[1].subject)
        let toks = items.map { $0.requests.map { encodePair(m.tokenizer, context: $0.context, continuation: $0.continuation) } }
        let s = LogLikelihoodScorer(model: m)
        let common = try s.commonPrefix(toks)
        #expect(common.count > 200)
        let with = try s.score(toks, prefix: s.forward.prefix(common))
        let without = try s.score(toks)
        for (a, b) in zip(with.joined(), without.joined()) {
            #expect(close(a.logLikelihood, b.logLikelihood, 2e-3 + 1e-4 * abs(b.logLikelihood)))
        }
    }
}

