import AdaModel
import Foundation

// The evaluation tasks' data (JSON lines converted by scripts/fetch_evals.py into
// `<data root>/evals/`) and their prompt formats, which follow lm-evaluation-harness's
// default task definitions (docs/evaluation.md lists them with examples).

/// The tasks `evaluate` knows.
public enum EvalTaskName: String, CaseIterable, Sendable {
    case piqa
    case hellaswag
    case winogrande
    case arcEasy = "arc_easy"
    case arcChallenge = "arc_challenge"
    case boolq
    case openbookqa
    case lambada
    case mmlu

    /// The converted file(s) the task reads, relative to the data root.
    public var file: String {
        switch self {
        case .piqa: return "evals/piqa_validation.jsonl"
        case .hellaswag: return "evals/hellaswag_validation.jsonl"
        case .winogrande: return "evals/winogrande_validation.jsonl"
        case .arcEasy: return "evals/arc_easy_test.jsonl"
        case .arcChallenge: return "evals/arc_challenge_test.jsonl"
        case .boolq: return "evals/boolq_validation.jsonl"
        case .openbookqa: return "evals/openbookqa_validation.jsonl"
        case .lambada: return "evals/lambada_test.jsonl"
        case .mmlu: return "evals/mmlu_test.jsonl"
        }
    }

    /// Rows in the full split (checked by set-up and by the tests).
    public var rows: Int {
        switch self {
        case .piqa: return 1838
        case .hellaswag: return 10042
        case .winogrande: return 1267
        case .arcEasy: return 2376
        case .arcChallenge: return 1172
        case .boolq: return 3270
        case .openbookqa: return 500
        case .lambada: return 5153
        case .mmlu: return 14042
        }
    }

    /// Whether the task reports acc_norm (multiple choice with choices of different lengths).
    public var hasAccNorm: Bool { [.piqa, .hellaswag, .winogrande, .arcEasy, .arcChallenge, .openbookqa].contains(self) }
}

/// Every converted file and its row count (set-up writes all of them).
public let evalFiles: [(file: String, rows: Int)] = [
    ("evals/piqa_validation.jsonl", 1838), ("evals/hellaswag_validation.jsonl", 10042),
    ("evals/winogrande_validation.jsonl", 1267), ("evals/arc_easy_test.jsonl", 2376),
    ("evals/arc_challenge_test.jsonl", 1172), ("evals/arc_easy_validation.jsonl", 570),
    ("evals/arc_challenge_validation.jsonl", 299), ("evals/boolq_validation.jsonl", 3270),
    ("evals/openbookqa_validation.jsonl", 500), ("evals/lambada_test.jsonl", 5153),
    ("evals/mmlu_test.jsonl", 14042), ("evals/mmlu_validation.jsonl", 1531), ("evals/mmlu_dev.jsonl", 285),
]

/// A context and the continuation whose log-likelihood is measured.
public struct TextRequest: Sendable, Equatable {
    public var context: String
    public var continuation: String
    public init(_ context: String, _ continuation: String) {
        self.context = context
        self.continuation = continuation
    }
}

/// One evaluation example: a request per answer choice (one request for LAMBADA).
public struct TaskItem: Sendable, Equatable {
    public var requests: [TextRequest]
    /// The index of the correct choice.
    public var label: Int
    /// UTF-8 bytes of each choice's text (without the leading space), acc_norm's divisor.
    public var choiceBytes: [Int]
    /// MMLU's subject ("" for other tasks).
    public var subject: String = ""
    public init(requests: [TextRequest], label: Int, choiceBytes: [Int], subject: String = "") {
        self.requests = requests
        self.label = label
        self.choiceBytes = choiceBytes
        self.subject = subject
    }
}

/// A JSON object of a converted file.
public typealias EvalRow = [String: Any]

/// Reads the first `limit` rows (all when nil) of a JSON-lines file under the data root.
public func readEvalRows(_ file: String, limit: Int? = nil, root: String = DataPaths.root) throws -> [EvalRow] {
    let path = root + "/" + file
    guard let data = FileManager.default.contents(atPath: path) else {
        throw EvalError("cannot read \(path) (run scripts/setup to fetch the evaluation data)", origin: .file)
    }
    var rows: [EvalRow] = []
    var lineNo = 0
    try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var start = 0
        let n = raw.count
        while start < n {
            if let l = limit, rows.count >= l { return }
            var end = start
            while end < n && raw[end] != 0x0A { end += 1 }
            lineNo += 1
            if end > start {
                let line = Data(raw[start..<end])
                guard let obj = try? JSONSerialization.jsonObject(with: line) as? EvalRow else {
                    throw EvalError("\(path):\(lineNo): not a JSON object", origin: .file)
                }
                rows.append(obj)
            }
            start = end + 1
        }
    }
    return rows
}

// MARK: - Field access

func field<T>(_ row: EvalRow, _ key: String, _ type: T.Type, _ file: String) throws -> T {
    guard let v = row[key] as? T else { throw EvalError("\(file): row without a valid '\(key)' field", origin: .data) }
    return v
}

func intField(_ row: EvalRow, _ key: String, _ file: String) throws -> Int {
    guard let v = row[key] as? NSNumber else { throw EvalError("\(file): row without a numeric '\(key)' field", origin: .data) }
    return v.intValue
}

// MARK: - Prompt formats

/// lm-evaluation-harness's HellaSwag clean-up: strip, " [title]" → ". ", drop `[…]`
/// (non-greedy, within a line), then "  " → " ".
public func hellaswagPreprocess(_ text: String) -> String {
    var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
    t = t.replacingOccurrences(of: " [title]", with: ". ")
    var out = ""
    var i = t.startIndex
    while i < t.endIndex {
        if t[i] == "[" {
            var j = t.index(after: i)
            while j < t.endIndex && t[j] != "]" && t[j] != "\n" { j = t.index(after: j) }
            if j < t.endIndex && t[j] == "]" {
                i = t.index(after: j)
                continue
            }
        }
        out.append(t[i])
        i = t.index(after: i)
    }
    return out.replacingOccurrences(of: "  ", with: " ")
}

/// Python's `str.capitalize`: the first character in upper case, the rest in lower case.
func pythonCapitalize(_ s: String) -> String {
    guard let f = s.first else { return s }
    return String(f).uppercased() + s.dropFirst().lowercased()
}

/// Multiple choice with a shared context and a continuation " choice" per choice.
func choices(_ context: String, _ texts: [String], label: Int) -> TaskItem {
    TaskItem(requests: texts.map { TextRequest(context, " " + $0) }, label: label, choiceBytes: texts.map { $0.utf8.count })
}

/// The prompt of one converted row of a task (MMLU items are built by `mmluItems`).
public func taskItem(_ task: EvalTaskName, _ row: EvalRow) throws -> TaskItem {
    let f = task.file
    func s(_ k: String) throws -> String { try field(row, k, String.self, f) }
    func list(_ k: String) throws -> [String] { try field(row, k, [String].self, f) }
    let item: TaskItem
    switch task {
    case .piqa:
        item = choices("Question: \(try s("goal"))\nAnswer:", [try s("sol1"), try s("sol2")], label: try intField(row, "label", f))
    case .hellaswag:
        let ctx = try s("ctx_a") + " " + pythonCapitalize(try s("ctx_b"))
        let query = hellaswagPreprocess(try s("activity_label") + ": " + ctx)
        item = choices(query, try list("endings").map(hellaswagPreprocess), label: try intField(row, "label", f))
    case .winogrande:
        let sentence = try s("sentence")
        guard let blank = sentence.firstIndex(of: "_") else { throw EvalError("\(f): a sentence without a blank", origin: .data) }
        let before = String(sentence[..<blank])
        let target = " " + sentence[sentence.index(after: blank)...].trimmingCharacters(in: .whitespacesAndNewlines)
        let options = [try s("option1"), try s("option2")]
        item = TaskItem(requests: options.map { TextRequest(before + $0, target) }, label: try intField(row, "label", f),
                        choiceBytes: options.map { _ in target.utf8.count - 1 })
    case .arcEasy, .arcChallenge:
        item = choices("Question: \(try s("question"))\nAnswer:", try list("choices"), label: try intField(row, "label", f))
    case .boolq:
        item = choices("\(try s("passage"))\nQuestion: \(try s("question"))?\nAnswer:", ["no", "yes"], label: try intField(row, "label", f))
    case .openbookqa:
        item = choices(try s("question_stem"), try list("choices"), label: try intField(row, "label", f))
    case .lambada:
        let t = try s("target")
        item = TaskItem(requests: [TextRequest(try s("context"), " " + t)], label: 0, choiceBytes: [t.utf8.count])
    case .mmlu:
        throw EvalError("MMLU items need their subject's five-shot examples: use mmluItems", origin: .task)
    }
    guard item.label >= 0 && item.label < item.requests.count else {
        throw EvalError("\(f): label \(item.label) out of range for \(item.requests.count) choices", origin: .data)
    }
    return item
}

/// MMLU's question format: `question.strip()`, the four lettered choices, then "Answer:".
public func mmluQuestion(_ row: EvalRow) throws -> String {
    let f = "mmlu"
    let q = try field(row, "question", String.self, f).trimmingCharacters(in: .whitespacesAndNewlines)
    let c = try field(row, "choices", [String].self, f)
    guard c.count == 4 else { throw EvalError("\(f): a question with \(c.count) choices", origin: .data) }
    return "\(q)\nA. \(c[0])\nB. \(c[1])\nC. \(c[2])\nD. \(c[3])\nAnswer:"
}

public let mmluLetters = ["A", "B", "C", "D"]

/// The few-shot header of a subject: the harness's description, then each dev example with
/// its answer, separated by blank lines, ending with a blank line.
public func mmluHeader(subject: String, shots: [EvalRow]) throws -> String {
    var s = "The following are multiple choice questions (with answers) about \(subject.replacingOccurrences(of: "_", with: " ")).\n\n"
    for r in shots {
        s += try mmluQuestion(r) + " " + mmluLetters[try intField(r, "label", "mmlu_dev")] + "\n\n"
    }
    return s
}

/// MMLU items: the first `limit` test questions of each subject (all when nil), in file
/// order, each with the first `shots` dev examples of its subject.
public func mmluItems(test: [EvalRow], dev: [EvalRow], limit: Int?, shots: Int = 5) throws -> [TaskItem] {
    var devBySubject: [String: [EvalRow]] = [:]
    for r in dev { devBySubject[try field(r, "subject", String.self, "mmlu_dev"), default: []].append(r) }
    var headers: [String: String] = [:]
    var taken: [String: Int] = [:]
    var out: [TaskItem] = []
    for r in test {
        let subject = try field(r, "subject", String.self, "mmlu_test")
        if let l = limit, taken[subject, default: 0] >= l { continue }
        taken[subject, default: 0] += 1
        if headers[subject] == nil {
            let d = devBySubject[subject] ?? []
            guard d.count >= shots else { throw EvalError("MMLU subject \(subject) has \(d.count) dev examples, \(shots) needed", origin: .data) }
            headers[subject] = try mmluHeader(subject: subject, shots: Array(d.prefix(shots)))
        }
        let ctx = headers[subject]! + (try mmluQuestion(r))
        let label = try intField(r, "label", "mmlu_test")
        guard label >= 0 && label < 4 else { throw EvalError("mmlu_test: label \(label) out of range", origin: .data) }
        out.append(TaskItem(requests: mmluLetters.map { TextRequest(ctx, " " + $0) }, label: label,
                            choiceBytes: [1, 1, 1, 1], subject: subject))
    }
    return out
}

/// The first `limit` items of a task (per subject for MMLU), in file order.
public func loadTaskItems(_ task: EvalTaskName, limit: Int?, root: String = DataPaths.root) throws -> [TaskItem] {
    if task == .mmlu {
        return try mmluItems(test: readEvalRows(task.file, root: root), dev: readEvalRows("evals/mmlu_dev.jsonl", root: root), limit: limit)
    }
    return try readEvalRows(task.file, limit: limit, root: root).map { try taskItem(task, $0) }
}
