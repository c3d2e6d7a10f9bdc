import AdaEval
import AdaModel
import Foundation
import Testing

/// The origin a failing call reports (nil when it does not throw an EvalError).
private func origin(_ body: () throws -> Void) -> EvalError.Origin?? {
    do {
        try body()
        return nil
    } catch let e as EvalError {
        return .some(e.origin)
    } catch {
        return nil
    }
}

@Suite("EvalError origins")
struct EvalErrorTests {
    @Test func windows() {
        let tokens = [Int32](0..<10)
        #expect(origin { _ = try evaluationWindows(tokens, windows: 1, ctx: 1) } == .ctx)
        #expect(origin { _ = try evaluationWindows(tokens, windows: 0, ctx: 2) } == .windows)
        #expect(origin { _ = try evaluationWindows(tokens, windows: 4, ctx: 3) } == .text)
        #expect(origin { _ = try evaluationWindows([], windows: 1, ctx: 2) } == .text)
    }

    @Test func llamaCppProtocol() {
        let tokens = [Int32](0..<100)
        // ctx odd or too small for a second half to score.
        #expect(origin { _ = try llamaCppChunks(tokens, ctx: 15, bos: nil) } == .ctx)
        #expect(origin { _ = try llamaCppChunks(tokens, ctx: 2, bos: nil) } == .ctx)
        #expect(origin { _ = try llamaCppChunks(tokens, ctx: 4, bos: nil) } == nil)
        // Too short a text for one chunk; more chunks than the text holds; no chunk.
        #expect(origin { _ = try llamaCppChunks(tokens, ctx: 128, bos: nil) } == .text)
        #expect(origin { _ = try llamaCppChunks([], ctx: 4, bos: nil) } == .text)
        #expect(origin { _ = try llamaCppChunks(tokens, ctx: 16, chunks: 7, bos: nil) } == .windows)
        #expect(origin { _ = try llamaCppChunks(tokens, ctx: 16, chunks: 0, bos: nil) } == .windows)
        // A negative character count.
        #expect(origin { _ = try textPrefix("abc", chars: -1) } == .chars)
    }

    @Test func dataFiles() throws {
        let root = FileManager.default.temporaryDirectory.path + "/ada-eval-errors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(origin { _ = try readEvalRows("missing.jsonl", root: root) } == .file)
        try "{\"a\": 1}\nnot json\n".write(toFile: root + "/bad.jsonl", atomically: true, encoding: .utf8)
        #expect(origin { _ = try readEvalRows("bad.jsonl", root: root) } == .file)
    }

    @Test func rowsAndTasks() {
        #expect(origin { _ = try taskItem(.piqa, ["goal": "g", "sol1": "a", "sol2": "b", "label": 2]) } == .data)
        #expect(origin { _ = try taskItem(.piqa, ["goal": "g", "sol1": "a", "label": 0]) } == .data)
        #expect(origin { _ = try taskItem(.winogrande, ["sentence": "no blank", "option1": "a", "option2": "b", "label": 0]) } == .data)
        #expect(origin { _ = try mmluQuestion(["question": "q", "choices": ["a", "b"]]) } == .data)
        #expect(origin { _ = try taskItem(.mmlu, ["question": "q"]) } == .task)
    }

    @Test func limitAndTask() throws {
        let root = try TinyTaskTests.dataRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let m = TinyTaskTests.model
        #expect(origin { _ = try runTask(.piqa, model: m, limit: 0, root: root) } == .limit)
        #expect(origin { _ = try runTask(.mmlu, model: m, limit: 0, root: root) } == .limit)
        try "".write(toFile: root + "/evals/boolq_validation.jsonl", atomically: true, encoding: .utf8)
        #expect(origin { _ = try runTask(.boolq, model: m, limit: nil, root: root) } == .task)
    }

    @Test func requests() {
        let s = LogLikelihoodScorer(model: TinyTaskTests.model)
        #expect(origin { _ = try s.score([[TokenRequest(context: [], continuation: [1])]]) } == .request)
        #expect(origin { _ = try s.score([[TokenRequest(context: [1], continuation: [])]]) } == .request)
        #expect(origin { _ = try s.score([[]]) } == .request)
    }

    @Test func defaults() {
        let e = EvalError("plain")
        #expect(e.origin == nil && e.description == "plain")
        #expect(EvalError.Origin(rawValue: "limit") == .limit)
    }
}
