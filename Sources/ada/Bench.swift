import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

/// Benchmarks and reproducible experiments (not tests): `ada bench engine|quant|results`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks and reproducible experiments.",
        subcommands: [EngineBench.self, QuantBench.self, Results.self, QuantizeCommand.self])
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
    @Option var method = "gptq"
    @Option var dim = "ada"
    @Option var bits = 3
    @Option var group = 128
    @Option(help: "Calibration windows from Emma.") var calib = 128
    @Option var ctx = 512
    @Option(help: "Windows used by AdaDim's block criterion (default: all).") var select: Int?
    @Flag(help: "Also measure perplexity on Pride and Prejudice (8 × 512).") var ppl = false

    func run() throws {
        print("environment: \(environmentLine())")
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let t0 = wallClock()
            let cal = try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: ctx)
            let tTok = wallClock() - t0
            guard let d = DimChoice(name: dim), let meth = QuantMethod(rawValue: method) else {
                throw ValidationError("bad --dim or --method")
            }
            var opts = QuantizeOptions(method: meth, bits: bits, group: group, dim: d)
            opts.selectionWindows = select
            let t1 = wallClock()
            let q = try quantizeModel(m, options: opts, calibration: cal)
            let total = wallClock() - t1
            let tm = q.timings
            print(String(format: "%@ on %d×%d calibration tokens: %.1f s (tokenize %.1f s)", opts.description as NSString, calib, ctx, total, tTok))
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
    @Option var grid = "minmax"
    @Option var model = "smollm2"
    @Option var method = "rtn"
    @Option var dim = "oc"
    @Option var bits = 3
    @Option var group = 128
    @Option var calib = 128
    @Option var select: Int?
    @Option var ctx = 512

    func run() throws {
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            guard let d = DimChoice(name: dim), let meth = QuantMethod(rawValue: method), let gk = GridKind(rawValue: grid) else { throw ValidationError("bad --dim, --method or --grid") }
            var opts = QuantizeOptions(method: meth, bits: bits, group: group, dim: d, grid: gk)
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
    static let configuration = CommandConfiguration(commandName: "results", abstract: "The perplexity table of docs/results.md.")
    func run() throws {}
}
