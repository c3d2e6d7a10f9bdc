import AdaEval
import AdaLang
import AdaLibrary
import AdaModel
import AdaQuant
import AdaRender
import AdaTensor
import ArgumentParser
import Foundation

/// `ada fuzz TARGET`: structure-aware mutants of model files and scripts through the real
/// entry points (load, a short perplexity, RTN/GPTQ/AdaDim, load_packed; parse, check and
/// run). Every input must end in success or in a proper error: one line for file errors
/// (naming the file), a placed diagnostic for scripts. Before each input its bytes go to
/// `STATE/current.*` and its index to `STATE/progress`, so `scripts/fuzz`, which runs this
/// in chunks, can keep the input that crashed or hung the process and resume after it.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz", abstract: "Fuzz the model loaders or the language with mutated inputs (driven by scripts/fuzz).")

    enum Target: String, ExpressibleByArgument, CaseIterable { case gguf, hf, packed, script }

    @ArgumentParser.Argument(help: "gguf, hf, packed or script") var target: Target
    @Option(help: "Inputs to try.") var count = 1000
    @Option(help: "Index of the first input (inputs are numbered from the seed).") var start = 0
    @Option(help: "Seed of the run.") var seed: UInt64 = 1
    @Option(help: "Folder for the current input and the progress file.") var state: String
    @Option(help: "script: folders whose .ada files seed the mutations.") var corpus: [String] = ["Tests/golden", "docs/examples"]

    func run() throws {
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        var stats = FuzzStats()
        let t0 = Date()
        for i in start..<(start + count) {
            var rng = SplitMix64(state: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i))
            try? String(i).write(toFile: state + "/progress", atomically: false, encoding: .utf8)
            switch target {
            case .gguf: fuzzGGUF(&rng, &stats)
            case .hf: fuzzHF(&rng, &stats)
            case .packed: fuzzPacked(&rng, &stats)
            case .script: fuzzScript(&rng, &stats, index: i)
            }
        }
        stats.seconds = Date().timeIntervalSince(t0)
        print(stats.json(target: target.rawValue, start: start, count: count))
    }

    // MARK: Model files

    func fuzzGGUF(_ rng: inout SplitMix64, _ stats: inout FuzzStats) {
        var m = FuzzModel(seed: rng.next())
        FuzzMutator.model(&m, &rng)
        var bytes = m.gguf()
        if rng.uniform() < 0.4 { FuzzMutator.bytes(&bytes, &rng) }
        let path = state + "/current.gguf"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        exerciseModel(path: path, &stats)
    }

    func fuzzHF(_ rng: inout SplitMix64, _ stats: inout FuzzStats) {
        var m = FuzzModel(seed: rng.next())
        if rng.uniform() < 0.5 { FuzzMutator.model(&m, &rng) }
        let dir = state + "/current-hf"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var config = m.config(), tokenizer = m.tokenizer()
        var st = m.safetensors()
        switch rng.next() % 4 {
        case 0: FuzzMutator.json(&config, &rng)
        case 1: FuzzMutator.json(&tokenizer, &rng)
        case 2: FuzzMutator.bytes(&st, &rng)
        default: FuzzMutator.json(&config, &rng); FuzzMutator.json(&tokenizer, &rng)
        }
        let write: (String, [String: Any]) -> Void = { name, obj in
            let d = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{".utf8)
            FileManager.default.createFile(atPath: dir + "/" + name, contents: d)
        }
        write("config.json", config)
        write("tokenizer.json", tokenizer)
        FileManager.default.createFile(atPath: dir + "/model.safetensors", contents: Data(st))
        exerciseModel(path: dir, &stats)
    }

    func fuzzPacked(_ rng: inout SplitMix64, _ stats: inout FuzzStats) {
        let m = FuzzModel(seed: 7)
        let base = state + "/base.gguf"
        if !FileManager.default.fileExists(atPath: base) {
            FileManager.default.createFile(atPath: base, contents: Data(m.gguf()))
        }
        guard let model = try? LlamaModel.load(path: base) else { stats.record("the packed fuzzer's base model does not load"); return }
        let bits = [2, 3, 4, 8][Int(rng.next() % 4)], group = [0, 2, 4, 8][Int(rng.next() % 4)]
        let dim: QuantDim = rng.next() % 2 == 0 ? .oc : .ic
        guard let q = try? quantizeModel(model, options: QuantizeOptions(method: .rtn, bits: bits, group: group, dim: .fixed(dim))) else { return }
        let path = state + "/current.safetensors"
        guard (try? PackedFormat.write(q, to: path)) != nil, var bytes = FileManager.default.contents(atPath: path).map(Array.init) else { return }
        FuzzMutator.safetensorsHeader(&bytes, &rng)
        if rng.uniform() < 0.3 { FuzzMutator.bytes(&bytes, &rng) }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        stats.inputs += 1
        do {
            let applied = try PackedFormat.apply(path, to: model)
            stats.accepted += 1
            _ = try? AdaEval.perplexity(model: applied, tokens: (0..<24).map { Int32($0 % 30) }, windows: 2, ctx: 12)
        } catch let e as ModelFileError {
            stats.rejected += 1
            stats.checkOneLine(e.description, mentioning: "current.safetensors")
        } catch let e as QuantError {
            stats.rejected += 1
            stats.checkOneLine(e.description, mentioning: nil)
        } catch {
            stats.rejected += 1
            stats.record("load_packed threw \(type(of: error)): \(error)")
        }
    }

    /// Load, then run the model through a short perplexity and every quantizer.
    func exerciseModel(path: String, _ stats: inout FuzzStats) {
        stats.inputs += 1
        let name = (path as NSString).lastPathComponent
        let model: LlamaModel
        do { model = try LlamaModel.load(path: path) } catch let e as ModelFileError {
            stats.rejected += 1
            stats.checkOneLine(e.description, mentioning: name)
            return
        } catch {
            stats.rejected += 1
            stats.record("load threw \(type(of: error)): \(error)")
            return
        }
        stats.accepted += 1
        let vocab = Int32(max(1, model.tokenizer.vocabularySize))
        let windows = (0..<2).map { w in (0..<12).map { Int32(($0 * 7 + w) % Int(vocab)) } }
        _ = try? AdaEval.perplexity(model: model, tokens: windows.flatMap { $0 }, windows: 2, ctx: 12)
        _ = model.tokenizer.decode(model.tokenizer.encode("the fuzz"))
        for (method, dim) in [(QuantMethod.rtn, DimChoice.fixed(.oc)), (.gptq, .fixed(.ic)), (.rtn, .ada(.block))] {
            do {
                _ = try quantizeModel(model, options: QuantizeOptions(method: method, bits: 3, group: 4, dim: dim), calibration: windows)
            } catch let e as QuantError {
                stats.checkOneLine(e.description, mentioning: nil)
            } catch {
                stats.record("quantize threw \(type(of: error)): \(error)")
            }
        }
    }
}

extension FuzzCommand {
    /// The seed scripts.
    func corpusScripts() -> [String] {
        var out: [String] = []
        for dir in corpus {
            for f in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where f.hasSuffix(".ada") {
                if let t = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8) { out.append(t) }
            }
        }
        return out.isEmpty ? ["x = 1\nprint x + 1"] : out
    }

    func fuzzScript(_ rng: inout SplitMix64, _ stats: inout FuzzStats, index: Int) {
        let corpusScripts = ScriptCorpus.shared(self)
        let src = rng.next() % 4 == 0 ? FuzzMutator.hostileScript(&rng) : FuzzMutator.source(FuzzMutator.pick(corpusScripts.scripts, &rng), &rng)
        try? src.write(toFile: state + "/current.ada", atomically: false, encoding: .utf8)
        stats.inputs += 1
        let file = SourceFile(name: "fuzz.ada", text: src)
        func proper(_ e: AdaError) {
            guard e.file != nil, !e.message.isEmpty else { stats.record("no place or message: \(e.description.prefix(200))"); return }
            if let r = e.range, r.offset > file.scalarCount { stats.record("place outside the input: \(e.description.prefix(200))") }
        }
        let program: Program
        do { program = try Parser.parse(file) } catch let e as AdaError {
            stats.rejected += 1
            proper(e)
            return
        } catch {
            stats.record("parse threw \(type(of: error))")
            return
        }
        for p in Checker.check(program, registry: corpusScripts.registry) { proper(p) }
        let it = Interpreter(registry: corpusScripts.registry, host: PlainHost(output: { _ in }, errorOutput: { _ in }))
        it.cancellation = CancelFlag()
        it.limits.maxSteps = 20_000
        it.limits.maxElements = 100_000
        it.limits.maxListLength = 100_000
        var failed = false
        for s in program.statements {
            if let e = it.executeTopLevel(s, in: program, show: true) { proper(e); failed = true }
        }
        if failed { stats.rejected += 1 } else { stats.accepted += 1 }
    }
}

/// The seed scripts and the registry, made once per process.
final class ScriptCorpus: @unchecked Sendable {
    let scripts: [String]
    let registry: Registry
    init(scripts: [String], registry: Registry) {
        self.scripts = scripts
        self.registry = registry
    }
    nonisolated(unsafe) static var made: ScriptCorpus?
    static func shared(_ f: FuzzCommand) -> ScriptCorpus {
        if let c = made { return c }
        let tiny = (try? LlamaModel.load(path: f.tinyModelPath())) ?? nil
        let c = ScriptCorpus(scripts: f.corpusScripts(), registry: tiny.map { Registry.sandboxed(model: $0) } ?? Registry.standard())
        made = c
        return c
    }
}

extension FuzzCommand {
    func tinyModelPath() -> String {
        let p = state + "/tiny.gguf"
        if !FileManager.default.fileExists(atPath: p) { FileManager.default.createFile(atPath: p, contents: Data(FuzzModel(seed: 3).gguf())) }
        return p
    }
}

/// What a fuzz run saw.
struct FuzzStats {
    var inputs = 0, accepted = 0, rejected = 0
    var improper: [String] = []
    var seconds = 0.0

    mutating func record(_ problem: String) {
        if improper.count < 20 { improper.append(problem) }
    }

    /// A file error must be one line and name the file.
    mutating func checkOneLine(_ message: String, mentioning name: String?) {
        if message.contains("\n") { record("more than one line: \(message.prefix(300))") }
        if let n = name, !message.contains(n) { record("does not name \(n): \(message.prefix(300))") }
        if message.isEmpty { record("empty message") }
    }

    func json(target: String, start: Int, count: Int) -> String {
        let obj: [String: Any] = ["target": target, "start": start, "count": count, "inputs": inputs, "accepted": accepted,
                                  "rejected": rejected, "improper": improper, "seconds": seconds]
        return String(decoding: (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }
}
