import AdaEval
import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

/// `ada bench decode`: tokens per second of batch-1 greedy generation with the KV cache
/// (docs/benchmarks.md, "Decoding"). A prompt of the first `--prompt` tokens of Pride and
/// Prejudice, then `--tokens` new tokens (no stop at EOS); the rate counts the one-token
/// passes after the prompt's pass. Quantized models run from their materialized Float32
/// blocks (no packed kernels yet), so they read as many weight bytes per token as F32.
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
            for (name, view) in rows { try report(name, view, text: text) }
            if !noGemma {
                let gemma = try LlamaModel.load(path: DataPaths.model("gemma3"))
                try report("gemma3 F32", ModelView(base: gemma), text: text)
            }
        } catch { throw fail(error) }
        print(String(format: "peak RSS: %.0f MiB", peakRSSMiB()))
    }

    var header: String {
        "model".padding(toLength: 30, withPad: " ", startingAt: 0)
            + ["tok/s", "prompt ms", "weights MB", "GB/s", "packed MB"].map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
    }

    /// One model: a warm-up generation (decodes the file's blocks), then the measured one.
    func report(_ name: String, _ view: ModelView, text: String) throws {
        let ids = Array(view.base.tokenizer.encode(text).prefix(prompt))
        _ = try generate(view: view, prompt: ids, maxTokens: 4, stopAtEnd: false)
        let r = try generate(view: view, prompt: ids, maxTokens: tokens, stopAtEnd: false)
        let bytes = Double(weightBytesPerToken(view))
        let packed = Double(packedBytesPerToken(view))
        print(name.padding(toLength: 30, withPad: " ", startingAt: 0)
              + String(format: "%11.1f%11.0f%11.0f%11.1f%11.0f", r.tokensPerSecond, r.promptSeconds * 1000,
                       bytes / 1e6, bytes * r.tokensPerSecond / 1e9, packed / 1e6))
    }

    /// Float32 weight bytes one token reads: every linear layer of every block, the norms and
    /// the output head (the embedding row is one row, not counted).
    func weightBytesPerToken(_ view: ModelView) -> Int {
        let c = view.config
        let linear = LinearKind.allCases.reduce(0) { $0 + c.shape($1).reduce(1, *) } * view.blockCount
        return 4 * (linear + c.vocabSize * c.hiddenSize)
    }

    /// What a packed kernel would read: the packed layers (codes, scales, zeros) where the view
    /// has them, Float32 elsewhere, and the Float32 head.
    func packedBytesPerToken(_ view: ModelView) -> Int {
        let c = view.config
        var total = 4 * c.vocabSize * c.hiddenSize
        for id in view.linearIDs {
            total += view.overlay[id]?.storedBytes ?? 4 * c.shape(id.kind).reduce(1, *)
        }
        return total
    }
}
