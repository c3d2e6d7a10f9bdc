import AdaEval
import AdaLang
import AdaModel
import Foundation

/// Text generation: generate.
public enum GenerateLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(generateCommand)
    }

    static var generateCommand: Builtin {
        Builtin(
            name: "generate", category: "generate",
            summary: "The text a model writes after a prompt (greedy or sampled, with a KV cache); a list of models writes side by side.",
            help: """
            The prompt is tokenized as the model's tokenizer does (Gemma puts BOS first; no chat template is applied), run through the model once, then each new token costs one pass of one position through every block: the keys and values of earlier positions are kept (a KV cache), and sliding-window layers attend to their window only. temperature=0 (the default) or top_k=1 is greedy: the most likely token each time. temperature>0 draws from the softmax of logits/temperature, first keeping the top_k most likely tokens (0: all), then the smallest set of the most likely whose probability reaches top_p (1: all); seed starts the generator (SplitMix64), so the same seed writes the same text on every run. Generation stops after `tokens` new tokens or at the model's end token (EOS, and Gemma's <end_of_turn>), which is not part of the text. A quantized model generates from its materialized Float32 blocks (the same weights its perplexity uses), or with kernels=packed from its packed codes through the packed kernels (the head too, from 8-bit codes, when the model file stores it as Q8_0): the same model, its logits equal up to Float32 summation order, at a fraction of the memory traffic; kernels=packed_int8 also rounds each product's input to int8 per block of 32 (faster on CPUs with AVX-512 VNNI; the logits then differ by that rounding). With either, a prompt of 32 tokens or more runs its pass by panels: a few MiB of a layer's rows dequantized at a time and multiplied with sgemm (Float32 inputs), which reuses each weight across the prompt's tokens. In the REPL the text is printed as it is written; ^C stops the generation and keeps what was written (stop is "interrupted"). The result's seconds and tok_per_s (one-token passes per second after the prompt's pass) vary from run to run; the text does not.
            """,
            examples: ["generate m \"The capital of France is\" tokens=16",
                       "r = generate m \"Once upon a time\" tokens=48 temperature=0.8 top_p=0.95 seed=7\nprint r.text",
                       "q = quantize m method=rtn bits=4 group=128\ngenerate [m, q] \"The capital of France is\" tokens=16"],
            params: [Param("model", .oneOf([.model, .list(.model)]), doc: "a model (or quantized model), or a list of them to compare"),
                     Param("prompt", .string, doc: "the text to continue"),
                     Param("tokens", .int, default: .int(32), doc: "new tokens to write at most (≥ 1; prompt and new tokens must fit the context)"),
                     Param("temperature", .number, default: .int(0), doc: "softmax temperature (≥ 0; 0: greedy)"),
                     Param("top_k", .int, default: .int(0), doc: "draw from the k most likely tokens only (≥ 0; 0: no limit; 1: greedy)"),
                     Param("top_p", .number, default: .int(1), doc: "draw from the most likely tokens whose probability reaches p (0 < p ≤ 1; 1: no limit)"),
                     Param("seed", .int, default: .int(0), doc: "the sampling generator's seed"),
                     Param("kernels", choice: DecodeKernels.self, default: .dense, doc: "dense: Float32 weights (a quantized model's blocks dequantized once); packed: a quantized model's layers multiplied from their packed codes (its memory is its packed size), equal to dense up to Float32 summation order; packed_int8: packed with each product's input rounded to int8 per block of 32 for integer dot products (AVX-512 VNNI), logits within the input rounding of dense")],
            returns: "a record {text, prompt, prompt_tokens, new_tokens, ids, stop, seconds, tok_per_s}; for a list of models a table (model, text, new_tokens, stop)",
            run: { a, ctx in try runGenerate(a, ctx) })
    }

    static func runGenerate(_ a: Arguments, _ ctx: Context) throws -> Value {
        let models = try modelList(a)
        let prompt = try a.string("prompt")
        let tokens = try a.int("tokens")
        let seed = try a.int("seed")
        let sampling = Sampling(temperature: try a.number("temperature"), topK: try a.int("top_k"),
                                topP: try a.number("top_p"), seed: UInt64(bitPattern: Int64(seed)))
        let kernels = try a.choice("kernels", as: DecodeKernels.self)
        let single = models.count == 1 && !isList(a["model"])
        var results: [(String, GenerationResult)] = []
        for (view, name) in models {
            let ids = view.base.tokenizer.encode(prompt)
            var stream = TextStream(tokenizer: view.base.tokenizer, prompt: ids)
            if !single { ctx.host.stream("[\(name)] ") }
            let r = try engine(a, "prompt") {
                try generate(view: view, prompt: ids, maxTokens: tokens, sampling: sampling, kernels: kernels,
                             onToken: { ctx.host.stream(stream.push($0)) }, shouldStop: ctx.shouldStop)
            }
            ctx.host.stream(stream.finish() + "\n")
            results.append((name, r))
            if r.stop == .interrupted {
                // ^C ended this generation: keep what was written (the flag is consumed here,
                // so the statement completes with the partial result).
                ctx.interpreter.cancellation.reset()
                break
            }
        }
        if single { return .record(record(results[0].1, prompt: prompt)) }
        let rows: [[Value]] = results.map { name, r in [.string(name), .string(r.text), .int(r.tokens.count), .string(r.stop.rawValue)] }
        return .object(TableValue(Table(columns: ["model", "text", "new_tokens", "stop"], rows: rows,
                                        title: "generate \(quoted(prompt)) tokens=\(tokens)")))
    }

    static func isList(_ v: Value) -> Bool {
        if case .list = v { return true }
        return false
    }

    /// The models of the first argument, with their names.
    static func modelList(_ a: Arguments) throws -> [(ModelView, String)] {
        switch a["model"] {
        case .list(let items):
            guard !items.isEmpty else { throw a.error("model", "the list of models is empty") }
            return try items.map { v in
                guard case .object(let o) = v, let m = o as? any ModelValue else { throw a.error("model", "expected models, got \(v.typeWithArticle)") }
                return (m.view, m.name)
            }
        default:
            return [try a.viewArg("model")]
        }
    }

    static func record(_ r: GenerationResult, prompt: String) -> Record {
        Record([
            ("text", .string(r.text)), ("prompt", .string(prompt)), ("prompt_tokens", .int(r.prompt.count)),
            ("new_tokens", .int(r.tokens.count)), ("ids", .list(r.tokens.map { .int(Int($0)) })),
            ("stop", .string(r.stop.rawValue)), ("seconds", .number(r.promptSeconds + r.decodeSeconds)),
            ("tok_per_s", r.decodeSteps == 0 ? .none : .number(r.tokensPerSecond)),
        ])
    }

    static func quoted(_ s: String) -> String {
        let short = s.count > 40 ? String(s.prefix(40)) + "…" : s
        return "\"" + short.replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
