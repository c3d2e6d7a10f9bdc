import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

/// `ada bench decode`: tokens per second of batch-1 greedy generation with the KV cache, for
/// SmolLM2 and Gemma 3 (`--no-smollm2`, `--no-gemma`)
/// (docs/benchmarks.md, "Decoding"). A prompt of the first `--prompt` tokens of Pride and
/// Prejudice, then `--tokens` new tokens (no stop at EOS); the rate counts the one-token
/// passes after the prompt's pass. Quantized models run twice: from their materialized
/// Float32 blocks (`dense`, as many weight bytes per token as F32) and from their packed
/// codes (`packed`: the packed kernels, the head from exact 8-bit codes when the file stores
/// it as Q8_0), and again with each product's input rounded to int8 (`packed_int8`). Bytes per
/// token are what the decoder's products read. `--repeats N` measures each model N times and
/// reports the medians (single runs of 128 tokens vary by about ±25% on this machine).
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Batch-1 generation speed (tokens/s) with the KV cache.")
    @Option(help: "Prompt tokens.") var prompt = 16
    @Option(help: "New tokens.") var tokens = 128
    @Option(help: "Calibration windows (512 tokens of Emma) for AdaDim's choice.") var calib = 8
    @Flag(help: "Skip Gemma 3.") var noGemma = false
    @Flag(help: "Skip SmolLM2.") var noSmollm2 = false
    @Option(help: "Measured generations per model (≥ 1): tok/s and prompt ms are their medians, with the range of tok/s.") var repeats = 1

    func run() throws {
        print("environment: \(environmentLine())")
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
        print("batch 1, \(prompt)-token prompt, \(tokens) new tokens, greedy; tok/s = one-token passes per second after the prompt's pass"
              + (repeats > 1 ? "; medians of \(repeats) runs" : ""))
        do {
            let text = try DataPaths.readText("austen:pride")
            print(header)
            if !noSmollm2 { try measure("smollm2", text: text) }
            if !noGemma { try measure("gemma3", text: text) }
        } catch { throw fail(error) }
        print(String(format: "peak RSS: %.0f MiB", peakRSSMiB()))
    }

    /// One model: F32, then RTN w4 and w3 g128 per-OC, per-IC and AdaDim, dense and packed.
    /// The quantized models are made, measured and dropped one at a time.
    func measure(_ name: String, text: String) throws {
        let m = try LlamaModel.load(path: DataPaths.model(name))
        let cal = try evaluationWindows(m.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: 512)
        try report("\(name) F32 dense", ModelView(base: m), text: text, kernels: .dense)
        try report("\(name) F32 packed", ModelView(base: m), text: text, kernels: .packed)
        try report("\(name) F32 packed_int8", ModelView(base: m), text: text, kernels: .packedInt8)
        for bits in [4, 3] {
            for (dim, label) in [(DimChoice.fixed(.oc), "per-OC"), (.fixed(.ic), "per-IC"), (.ada(.block), "AdaDim")] {
                let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: bits, group: 128, dim: dim),
                                          calibration: dim == .ada(.block) ? cal : [])
                let row = "\(name) RTN w\(bits) g128 \(label)"
                for (k, suffix) in [(DecodeKernels.dense, "dense"), (.packed, "packed"), (.packedInt8, "packed_int8")] {
                    try report("\(row) \(suffix)", q.view, text: text, kernels: k)
                }
            }
        }
    }

    var header: String {
        "model".padding(toLength: 38, withPad: " ", startingAt: 0)
            + ["tok/s", "range", "prompt ms", "MB/token", "GB/s"].map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
    }

    /// One model: a warm-up generation (decodes the file's blocks), then the measured one.
    func report(_ name: String, _ view: ModelView, text: String, kernels: DecodeKernels) throws {
        let ids = Array(view.base.tokenizer.encode(text).prefix(prompt))
        _ = try generate(view: view, prompt: ids, maxTokens: 4, kernels: kernels, stopAtEnd: false)
        var rates: [Double] = [], prompts: [Double] = []
        for _ in 0..<repeats {
            let r = try generate(view: view, prompt: ids, maxTokens: tokens, kernels: kernels, stopAtEnd: false)
            rates.append(r.tokensPerSecond)
            prompts.append(r.promptSeconds)
        }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let rate = median(rates), range = String(format: "%.0f–%.0f", rates.min()!, rates.max()!)
        let bytes = Double(KVDecoder(view: view, capacity: 1, kernels: kernels).weightBytesPerToken)
        print(name.padding(toLength: 38, withPad: " ", startingAt: 0)
              + String(format: "%11.1f", rate) + String(repeating: " ", count: max(0, 11 - range.count)) + range
              + String(format: "%11.0f%11.0f%11.1f", median(prompts) * 1000, bytes / 1e6, bytes * rate / 1e9))
    }
}
