import AdaEval
import AdaModel
import AdaQuant
import ArgumentParser
import Foundation

/// One row family of the ablation table: what is added to plain RTN/GPTQ.
struct AblationVariant {
    let name: String
    let clip: ClipSearch
    /// Quantize the AWQ-scaled model (searched with RTN at the run's bits and group, per-IC
    /// for per-IC rows, per-OC otherwise) instead of the original.
    var awq = false

    static func parse(_ s: String) throws -> AblationVariant {
        switch s {
        case "none": return AblationVariant(name: "–", clip: .none)
        case "mse": return AblationVariant(name: "clip=mse", clip: ClipSearch(mode: .mse))
        case "weighted": return AblationVariant(name: "clip=weighted", clip: ClipSearch(mode: .weighted))
        case "awq": return AblationVariant(name: "awq", clip: .none, awq: true)
        case "awq+mse": return AblationVariant(name: "awq + clip=mse", clip: ClipSearch(mode: .mse), awq: true)
        default: throw ValidationError("unknown variant '\(s)' (none, mse, weighted, awq, awq+mse)")
        }
    }
}

/// The models a configuration's rows quantize: the original, or AWQ-scaled ones (one per
/// search dimension) with their own Hessians, made once per configuration.
final class AblationModels {
    let base: LlamaModel
    let baseHessians: CalibrationHessians?
    let cal: [[Int32]]
    /// Whether the AWQ models need Hessians (GPTQ rows on full-precision inputs share them).
    let hessiansNeeded: Bool
    var awq: [String: (LlamaModel, CalibrationHessians?, Double)] = [:]

    init(base: LlamaModel, hessians: CalibrationHessians?, cal: [[Int32]], hessiansNeeded: Bool) {
        self.base = base
        baseHessians = hessians
        self.cal = cal
        self.hessiansNeeded = hessiansNeeded
    }

    /// The model and Hessians for a row, and the seconds AWQ took (0 without AWQ).
    func get(_ v: AblationVariant, bits: Int, group: Int, dim: DimChoice, log: (String) -> Void) throws -> (LlamaModel, CalibrationHessians?, Double) {
        guard v.awq else { return (base, baseHessians, 0) }
        let d: QuantDim = dim == .fixed(.ic) ? .ic : .oc
        let key = "w\(bits) g\(group) \(d)"
        if let hit = awq[key] { return hit }
        let r = try awqScale(base, calibration: cal, options: AWQOptions(spec: QuantSpec(bits: bits, group: group, dim: d)))
        let h = hessiansNeeded ? try CalibrationHessians(model: r.model, calibration: cal) : nil
        log(String(format: "awq %@: %.0f s (+ Hessians %.0f s)", key as NSString, r.seconds, h?.seconds ?? 0))
        awq[key] = (r.model, h, r.seconds)
        return awq[key]!
    }
}

/// `ada bench ablation`: perplexity of RTN and GPTQ × {per-OC, per-IC, AdaDim} with each added
/// component (the clip search, plain or weighted), at w3 g128 and w4 g128, with bits per weight.
struct Ablation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablation",
        abstract: "Perplexity of RTN and GPTQ × {per-OC, per-IC, AdaDim} × {plain, clip=mse, clip=weighted, awq, awq+mse} (docs/results.md).")
    @Option var model = "smollm2"
    @Option(help: "Calibration windows from Emma.") var calib = 128
    @Option(help: "Windows AdaDim's block criterion judges on.") var select = 16
    @Option var ctx = 512
    @Option(help: "Evaluation windows from Pride and Prejudice.") var windows = 8
    @Option(help: "Configurations, e.g. w3g128,w4g128.") var configs = "w3g128,w4g128"
    @Option(help: "What is added: none, mse, weighted, awq, awq+mse (comma-separated).") var variants = "none,mse,weighted,awq,awq+mse"
    @Option(help: "AdaDim criteria, one row each: block, module, quantizer, kl (comma-separated).") var criteria = "block"
    @Option(help: "Windows criterion=kl judges on.") var klWindows = 4
    @Option(help: "Blocks per unit of criterion=kl.") var klBlocks = 5
    @Option(help: "Methods: rtn, gptq (comma-separated).") var methods = "rtn,gptq"
    @Flag(help: "Only the AdaDim rows (no per-OC and per-IC rows).") var noFixed = false
    @Option(help: "GPTQ rows' block inputs: fp (from the full-precision model) or quantized (from the quantized blocks; each row a whole run with its own Hessians and, for AdaDim, its own selection).")
    var inputs = "fp"
    @Option(help: "GPTQ damping: this fraction of the Hessian's mean diagonal is added to it.") var damp = 0.01
    @Option(help: "GPTQ act-order (columns in order of descending Hessian diagonal): on or off.") var actOrder = "on"
    @Option(help: "Write the Markdown table here as well as to standard output.") var out: String?

    /// One row's quantize options: the run's selection, kl and GPTQ settings.
    func rowOptions(_ method: QuantMethod, bits: Int, group: Int, dim: DimChoice, clip: ClipSearch) throws -> QuantizeOptions {
        var o = QuantizeOptions(method: method, bits: bits, group: group, dim: dim)
        o.selectionWindows = select
        o.klWindows = klWindows
        o.klBlocks = klBlocks
        o.clip = clip
        if method == .gptq { (o.gptq, o.quantizedInputs) = try gptqSettings() }
        return o
    }

    /// The GPTQ options and whether GPTQ rows feed blocks quantized inputs.
    func gptqSettings() throws -> (GPTQOptions, quantizedInputs: Bool) {
        guard inputs == "fp" || inputs == "quantized" else { throw ValidationError("--inputs takes fp or quantized, got '\(inputs)'") }
        guard actOrder == "on" || actOrder == "off" else { throw ValidationError("--act-order takes on or off, got '\(actOrder)'") }
        guard damp.isFinite, damp >= 0, damp <= 1 else { throw ValidationError("--damp takes a fraction from 0 to 1, got \(damp)") }
        return (GPTQOptions(damp: damp, blockSize: 128, actOrder: actOrder == "on"), inputs == "quantized")
    }

    /// per-OC, per-IC, then one AdaDim row per criterion.
    func parsedDims() throws -> [DimChoice] {
        try (noFixed ? [] : [.fixed(.oc), .fixed(.ic)]) + criteria.split(separator: ",").map { c in
            guard let k = AdaCriterion(rawValue: String(c)) else { throw ValidationError("unknown criterion '\(c)' (block, module, quantizer, kl)") }
            return .ada(k)
        }
    }

    static func rowName(_ d: DimChoice) -> String {
        switch d {
        case .fixed(.oc): return "per-OC"
        case .fixed(.ic): return "per-IC"
        case .ada(.block): return "AdaDim"
        case .ada(let c): return "AdaDim (\(c.rawValue))"
        }
    }

    func log(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

    func parsedConfigs() throws -> [(bits: Int, group: Int)] {
        try configs.split(separator: ",").map { c in
            let parts = c.dropFirst().split(separator: "g")
            guard c.hasPrefix("w"), parts.count == 2, let b = Int(parts[0]), let g = Int(parts[1]), (2...8).contains(b), g >= 0 else {
                throw ValidationError("malformed configuration '\(c)' (expected wBITSgGROUP, e.g. w3g128)")
            }
            return (b, g)
        }
    }

    func run() throws {
        do {
            let t0 = wallClock()
            let cfgs = try parsedConfigs()
            let vars = try variants.split(separator: ",").map { try AblationVariant.parse(String($0)) }
            let dims = try parsedDims()
            let (gptqOptions, quantizedInputs) = try gptqSettings()
            let meths = methods.split(separator: ",").map(String.init)
            guard !meths.isEmpty, meths.allSatisfy({ $0 == "rtn" || $0 == "gptq" }) else { throw ValidationError("--methods takes rtn, gptq") }
            if meths == ["gptq"], !quantizedInputs, dims.contains(.ada(.block)) || dims.contains(.ada(.module)) {
                throw ValidationError("GPTQ AdaDim with --criteria block or module reuses the RTN rows' choices: add rtn to --methods (or use --inputs quantized)")
            }
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let evalToks = m.tokenizer.encode(try DataPaths.readText("austen:pride"))
            let cal = try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: ctx)
            func ppl(_ mm: LlamaModel) throws -> Double {
                try AdaEval.perplexity(model: mm, tokens: evalToks, windows: windows, ctx: ctx).perplexity
            }
            let fp = try ppl(m)
            log(String(format: "FP: %.3f", fp))
            let hess: CalibrationHessians? = meths.contains("gptq") && !quantizedInputs
                ? try { log("capturing Hessians on \(calib) × \(ctx) tokens…"); return try CalibrationHessians(model: m, calibration: cal) }() : nil
            if let hess { log(String(format: "  %.0f s", hess.seconds)) }
            // cells["rtn oc –"][config index] = (ppl, bpw); seconds per row
            var cells: [String: [(Double, Double)]] = [:]
            var seconds: [String: [Double]] = [:]
            for (bits, group) in cfgs {
                let models = AblationModels(base: m, hessians: hess, cal: cal, hessiansNeeded: hess != nil)
                var adaReports: [AdaCriterion: [ModuleReport]] = [:]
                for v in vars {
                    for dim in dims where meths.contains("rtn") {
                        let o = try rowOptions(.rtn, bits: bits, group: group, dim: dim, clip: v.clip)
                        let (mm, _, awqSeconds) = try models.get(v, bits: bits, group: group, dim: dim, log: log)
                        let t1 = wallClock()
                        let q = try quantizeModel(mm, options: o, calibration: v.clip.mode == .weighted ? cal : Array(cal.prefix(max(select, klWindows))))
                        let dt = wallClock() - t1 + awqSeconds
                        if case .ada(let c) = dim { adaReports[c] = q.reports }
                        let p = try ppl(q.model)
                        cells["rtn \(dim) \(v.name)", default: []].append((p, bitsPerWeight(q.reports)))
                        seconds["rtn \(dim) \(v.name)", default: []].append(dt)
                        log(String(format: "%@: %.3f (%.1f s)", o.description as NSString, p, dt))
                    }
                    for dim in dims where meths.contains("gptq") {
                        let o = try rowOptions(.gptq, bits: bits, group: group, dim: dim, clip: v.clip)
                        let (mm, hh, awqSeconds) = try models.get(v, bits: bits, group: group, dim: dim, log: log)
                        let t1 = wallClock()
                        // criterion=quantizer and kl judge GPTQ candidates, and quantized inputs need
                        // Hessians of each run's own blocks: whole runs (their own Hessian capture
                        // included); otherwise block and module reuse the RTN row's choices.
                        let q: QuantizedModel
                        if dim == .ada(.quantizer) || dim == .ada(.kl) || quantizedInputs {
                            q = try quantizeModel(mm, options: o, calibration: cal)
                        } else {
                            var choices: [ModuleReport]?
                            if case .ada(let c) = dim {
                                guard let r = adaReports[c] else { throw ValidationError("GPTQ AdaDim (\(c)) reuses the RTN row's choices: add rtn to --methods") }
                                choices = r
                            }
                            q = try quantizeGPTQModel(mm, options: o, hessians: hh!, choices: choices)
                        }
                        let dt = wallClock() - t1 + awqSeconds
                        let p = try ppl(q.model)
                        cells["gptq \(dim) \(v.name)", default: []].append((p, bitsPerWeight(q.reports)))
                        seconds["gptq \(dim) \(v.name)", default: []].append(dt)
                        log(String(format: "%@: %.3f (%.1f s)", o.description as NSString, p, dt))
                    }
                }
            }
            let hessSeconds: Double = hess?.seconds ?? 0
            var md = table(cfgs, fp: fp, methods: meths, dims: dims, vars: vars, cells: cells, seconds: seconds)
            md += String(format: "\nCalibration: Emma, %d × %d tokens (AdaDim judged on the first %d windows; GPTQ AdaDim in the dimensions RTN AdaDim chose with the same clip search); evaluation: Pride and Prejudice, %d × %d. bpw: codes plus a 16-bit scale and a 16-bit zero per group. s: seconds to quantize (GPTQ: after the shared Hessian capture of %.0f s; RTN AdaDim: including its selection; awq rows: including the α search, not the AWQ model's Hessian capture). AWQ searches α with RTN at the row's bits and group, per-IC for per-IC rows and per-OC otherwise, on all calibration windows. Whole run %.0f s.\n",
                         calib, ctx, select, windows, ctx, hessSeconds, wallClock() - t0)
            md += String(format: "GPTQ: damp %g, act-order %@, block inputs from the %@ model%@.\n", gptqOptions.damp, actOrder as NSString,
                         (quantizedInputs ? "quantized" : "full-precision") as NSString,
                         (quantizedInputs ? " (each GPTQ row a whole run: its own Hessians, AdaDim its own selection on quantized inputs; s includes them)" : "") as NSString)
            if dims.contains(.ada(.kl)) { md += "criterion=kl: \(klWindows) windows, units of \(klBlocks) blocks (GPTQ kl and quantizer rows: whole runs judging GPTQ candidates, Hessian capture included).\n" }
            print(md, terminator: "")
            if let out { try md.write(toFile: out, atomically: true, encoding: .utf8) }
        } catch { throw fail(error) }
    }

    /// The Markdown table: one row per method, dimension (criterion) and variant.
    func table(_ cfgs: [(bits: Int, group: Int)], fp: Double, methods meths: [String], dims: [DimChoice], vars: [AblationVariant],
               cells: [String: [(Double, Double)]], seconds: [String: [Double]]) -> String {
        var md = "| method | dim | added | " + cfgs.map { "w\($0.0) g\($0.1) ppl | bpw | s" }.joined(separator: " | ") + " |\n"
        md += "|---|---|---|" + cfgs.map { _ in "---:|---:|---:" }.joined(separator: "|") + "|\n"
        md += "| FP (dequantized file) | – | – | " + cfgs.map { _ in String(format: "%.2f | 16 | –", fp) }.joined(separator: " | ") + " |\n"
        for method in ["rtn", "gptq"] where meths.contains(method) {
            for dim in dims {
                let name = Self.rowName(dim)
                for v in vars {
                    let key = "\(method) \(dim) \(v.name)"
                    let row = zip(cells[key]!, seconds[key]!).map { String(format: "%.2f | %.3f | %.0f", $0.0.0, $0.0.1, $0.1) }
                    md += "| \(method.uppercased()) | \(name) | \(v.name) | " + row.joined(separator: " | ") + " |\n"
                }
            }
        }
        return md
    }
}
