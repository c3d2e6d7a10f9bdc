import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

/// `ada bench decode`: tokens per second of batch-1 greedy generation with the KV cache
/// (docs/benchmarks.md, "Decoding"). A prompt of the first `--prompt` tokens of Pride and
/// Prejudice, then `--tokens` new tokens (no stop at EOS); the rate counts the one-token
/// passes after the prompt's pass. Quantized models run twice: from their materialized
/// Float32 blocks (`dense`, as many weight bytes per token as F32) and from their packed
/// codes (`packed`: the packed kernels, the head from exact 8-bit codes when the file stores
/// it as Q8_0), and again with each product's input rounded to int8 (`packed_int8`). Bytes per
/// token are what the decoder's products read.
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Batch-1 generation speed (tokens/s) with the KV cache.")
    @Option(help: "Prompt tokens.") var prompt = 16
    @Option(help: "New tokens.") var tokens = 128
    @Option(help: "Calibration windows (512 tokens of Emma) for AdaDim's choice.") var calib = 8
    @Flag(help: "Skip Gemma 3.") var noGemma = false

    func run() throws {
        print("environment: \(environmentLine())")
        print("batch 1, \(prompt)-token prompt, \(tokens) new tokens, greedy; tok/s = one-token passes per second after the prompt's pass")
        do {
            let smol = try LlamaModel.load(path: DataPaths.model("smollm2"))
            let text = try DataPaths.readText("austen:pride")
            let cal = try evaluationWindows(smol.tokenizer.encode(try DataPaths.readText("austen:emma")), windows: calib, ctx: 512)
            var rows: [(String, ModelView)] = [("smollm2 F32", ModelView(base: smol))]
            for bits in [4, 3] {
                for (dim, label) in [(DimChoice.fixed(.oc), "per-OC"), (.fixed(.ic), "per-IC"), (.ada(.block), "AdaDim")] {
                    let q = try quantizeModel(smol, options: QuantizeOptions(method: .rtn, bits: bits, group: 128, dim: dim),
                                              calibration: dim == .ada(.block) ? cal : [])
                    rows.append(("smollm2 RTN w\(bits) g128 \(label)", q.view))
                }
            }
            print(header)
            for (name, view) in rows {
                try report(name + " dense", view, text: text, kernels: .dense)
                if !view.overlay.isEmpty || name.hasSuffix("F32") {
                    try report(name + " packed", view, text: text, kernels: .packed)
                    try report(name + " packed_int8", view, text: text, kernels: .packedInt8)
                }
            }
            if !noGemma {
                let gemma = try LlamaModel.load(path: DataPaths.model("gemma3"))
                try report("gemma3 F32 dense", ModelView(base: gemma), text: text, kernels: .dense)
            }
        } catch { throw fail(error) }
        print(String(format: "peak RSS: %.0f MiB", peakRSSMiB()))
    }

    var header: String {
        "model".padding(toLength: 38, withPad: " ", startingAt: 0)
            + ["tok/s", "prompt ms", "MB/token", "GB/s"].map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
    }

    /// One model: a warm-up generation (decodes the file's blocks), then the measured one.
    func report(_ name: String, _ view: ModelView, text: String, kernels: DecodeKernels) throws {
        let ids = Array(view.base.tokenizer.encode(text).prefix(prompt))
        _ = try generate(view: view, prompt: ids, maxTokens: 4, kernels: kernels, stopAtEnd: false)
        let r = try generate(view: view, prompt: ids, maxTokens: tokens, kernels: kernels, stopAtEnd: false)
        let bytes = Double(KVDecoder(view: view, capacity: 1, kernels: kernels).weightBytesPerToken)
        print(name.padding(toLength: 38, withPad: " ", startingAt: 0)
              + String(format: "%11.1f%11.0f%11.0f%11.1f", r.tokensPerSecond, r.promptSeconds * 1000,
                       bytes / 1e6, bytes * r.tokensPerSecond / 1e9))
    }
}
