import AdaModel
import AdaTensor
import Foundation

// Running the evaluation tasks and their metrics (docs/evaluation.md).

/// One row of an evaluation table.
public struct TaskMetric: Sendable, Equatable {
    public var task: String
    public var metric: String
    public var value: Double
    /// Standard error of `value` (the harness's: sample standard deviation / √n for means).
    public var stderr: Double
    public var examples: Int
    public init(task: String, metric: String, value: Double, stderr: Double, examples: Int) {
        self.task = task
        self.metric = metric
        self.value = value
        self.stderr = stderr
        self.examples = examples
    }
}

/// The outcome of one task on one model.
public struct TaskRun: Sendable {
    public var task: EvalTaskName
    /// Headline metrics (acc, acc_norm; LAMBADA acc and ppl; MMLU acc and its subject mean).
    public var metrics: [TaskMetric]
    /// MMLU's per-subject accuracies (empty for other tasks).
    public var subjects: [TaskMetric]
    public var examples: Int
    public var requests: Int
    /// Wall-clock seconds of the whole task: loading, tokenizing, forward passes, metrics.
    public var seconds: Double
    public var times: ScoringTimes
    public var examplesPerSecond: Double { Double(examples) / max(seconds, 1e-9) }
}

/// The four zero-shot commonsense tasks the AdaDim paper averages (`csr`).
public let csrTasks: [EvalTaskName] = [.piqa, .hellaswag, .winogrande, .arcEasy]

/// Mean of a 0/1 (or any) sample and the harness's standard error, sample std (n − 1) / √n.
func meanAndStderr(_ xs: [Double]) -> (Double, Double) {
    let n = Double(xs.count)
    guard n > 0 else { return (.nan, .nan) }
    let m = xs.reduce(0, +) / n
    guard n > 1 else { return (m, .nan) }
    let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
    return (m, (v / n).squareRoot())
}

/// First index of the largest value (numpy's argmax).
func argmax(_ xs: [Double]) -> Int {
    var best = 0
    for i in xs.indices where xs[i] > xs[best] { best = i }
    return best
}

/// Multiple-choice outcome of one item: correct by summed log-likelihood (acc) and by
/// log-likelihood per byte of the choice text (acc_norm).
public func choiceOutcome(_ item: TaskItem, _ scores: [RequestScore]) -> (acc: Bool, accNorm: Bool) {
    let ll = scores.map(\.logLikelihood)
    let norm = zip(ll, item.choiceBytes).map { $0 / Double(max($1, 1)) }
    return (argmax(ll) == item.label, argmax(norm) == item.label)
}

/// Scores a task's items on a model. `limit`: the first N items in file order (per subject
/// for MMLU); nil: all.
public func runTask(_ task: EvalTaskName, model: LlamaModel, limit: Int?, root: String = DataPaths.root,
                    batchTokens: Int = 1024, progress: ((Int, Int) -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil) throws -> TaskRun {
    try runTask(task, view: ModelView(base: model), limit: limit, root: root, batchTokens: batchTokens,
                progress: progress, shouldStop: shouldStop)
}

/// `runTask` on a model view (a quantized model runs from its packed layers, block by block).
public func runTask(_ task: EvalTaskName, view: ModelView, limit: Int?, root: String = DataPaths.root,
                    batchTokens: Int = 1024, progress: ((Int, Int) -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil) throws -> TaskRun {
    let start = DispatchTime.now().uptimeNanoseconds
    let items = try loadTaskItems(task, limit: limit, root: root)
    guard !items.isEmpty else { throw EvalError("\(task.rawValue): no examples", origin: (limit ?? 1) < 1 ? .limit : .task) }
    return try runItems(task, items: items, view: view, batchTokens: batchTokens, start: start,
                        progress: progress, shouldStop: shouldStop)
}

/// Scores already-built items (the engine of `runTask`, also used by the tests).
public func runItems(_ task: EvalTaskName, items: [TaskItem], model: LlamaModel, batchTokens: Int = 1024,
                     start: UInt64 = DispatchTime.now().uptimeNanoseconds,
                     progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> TaskRun {
    try runItems(task, items: items, view: ModelView(base: model), batchTokens: batchTokens, start: start,
                 progress: progress, shouldStop: shouldStop)
}

/// `runItems` on a model view.
public func runItems(_ task: EvalTaskName, items: [TaskItem], view: ModelView, batchTokens: Int = 1024,
                     start: UInt64 = DispatchTime.now().uptimeNanoseconds,
                     progress: ((Int, Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> TaskRun {
    let scorer = LogLikelihoodScorer(view: view, batchTokens: batchTokens)
    let tok = view.base.tokenizer
    let t0 = DispatchTime.now().uptimeNanoseconds
    let tokenized: [[TokenRequest]] = items.map { it in
        it.requests.map { encodePair(tok, context: $0.context, continuation: $0.continuation) }
    }
    let tokenizeSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    var scores: [[RequestScore]]
    var prefixTimes = ScoringTimes()
    if task == .mmlu {
        (scores, prefixTimes) = try scoreBySubject(items, tokenized, scorer: scorer, progress: progress, shouldStop: shouldStop)
    } else {
        scores = try scorer.score(tokenized, progress: progress, shouldStop: shouldStop)
    }
    var times = scorer.times
    times.add(prefixTimes)
    times.tokenize = tokenizeSeconds

    let n = items.count
    let (metrics, subjects) = taskMetrics(task, items: items, scores: scores)
    let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return TaskRun(task: task, metrics: metrics, subjects: subjects, examples: n,
                   requests: items.reduce(0) { $0 + $1.requests.count }, seconds: secs, times: times)
}

/// MMLU scoring: each subject's five-shot header is run once and its keys and values reused
/// for the subject's questions. Returns the scores in item order and the prefix passes' times.
private func scoreBySubject(_ items: [TaskItem], _ tokenized: [[TokenRequest]], scorer: LogLikelihoodScorer,
                            progress: ((Int, Int) -> Void)?, shouldStop: (() -> Bool)?) throws
    -> ([[RequestScore]], ScoringTimes) {
    var prefixTimes = ScoringTimes()
    var scores = [[RequestScore]](repeating: [], count: items.count)
    var order: [String] = []
    var bySubject: [String: [Int]] = [:]
    for (i, it) in items.enumerated() {
        if bySubject[it.subject] == nil { order.append(it.subject) }
        bySubject[it.subject, default: []].append(i)
    }
    var done = 0
    for s in order {
        let idx = bySubject[s]!
        let group = idx.map { tokenized[$0] }
        let common = try scorer.commonPrefix(group)
        var prefix: KVPrefix? = nil
        if common.count >= 16 {
            if shouldStop?() == true { throw CancellationError() }
            let p0 = DispatchTime.now().uptimeNanoseconds
            prefix = scorer.forward.prefix(common)
            prefixTimes.blocks += Double(DispatchTime.now().uptimeNanoseconds - p0) / 1e9
            prefixTimes.rows += common.count
            prefixTimes.passes += 1
        }
        let r = try scorer.score(group, prefix: prefix, progress: { d, _ in progress?(done + d, items.count) },
                                 shouldStop: shouldStop)
        for (k, i) in idx.enumerated() { scores[i] = r[k] }
        done += idx.count
    }
    return (scores, prefixTimes)
}

/// The task's metrics (acc; acc_norm where the task has it; ppl for LAMBADA; the per-subject
/// rows and their unweighted mean for MMLU) from the items' scores.
private func taskMetrics(_ task: EvalTaskName, items: [TaskItem], scores: [[RequestScore]])
    -> (metrics: [TaskMetric], subjects: [TaskMetric]) {
    let n = items.count
    var metrics: [TaskMetric] = []
    var subjects: [TaskMetric] = []
    switch task {
    case .lambada:
        let acc = meanAndStderr(scores.map { $0[0].isGreedy ? 1 : 0 })
        let nll = meanAndStderr(scores.map { -$0[0].logLikelihood })
        let ppl = exp(nll.0)
        metrics = [TaskMetric(task: task.rawValue, metric: "acc", value: acc.0, stderr: acc.1, examples: n),
                   TaskMetric(task: task.rawValue, metric: "ppl", value: ppl, stderr: ppl * nll.1, examples: n)]
    default:
        let outcomes = zip(items, scores).map { choiceOutcome($0, $1) }
        let acc = meanAndStderr(outcomes.map { $0.acc ? 1 : 0 })
        metrics = [TaskMetric(task: task.rawValue, metric: "acc", value: acc.0, stderr: acc.1, examples: n)]
        if task.hasAccNorm {
            let an = meanAndStderr(outcomes.map { $0.accNorm ? 1 : 0 })
            metrics.append(TaskMetric(task: task.rawValue, metric: "acc_norm", value: an.0, stderr: an.1, examples: n))
        }
        if task == .mmlu {
            var order: [String] = []
            var by: [String: [Double]] = [:]
            for (it, o) in zip(items, outcomes) {
                if by[it.subject] == nil { order.append(it.subject) }
                by[it.subject, default: []].append(o.acc ? 1 : 0)
            }
            for s in order {
                let m = meanAndStderr(by[s]!)
                subjects.append(TaskMetric(task: "mmlu_" + s, metric: "acc", value: m.0, stderr: m.1, examples: by[s]!.count))
            }
            // Unweighted mean over subjects; its standard error from the subjects' errors.
            let k = Double(subjects.count)
            let mean = subjects.reduce(0) { $0 + $1.value } / k
            // (Undefined when a subject has a single question.)
            let se = subjects.reduce(0) { $0 + $1.stderr * $1.stderr }.squareRoot() / k
            metrics.append(TaskMetric(task: task.rawValue, metric: "acc_subjects", value: mean, stderr: se, examples: n))
        }
    }
    return (metrics, subjects)
}

/// The `csr` rows: the mean of the four commonsense tasks' acc and of their acc_norm, with
/// the standard error of a mean of independent estimates (√Σse² / 4). Nil unless all four ran.
public func csrMetrics(_ runs: [TaskRun]) -> [TaskMetric] {
    let by = Dictionary(runs.map { ($0.task, $0) }, uniquingKeysWith: { a, _ in a })
    guard csrTasks.allSatisfy({ by[$0] != nil }) else { return [] }
    var out: [TaskMetric] = []
    for metric in ["acc", "acc_norm"] {
        let ms = csrTasks.compactMap { t in by[t]!.metrics.first { $0.metric == metric } }
        guard ms.count == csrTasks.count else { continue }
        let k = Double(ms.count)
        out.append(TaskMetric(task: "csr", metric: metric, value: ms.reduce(0) { $0 + $1.value } / k,
                              stderr: ms.reduce(0) { $0 + $1.stderr * $1.stderr }.squareRoot() / k,
                              examples: ms.reduce(0) { $0 + $1.examples }))
    }
    return out
}

/// Runs tasks in order and returns their table rows: each task's metrics, then `csr` when the
/// four commonsense tasks ran, then MMLU's subjects.
public func evaluateTasks(_ tasks: [EvalTaskName], model: LlamaModel, limit: Int?, root: String = DataPaths.root,
                          batchTokens: Int = 1024, progress: ((EvalTaskName, Int, Int) -> Void)? = nil,
                          shouldStop: (() -> Bool)? = nil) throws -> (rows: [TaskMetric], runs: [TaskRun]) {
    try evaluateTasks(tasks, view: ModelView(base: model), limit: limit, root: root, batchTokens: batchTokens,
                      progress: progress, shouldStop: shouldStop)
}

/// `evaluateTasks` on a model view.
public func evaluateTasks(_ tasks: [EvalTaskName], view: ModelView, limit: Int?, root: String = DataPaths.root,
                          batchTokens: Int = 1024, progress: ((EvalTaskName, Int, Int) -> Void)? = nil,
                          shouldStop: (() -> Bool)? = nil) throws -> (rows: [TaskMetric], runs: [TaskRun]) {
    var runs: [TaskRun] = []
    for t in tasks {
        runs.append(try runTask(t, view: view, limit: limit, root: root, batchTokens: batchTokens,
                                progress: { progress?(t, $0, $1) }, shouldStop: shouldStop))
    }
    var rows = runs.flatMap(\.metrics)
    rows += csrMetrics(runs)
    rows += runs.flatMap(\.subjects)
    return (rows, runs)
}
