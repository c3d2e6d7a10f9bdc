import AdaEval
import AdaLang
import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

private func say(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }
/// Standard output, unbuffered (long runs show each row as it is done).
private func show(_ s: String) { FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!) }

/// User + system CPU seconds of this process so far.
private func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// The 1-minute load average (other processes share the cores).
private func loadAverage() -> Double {
    var l = [Double](repeating: 0, count: 3)
    return getloadavg(&l, 3) > 0 ? l[0] : .nan
}

private func parseTasks(_ s: String?, fallback: [EvalTaskName]) throws -> [EvalTaskName] {
    guard let s, !s.isEmpty else { return fallback }
    return try s.split(separator: ",").map { w in
        if w == "csr" { return csrTasks }
        guard let t = EvalTaskName(rawValue: String(w)) else {
            throw ValidationError("unknown task \(w); known: csr, " + EvalTaskName.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return [t]
    }.flatMap { $0 }
}

/// `ada bench tasks`: examples per second of every evaluation task on the full-precision
/// model, with the share of time in the forward pass (docs/benchmarks.md).
struct TasksSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "Examples per second of each evaluation task (first N examples), with the forward pass's share.")
    @Option var model = "smollm2"
    @Option(help: "Examples per task (the first ones in file order).") var limit = 200
    @Option(help: "MMLU questions per subject (57 subjects).") var mmluLimit = 5
    @Option(help: "Comma-separated tasks (default: all).") var tasks: String?

    func validate() throws {
        guard limit >= 1, mmluLimit >= 1 else { throw ValidationError("--limit and --mmlu-limit must be at least 1") }
    }

    func run() throws {
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let list = try parseTasks(tasks, fallback: EvalTaskName.allCases)
            show(environmentLine())
            show("| task | examples | requests | rows run | seconds | CPU s | examples/s | rows/s | forward pass | of which blocks | of which head | tokenize | load avg | acc |")
            show("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for t in list {
                let c0 = cpuSeconds()
                let r = try runTask(t, model: m, limit: t == .mmlu ? mmluLimit : limit)
                let cpu = cpuSeconds() - c0
                let acc = r.metrics.first.map { String(format: "%.4f", $0.value) } ?? ""
                show(String(format: "| %@ | %d | %d | %d | %.1f | %.1f | %.2f | %.0f | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f | %@ |",
                             t.rawValue, r.examples, r.requests, r.times.rows, r.seconds, cpu, r.examplesPerSecond,
                             Double(r.times.rows) / r.seconds, 100 * r.times.forward / r.seconds,
                             100 * r.times.blocks / r.seconds, 100 * r.times.head / r.seconds,
                             100 * r.times.tokenize / r.seconds, loadAverage(), acc))
            }
            show(String(format: "peak RSS %.0f MiB", peakRSSMiB()))
        } catch { throw fail(error) }
    }
}

/// `ada bench accuracy`: the accuracy table of FP, RTN and GPTQ × {per-OC, per-IC, AdaDim}
/// (docs/results.md), on the first N examples of PIQA, HellaSwag, WinoGrande, ARC-Easy and
/// LAMBADA. Quantized as `ada bench results` does: RTN AdaDim judges on the first `select`
/// calibration windows; GPTQ uses Hessians of all calibration windows, captured once; GPTQ
/// AdaDim runs in the dimensions RTN AdaDim chose.
struct AccuracyResults: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy",
        abstract: "Benchmark accuracy of FP, RTN and GPTQ × {per-OC, per-IC, AdaDim} (docs/results.md).")
    @Option var model = "smollm2"
    @Option var bits = 3
    @Option var group = 128
    @Option(help: "Calibration windows from Emma.") var calib = 128
    @Option(help: "Windows AdaDim's block criterion judges on.") var select = 16
    @Option var ctx = 512
    @Option(help: "Examples per task (the first ones in file order).") var limit = 500
    @Option(help: "Comma-separated tasks (default: piqa,hellaswag,winogrande,arc_easy,lambada).") var tasks: String?
    @Option(help: "Comma-separated rows: fp, rtn-oc, rtn-ic, rtn-ada, gptq-oc, gptq-ic, gptq-ada (default: all).") var configs: String?
    @Option(help: "Write the Markdown table here as well as to standard output.") var out: String?

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        do {
            let start = wallClock()
            let list = try parseTasks(tasks, fallback: [.piqa, .hellaswag, .winogrande, .arcEasy, .lambada])
            let all = ["fp", "rtn-oc", "rtn-ic", "rtn-ada", "gptq-oc", "gptq-ic", "gptq-ada"]
            let rows = configs.map { $0.split(separator: ",").map(String.init) } ?? all
            for c in rows where !all.contains(c) { throw ValidationError("unknown config \(c); known: " + all.joined(separator: ", ")) }
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let cal = try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: ctx)
            var header = "| method | dim |", rule = "|---|---|"
            for t in list {
                if t == .lambada { header += " lambada acc | lambada ppl |" } else { header += " \(t.rawValue) acc | \(t.rawValue) acc_norm |" }
                rule += "---:|---:|"
            }
            let withCSR = csrTasks.allSatisfy(list.contains)
            if withCSR { header += " csr acc | csr acc_norm |"; rule += "---:|---:|" }
            var lines = [header, rule]
            var examples: [String: Int] = [:]
            let dimName = ["oc": "per-OC", "ic": "per-IC", "ada": "AdaDim"]
            var adaReports: [ModuleReport]? = nil
            var hess: CalibrationHessians? = nil
            var notes: [String] = []
            for c in rows {
                let t0 = wallClock()
                let model: LlamaModel, method: String, dim: String
                if c == "fp" {
                    (model, method, dim) = (m, "FP (dequantized Q4_1)", "–")
                } else {
                    let parts = c.split(separator: "-").map(String.init)
                    method = parts[0].uppercased(); dim = dimName[parts[1]]!
                    let choice = DimChoice(name: parts[1])!
                    var rtnModel: LlamaModel? = nil
                    if parts[0] == "rtn" || (parts[1] == "ada" && adaReports == nil) {
                        var o = QuantizeOptions(method: .rtn, bits: bits, group: group, dim: choice)
                        o.selectionWindows = select
                        let q = try quantizeModel(m, options: o, calibration: Array(cal.prefix(select)))
                        if parts[1] == "ada" { adaReports = q.reports }
                        rtnModel = q.model
                    }
                    if parts[0] == "gptq" {
                        if hess == nil {
                            say("capturing Hessians on \(calib) × \(ctx) tokens…")
                            hess = try CalibrationHessians(model: m, calibration: cal)
                            say(String(format: "  %.0f s", hess!.seconds))
                        }
                        let o = QuantizeOptions(method: .gptq, bits: bits, group: group, dim: choice)
                        model = try quantizeGPTQModel(m, options: o, hessians: hess!, choices: parts[1] == "ada" ? adaReports : nil).model
                    } else {
                        model = rtnModel!
                    }
                }
                let tq = wallClock() - t0
                let (res, _) = try evaluateTasks(list, model: model, limit: limit)
                func v(_ task: String, _ metric: String) -> String {
                    guard let r = res.first(where: { $0.task == task && $0.metric == metric }) else { return "" }
                    examples[task] = r.examples
                    return metric == "ppl" ? String(format: "%.2f", r.value) : String(format: "%.2f", 100 * r.value)
                }
                var line = "| \(method) | \(dim) |"
                for t in list {
                    line += t == .lambada ? " \(v("lambada", "acc")) | \(v("lambada", "ppl")) |"
                                          : " \(v(t.rawValue, "acc")) | \(v(t.rawValue, "acc_norm")) |"
                }
                if withCSR { line += " \(v("csr", "acc")) | \(v("csr", "acc_norm")) |" }
                lines.append(line)
                say(line + String(format: "   (quantize %.0f s, evaluate %.0f s)", tq, wallClock() - t0 - tq))
            }
            let counts = list.map { "\($0.rawValue) \(examples[$0.rawValue] ?? 0)" }.joined(separator: ", ")
            notes.append("Accuracies in percent; LAMBADA ppl is the target word's perplexity. Examples: \(counts) (the first ones in file order).")
            notes.append(String(format: "w%d g%d; calibration: Emma, %d × %d tokens (AdaDim judged on the first %d windows)%@. Whole run %.0f s.",
                                bits, group, calib, ctx, select,
                                (hess.map { String(format: "; Hessian capture %.0f s", $0.seconds) } ?? "") as NSString, wallClock() - start))
            let md = lines.joined(separator: "\n") + "\n\n" + notes.joined(separator: "\n") + "\n"
            print(md, terminator: "")
            if let out { try md.write(toFile: out, atomically: true, encoding: .utf8) }
        } catch { throw fail(error) }
    }
}
