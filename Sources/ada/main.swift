import AdaEval
import AdaModel
import AdaTensor
import ArgumentParser
import Foundation

struct Ada: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ada",
        abstract: "A shell for low-bit weight quantization of LLMs (AdaDim, RTN, GPTQ).",
        subcommands: [Perplexity.self, Bench.self])
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ppl", abstract: "Perplexity of a model on a text.")
    @Option(help: "Model name or path (GGUF file or HuggingFace directory).") var model = "smollm2"
    @Option(help: "Text name (austen:pride, austen:emma, …) or path.") var text = "austen:pride"
    @Option(help: "Number of windows.") var windows = 8
    @Option(help: "Tokens per window.") var ctx = 512

    func run() throws {
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let toks = m.tokenizer.encode(try DataPaths.readText(text))
            let r = try AdaEval.perplexity(model: m, tokens: toks, windows: windows, ctx: ctx)
            print(r)
        } catch let e as ModelFileError {
            throw ValidationError(e.description)
        }
    }
}

Ada.main()
