import AdaEval
import AdaLang
import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

/// Benchmarks and reproducible experiments (not tests): `ada bench engine|quant|results|quantize|tasks|accuracy|synth|decode|kernels|ablation`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks and reproducible experiments.",
        subcommands: [EngineBench.self, QuantBench.self, Results.self, QuantizeCommand.self, TasksSpeed.self, AccuracyResults.self,
                      SynthBench.self, DecodeBench.self, KernelBench.self, Ablation.self])
}

func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

func wallClock() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func fail(_ e: Error) -> Error {
    if let m = e as? ModelFileError { return ValidationError(m.description) }
    if let q = e as? QuantError { return ValidationError(q.description) }
    if let q = e as? EvalError { return ValidationError(q.description) }
    return e
}

/// Times `C = A·Bᵀ` for an `[m, k]·[n, k]ᵀ` problem; returns GFLOP/s (best of `reps`).
func sgemmRate(m: Int, n: Int, k: Int, reps: Int = 5) -> Double {
    let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: n * k)
    var c = [Float](repeating: 0, count: m * n)
    var best = Double.infinity
    for _ in 0..<reps {
        let t0 = wallClock()
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
                  b: pb.baseAddress!, ldb: k, beta: 0, c: pc.baseAddress!, ldc: n)
        } } }
        best = min(best, wallClock() - t0)
    }
    return 2 * Double(m * n * k) / best / 1e9
}

func environmentLine() -> String {
    let env = ProcessInfo.processInfo.environment
    return "OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "(unset)") OPENBLAS_L2_SIZE=\(env["OPENBLAS_L2_SIZE"] ?? "(unset)") threads=\(blasThreads)"
}

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "sgemm, model GEMM shapes and the forward pass.")
    @Option var model = "smollm2"
    @Option var windows = 8
    @Option var ctx = 512

    func run() throws {
        print("environment: \(environmentLine())")
        let ref = sgemmRate(m: 2048, n: 2048, k: 2048, reps: 3)
        print(String(format: "sgemm 2048³: %.1f GFLOP/s", ref))
        let m: LlamaModel
        do { m = try LlamaModel.load(path: DataPaths.model(model)) } catch { throw fail(error) }
        let c = m.config
        let t = ctx
        let shapes: [(String, Int, Int)] = [
            ("q/o   [T,\(c.hiddenSize)]·[\(c.numHeads * c.headDim),\(c.hiddenSize)]ᵀ", c.numHeads * c.headDim, c.hiddenSize),
            ("k/v   [T,\(c.hiddenSize)]·[\(c.numKVHeads * c.headDim),\(c.hiddenSize)]ᵀ", c.numKVHeads * c.headDim, c.hiddenSize),
            ("gate/up [T,\(c.hiddenSize)]·[\(c.intermediateSize),\(c.hiddenSize)]ᵀ", c.intermediateSize, c.hiddenSize),
            ("down  [T,\(c.intermediateSize)]·[\(c.hiddenSize),\(c.intermediateSize)]ᵀ", c.hiddenSize, c.intermediateSize),
            ("head  [T,\(c.hiddenSize)]·[\(c.vocabSize),\(c.hiddenSize)]ᵀ", c.vocabSize, c.hiddenSize),
        ]
        for (name, n, k) in shapes {
            print(String(format: "  %-44@ T=%d: %7.1f GFLOP/s", name as NSString, t, sgemmRate(m: t, n: n, k: k)))
        }
        let toks: [Int32]
        do { toks = m.tokenizer.encode(try DataPaths.readText("austen:pride")) } catch { throw fail(error) }
        let r = try AdaEval.perplexity(model: m, tokens: toks, windows: windows, ctx: ctx)
        let linearFlops = 2.0 * Double(m.linearParameterCount) * Double(windows * ctx)
        let attnFlops = 4.0 * Double(ctx * ctx * c.headDim * c.numHeads * c.numLayers) * Double(windows)
        let rate = linearFlops / r.seconds / 1e9
        let rateAll = (linearFlops + attnFlops) / r.seconds / 1e9
        print(String(format: "forward %d×%d: %.2f s, %.1f tok/s, ppl %.4f", windows, ctx, r.seconds, r.tokensPerSecond, r.perplexity))
        print(String(format: "  model FLOPs (linear + head, 2·params·tokens): %.1f GFLOP/s = %.0f%% of sgemm", rate, 100 * rate / ref))
        print(String(format: "  with attention matmuls (4·T²·hd·heads·layers): %.1f GFLOP/s = %.0f%% of sgemm", rateAll, 100 * rateAll / ref))
        print(String(format: "peak RSS: %.0f MiB", peakRSSMiB()))
    }
}

struct QuantBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quant", abstract: "Time a whole-model quantization.")
    @Option var model = "smollm2"
    @Option var method: QuantMethod = .gptq
    @Option var dim: DimChoice = .ada(.block)
    @Option var bits = 3
    @Option var group = 128
    @Option(help: "Calibration windows from Emma.") var calib = 128
    @Option var ctx = 512
    @Option(help: "Windows used by AdaDim's block criterion (default: the first 16, as `quantize`).") var select: Int?
    @Option(help: "Clip search per group (none, mse, weighted; 100 ratios down to 0.2, norm 2.4).") var clip: ClipMode = .none
    @Flag(help: "Also measure perplexity on Pride and Prejudice (8 × 512).") var ppl = false

    func run() throws {
        print("environment: \(environmentLine())")
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let t0 = wallClock()
            let cal = try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: ctx)
            let tTok = wallClock() - t0
            var opts = QuantizeOptions(method: method, bits: bits, group: group, dim: dim)
            if let select { opts.selectionWindows = select }
            opts.clip = ClipSearch(mode: clip)
            let t1 = wallClock()
            let q = try quantizeModel(m, options: opts, calibration: cal)
            let total = wallClock() - t1
            let tm = q.timings
            print(String(format: "%@ on %d×%d calibration tokens, AdaDim judged on %d windows: %.1f s (tokenize %.1f s)", opts.description as NSString, calib, ctx, min(opts.selectionWindows ?? calib, calib), total, tTok))
            print(String(format: "  capture %.1f s, Hessian %.1f s, GPTQ %.1f s, selection %.1f s, RTN %.1f s", tm.capture, tm.hessian, tm.gptq, tm.selection, tm.rtn))
            print("  per-IC choices: " + LinearKind.allCases.map { "\($0.rawValue) \(q.icCounts[$0]!)" }.joined(separator: ", "))
            print(String(format: "peak RSS: %.0f MiB", peakRSSMiB()))
            if ppl {
                let r = try AdaEval.perplexity(model: q.model, tokens: m.tokenizer.encode(try DataPaths.readText("austen:pride")), windows: 8, ctx: 512)
                print("perplexity: \(r)")
            }
        } catch { throw fail(error) }
    }
}

/// One-off quantization with a perplexity report.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quantize", abstract: "Quantize and report perplexity and AdaDim choices.")
    @Option var grid: GridKind = .minmax
    @Option var model = "smollm2"
    @Option var method: QuantMethod = .rtn
    @Option var dim: DimChoice = .fixed(.oc)
    @Option var bits = 3
    @Option var group = 128
    @Option var calib = 128
    @Option var select: Int?
    @Option var ctx = 512

    func run() throws {
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            var opts = QuantizeOptions(method: method, bits: bits, group: group, dim: dim, grid: grid)
            opts.selectionWindows = select
            let cal = opts.needsCalibration ? try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: ctx) : []
            let q = try quantizeModel(m, options: opts, calibration: cal)
            let r = try AdaEval.perplexity(model: q.model, tokens: m.tokenizer.encode(try DataPaths.readText("austen:pride")), windows: 8, ctx: 512)
            print("\(opts.description): \(r)")
            print("  per-IC choices: " + LinearKind.allCases.map { "\($0.rawValue) \(q.icCounts[$0]!)" }.joined(separator: ", "))
            print(String(format: "  quantize %.1f s (capture %.1f, Hessian %.1f, GPTQ %.1f, selection %.1f)", q.timings.total, q.timings.capture, q.timings.hessian, q.timings.gptq, q.timings.selection))
        } catch { throw fail(error) }
    }
}

struct Results: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Perplexity of FP, RTN and GPTQ × {per-OC, per-IC, AdaDim} at w3 g128, w4 g128, w2 g64 (docs/results.md).")
    @Option var model = "smollm2"
    @Option(help: "Calibration windows from Emma.") var calib = 128
    @Option(help: "Windows AdaDim's block criterion judges on.") var select = 16
    @Option var ctx = 512
    @Option(help: "Evaluation windows from Pride and Prejudice.") var windows = 8
    @Option(help: "Write the Markdown table here as well as to standard output.") var out: String?

    /// The three groupings every row of the table is measured in.
    static let dims: [DimChoice] = [.fixed(.oc), .fixed(.ic), .ada(.block)]

    func log(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

    func run() throws {
        do {
            let t0 = wallClock()
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let evalToks = m.tokenizer.encode(try DataPaths.readText("austen:pride"))
            let cal = try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: ctx)
            func ppl(_ mm: LlamaModel) throws -> Double {
                try AdaEval.perplexity(model: mm, tokens: evalToks, windows: windows, ctx: ctx).perplexity
            }
            let fp = try ppl(m)
            log(String(format: "FP: %.3f", fp))
            let configs = [(3, 128), (4, 128), (2, 64)]
            var table: [String: [Double]] = [:]
            var choices: [String] = []
            log("capturing Hessians on \(calib) × \(ctx) tokens…")
            let hess = try CalibrationHessians(model: m, calibration: cal)
            log(String(format: "  %.0f s", hess.seconds))
            var selectSeconds: [Double] = []
            for (bits, group) in configs {
                var adaReports: [ModuleReport] = []
                for dim in Self.dims {
                    var o = QuantizeOptions(method: .rtn, bits: bits, group: group, dim: dim)
                    o.selectionWindows = select
                    let q = try quantizeModel(m, options: o, calibration: Array(cal.prefix(select)))
                    if dim == .ada(.block) { adaReports = q.reports; selectSeconds.append(q.timings.selection) }
                    let p = try ppl(q.model)
                    table["rtn \(dim)", default: []].append(p)
                    log(String(format: "%@: %.3f", o.description as NSString, p))
                }
                for dim in Self.dims {
                    let o = QuantizeOptions(method: .gptq, bits: bits, group: group, dim: dim)
                    let q = try quantizeGPTQModel(m, options: o, hessians: hess, choices: dim == .ada(.block) ? adaReports : nil)
                    let p = try ppl(q.model)
                    table["gptq \(dim)", default: []].append(p)
                    log(String(format: "%@: %.3f", o.description as NSString, p))
                }
                var counts: [LinearKind: Int] = [:]
                for r in adaReports where r.dim == .ic { counts[r.id.kind, default: 0] += 1 }
                choices.append("| w\(bits) g\(group) | " + LinearKind.allCases.map { "\(counts[$0] ?? 0)" }.joined(separator: " | ")
                               + " | \(adaReports.filter { $0.dim == .ic }.count) / \(adaReports.count) |")
            }
            var md = "| method | dim | " + configs.map { "w\($0.0) g\($0.1)" }.joined(separator: " | ") + " |\n"
            md += "|---|---|" + configs.map { _ in "---:" }.joined(separator: "|") + "|\n"
            md += "| FP (dequantized file) | – | " + configs.map { _ in String(format: "%.2f", fp) }.joined(separator: " | ") + " |\n"
            for method in ["rtn", "gptq"] {
                for dim in ["oc", "ic", "ada"] {
                    let name = dim == "oc" ? "per-OC" : dim == "ic" ? "per-IC" : "AdaDim"
                    md += "| \(method.uppercased()) | \(name) | " + table["\(method) \(dim)"]!.map { String(format: "%.2f", $0) }.joined(separator: " | ") + " |\n"
                }
            }
            md += "\nAdaDim choices (modules that chose per-IC, of \(m.blocks.count) blocks each):\n\n"
            md += "| config | " + LinearKind.allCases.map(\.rawValue).joined(separator: " | ") + " | total |\n"
            md += "|---|" + LinearKind.allCases.map { _ in "---:" }.joined(separator: "|") + "|---:|\n"
            md += choices.joined(separator: "\n") + "\n"
            md += String(format: "\nCalibration: Emma, %d × %d tokens (AdaDim judged on the first %d windows); evaluation: Pride and Prejudice, %d × %d. Hessian capture %.0f s; AdaDim selection %@ s; whole run %.0f s.\n",
                         calib, ctx, select, windows, ctx, hess.seconds, selectSeconds.map { String(format: "%.0f", $0) }.joined(separator: "/") as NSString, wallClock() - t0)
            print(md, terminator: "")
            if let out { try md.write(toFile: out, atomically: true, encoding: .utf8) }
        } catch { throw fail(error) }
    }
}

// The engine's option enums are the command line's option types: their words are declared
// once (by the enums) and parsed once (by ArgumentParser), with the valid values in --help.
extension QuantMethod: ExpressibleByArgument {}
extension GridKind: ExpressibleByArgument {}
extension ClipMode: ExpressibleByArgument {}
extension DimChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["oc", "ic", "ada", "ada-module"] }
}
