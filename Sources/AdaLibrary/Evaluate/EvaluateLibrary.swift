import AdaLang
import AdaEval
import AdaModel
import Foundation

/// Task names `evaluate` accepts: the tasks, and `csr` for the four commonsense tasks whose
/// average the AdaDim paper reports.
let evalTaskWords = EvalTaskName.allCases.map(\.rawValue) + ["csr"]

/// Expands `csr` and removes repeats, keeping the order given.
func expandTasks(_ words: [String]) -> [EvalTaskName] {
    var out: [EvalTaskName] = []
    for w in words {
        let ts = w == "csr" ? csrTasks : [EvalTaskName(rawValue: w)!]
        for t in ts where !out.contains(t) { out.append(t) }
    }
    return out
}

/// The table of `evaluate`.
func evaluationTable(_ rows: [TaskMetric], title: String?) -> Table {
    Table(columns: ["task", "metric", "value", "stderr", "examples"],
          rows: rows.map { [.string($0.task), .string($0.metric), .number($0.value),
                            $0.stderr.isNaN ? .none : .number($0.stderr), .int($0.examples)] },
          title: title)
}

/// Benchmark evaluation: evaluate.
public enum EvaluateLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(errorsCommand)
        r.register(agreementCommand)
        r.register(evaluateCommand)
    }

    static var errorsCommand: Builtin {
        Builtin(
            name: "errors", category: "evaluate", summary: "Per-module weight MSE and output MSE (on calibration inputs) of a quantized model.",
            examples: ["errors q calib"],
            params: [Param("model", .object("quantized model"), doc: "the quantized model"), Param("data", .dataset, doc: "calibration windows")],
            returns: "a table (module, dim, weight_mse, output_mse)",
            run: { a, ctx in
                guard case .object(let o) = a["model"], let q = o as? QuantizedModelValue else { throw a.error("model", "expected a quantized model") }
                let errs = try moduleErrors(reference: q.base, quantized: q.view, calibration: try a.datasetArg("data").windows, shouldStop: ctx.shouldStop)
                let dims = Dictionary(uniqueKeysWithValues: q.quantized.reports.map { ($0.id, $0.dim) })
                return .object(TableValue(Table(columns: ["module", "dim", "weight_mse", "output_mse"],
                                                rows: errs.map { [.string($0.id.description), .string(dims[$0.id]?.rawValue ?? ""), .number($0.weightMSE), .number($0.outputMSE)] })))
            })
    }

    static var agreementCommand: Builtin {
        Builtin(
            name: "agreement", category: "evaluate", summary: "KL divergence and top-1 agreement of a quantized model's next-token distribution against its full-precision model.",
            examples: ["agreement q (text \"austen:pride\" windows=2)"],
            params: [Param("model", .object("quantized model"), doc: "the quantized model"), Param("data", .dataset, doc: "evaluation windows"),
                     Param("reference", .model, default: .none, doc: "the reference; none: the model it was quantized from")],
            returns: "a record {kl, top1, positions}",
            run: { a, ctx in
                guard case .object(let o) = a["model"], let q = o as? QuantizedModelValue else { throw a.error("model", "expected a quantized model") }
                var ref = q.base
                if case .object = a["reference"] { ref = try a.modelArg("reference").0 }
                let r = try agreement(reference: ref, quantized: q.view, windows: try a.datasetArg("data").windows, shouldStop: ctx.shouldStop)
                return .record(Record([("kl", .number(r.kl)), ("top1", .number(r.top1)), ("positions", .int(r.positions))]))
            })
    }

    static var evaluateCommand: Builtin {
        Builtin(
            name: "evaluate", category: "evaluate",
            summary: "Benchmark accuracy: PIQA, HellaSwag, WinoGrande, ARC, BoolQ, OpenBookQA (zero-shot), LAMBADA, MMLU (5-shot).",
            help: """
            Multiple-choice tasks are scored by the log-likelihood of each answer given the prompt, with lm-evaluation-harness's prompt formats (docs/evaluation.md): acc picks the answer with the largest summed log-probability, acc_norm the largest per byte of answer text. lambada: acc is last-word accuracy (every token of the target word is the greedy choice), ppl is exp of the mean negative log-likelihood of the target word. mmlu: 5-shot from the dev split; acc over all questions, acc_subjects the mean of the per-subject accuracies, then one row per subject (mmlu_<subject>). csr stands for piqa, hellaswag, winogrande and arc_easy and adds their average (rows task=csr). limit=N takes the first N examples of each task in file order (per subject for mmlu), so subsets are the same on every run and machine. stderr is the harness's standard error of the mean. Splits: validation for piqa, hellaswag, winogrande, boolq, openbookqa; test for arc_easy, arc_challenge, lambada, mmlu. Data: scripts/setup fetches it. ^C stops between forward passes.
            """,
            examples: ["evaluate m on=[piqa, hellaswag, winogrande, arc_easy] limit=100",
                       "t = evaluate q on=csr limit=500\nt[\"value\"]",
                       "evaluate m on=[lambada, mmlu] limit=5"],
            params: [Param("model", .model, doc: "the model (or quantized model) to evaluate"),
                     Param("on", .oneOf([.choice(evalTaskWords), .list(.choice(evalTaskWords))]), default: .string("csr"),
                           doc: "a task or a list of tasks: " + evalTaskWords.joined(separator: ", ")),
                     Param("limit", .int, default: .none, doc: "the first N examples of each task (per subject for mmlu); none: all"),
                     Param("batch", .int, default: .int(1024), doc: "tokens per forward pass (several examples are packed into one)")],
            returns: "a table (task, metric, value, stderr, examples)",
            run: { a, ctx in
                let (view, name) = try a.viewArg("model")
                let words: [String]
                switch a["on"] {
                case .string(let s): words = [s]
                case .list(let l): words = l.compactMap(\.string)
                default: throw a.error("on", "expected a task name or a list of task names")
                }
                guard !words.isEmpty else { throw a.error("on", "no tasks given", notes: ["tasks: " + evalTaskWords.joined(separator: ", ")]) }
                let tasks = expandTasks(words)
                let limit = try a.optionalInt("limit", min: 1)
                let batch = try a.int("batch", min: 16, max: 1 << 16)
                let root = DataPaths.root
                for t in tasks {
                    let files = t == .mmlu ? [t.file, "evals/mmlu_dev.jsonl"] : [t.file]
                    for f in files where !FileManager.default.fileExists(atPath: root + "/" + f) {
                        throw a.error("on", "the data of \(t.rawValue) is missing: \(root)/\(f)", notes: ["run scripts/setup to fetch the evaluation data"])
                    }
                }
                let result = try engine(a, "on") {
                    try evaluateTasks(tasks, view: view, limit: limit, root: root, batchTokens: batch,
                                      progress: { t, d, n in ctx.progress(t.rawValue, d, n) }, shouldStop: ctx.shouldStop)
                }
                let title = "evaluate \(name)" + (limit.map { ": first \($0) examples per task" + (tasks.contains(.mmlu) ? " (per subject for mmlu)" : "") } ?? "")
                return .object(TableValue(evaluationTable(result.rows, title: title)))
            })
    }
}
