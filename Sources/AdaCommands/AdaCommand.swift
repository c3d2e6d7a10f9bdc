import AdaEval
import AdaLang
import AdaLibrary
import AdaModel
import AdaRender
import AdaShell
import AdaTensor
import ArgumentParser
import Foundation

struct Ada: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ada",
        abstract: "A shell for low-bit weight quantization of LLMs (AdaDim, RTN, GPTQ).",
        discussion: """
        With no arguments: the interactive shell (a script is read from standard input when \
        it is not a terminal). 'ada help' lists the language's commands, 'ada help NAME' \
        explains one, 'ada help --markdown' prints their reference. Exit status: 0 success, \
        1 runtime error, 2 usage or syntax error, 130 interrupted.
        """,
        version: AdaVersion.string,
        subcommands: [Run.self, Check.self, Recover.self, Perplexity.self, Bench.self, FuzzCommand.self])

    @Option(name: [.customShort("e"), .customLong("expr")], help: ArgumentHelp("Run ada statements and exit (values of expressions are shown).", valueName: "EXPR"))
    var expr: String?

    func run() throws {
        let status: Int32
        // (--quiet and --ascii belong to `ada run`; here ADA_ASCII=1 asks for ASCII plots.)
        let it = Shell.makeInterpreter()
        if let e = expr {
            Shell.installInterruptHandler()
            status = Shell.runScript(e, name: "<-e>", interpreter: it)
        } else if !Shell.stdinIsTerminal {
            Shell.installInterruptHandler()
            status = Shell.runScript(Shell.readStandardInput(), name: "<stdin>", interpreter: it)
        } else {
            status = REPL(interpreter: it).run()
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// Parses `--set NAME=VALUE` options into an interpreter; exits 2 on a malformed one.
func applySets(_ sets: [String], to it: Interpreter, command: String) throws {
    for s in sets {
        guard let eq = s.firstIndex(of: "=") else {
            Shell.writeErr("ada \(command): --set expects NAME=VALUE, got '\(s)'\n")
            throw ExitCode(2)
        }
        do { try it.set(String(s[..<eq]), literal: String(s[s.index(after: eq)...])) } catch let e as AdaError {
            Shell.writeErr("ada \(command): \(e.message)\n")
            throw ExitCode(2)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an ada script.",
        discussion: "Names are checked before anything runs. A failed statement stops the script (exit 1).")

    @ArgumentParser.Argument(help: "The script (.ada); - reads it from standard input.") var file: String
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Define NAME before the script runs. VALUE is an ada literal (3, 0.5, \"x\", true, [1, 2]) or else a string; the script's own top-level assignments to NAME are skipped, so its defaults can be overridden.",
        valueName: "NAME=VALUE"))
    var set: [String] = []
    @Option(name: .customLong("notebook"), help: ArgumentHelp(
        "Also write the run as a notebook: OUT.md (Markdown, plots as SVG files in OUT_files/) or OUT.ipynb (Jupyter). Each statement is a cell with its output.",
        valueName: "OUT"))
    var notebook: String?
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No progress bars on standard error.")
    var quiet = false
    @Flag(name: .customLong("ascii"), help: "Draw plots with ASCII characters only (also ADA_ASCII=1).")
    var ascii = false

    func run() throws {
        if let nb = notebook, let problem = Shell.notebookProblem(nb) {
            Shell.writeErr("ada run: \(problem)\n")
            throw ExitCode(2)
        }
        guard let text = file == "-" ? Shell.readStandardInput() : Shell.readScript(file) else { throw ExitCode(2) }
        let it = Shell.makeInterpreter(quiet: quiet, ascii: ascii)
        try applySets(set, to: it, command: "run")
        Shell.installInterruptHandler()
        let name = file == "-" ? "<stdin>" : file
        let status: Int32
        if let nb = notebook {
            let command = (["ada", "run", file] + set.flatMap { ["--set", $0] } + ["--notebook", nb]).joined(separator: " ")
            status = Shell.runScript(text, name: name, interpreter: it, notebook: nb, command: command)
        } else {
            status = Shell.runScript(text, name: name, interpreter: it)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

struct Recover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a session that ended without ^D from its journal, then go on.",
        discussion: """
        The REPL journals every statement that succeeded (in $ADA_JOURNAL_DIR, else \
        $XDG_STATE_HOME/ada/journal, else ~/.local/state/ada/journal; ADA_JOURNAL=off turns \
        it off). recover replays a journal (the newest unfinished one, else the newest one \
        declined at start-up) without showing its output, then continues in the REPL, or runs \
        standard input as a script when it is not a terminal.
        """)

    @ArgumentParser.Argument(help: "The journal to replay (default: the newest one).") var journal: String?

    func run() throws {
        guard let path = journal ?? Journal.directory().flatMap(Journal.latest(in:)) else {
            Shell.writeErr("ada recover: no journal to restore\(Journal.directory().map { " in \($0)" } ?? " (ADA_JOURNAL is off)")\n")
            throw ExitCode(1)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            Shell.writeErr("ada recover: no such file '\(path)'\n")
            throw ExitCode(2)
        }
        let it = Shell.makeInterpreter()
        Shell.installInterruptHandler()
        let n = Journal.replayQuietly(path, into: it)
        Shell.writeErr("ada recover: restored \(n) statement\(n == 1 ? "" : "s") from \(path)\n")
        let status: Int32
        if Shell.stdinIsTerminal {
            let name = (path as NSString).lastPathComponent
            if name.hasPrefix("session-") || name.hasPrefix("abandoned-session-") {
                unlink(path)  // the new session's journal carries the statements on
            }
            status = REPL(interpreter: it).run()
        } else {
            status = Shell.runScript(Shell.readStandardInput(), name: "<stdin>", interpreter: it)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse a script and check its names and arguments without running it.")

    @ArgumentParser.Argument(help: "The script (.ada); - reads it from standard input.") var file: String
    @Option(name: .customLong("set"), help: ArgumentHelp("Names the script expects from 'ada run --set'.", valueName: "NAME=VALUE"))
    var set: [String] = []

    func run() throws {
        guard let text = file == "-" ? Shell.readStandardInput() : Shell.readScript(file) else { throw ExitCode(2) }
        let names = Set(set.map { String($0.prefix { $0 != "=" }) })
        let status = Shell.checkScript(text, name: file == "-" ? "<stdin>" : file, predefined: names)
        if status != 0 { throw ExitCode(status) }
    }
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppl", abstract: "Perplexity of a model on a text.",
        discussion: """
            --protocol ada (the default): --windows windows of --ctx tokens from the start, every position after the first scored.
            --protocol llama.cpp: llama.cpp's llama-perplexity: every whole chunk of --ctx tokens (or the first --windows), BOS first in each when the tokenizer adds one, the second half of each chunk scored. llama.cpp reports 21.4687 for smollm2 and 23.2831 for gemma3 with --chars 50000 on austen:pride.
            """)
    @Option(help: "Model name or path (GGUF file or HuggingFace directory).") var model = "smollm2"
    @Option(help: "Text name (austen:pride, austen:emma, …) or path.") var text = "austen:pride"
    @Option(help: "Number of windows (ada: default 8; llama.cpp: of chunks, default every whole chunk).") var windows: Int?
    @Option(help: "Tokens per window.") var ctx = 512
    @Option(name: .customLong("protocol"), help: "ada or llama.cpp.") var method: PerplexityProtocol = .ada
    @Option(help: "Evaluate the text's first N characters (0: the whole text).") var chars = 0

    func run() throws {
        do {
            let m = try LlamaModel.load(path: DataPaths.model(model))
            let toks = m.tokenizer.encode(try textPrefix(try DataPaths.readText(text), chars: chars))
            let r: PerplexityResult
            switch method {
            case .ada: r = try AdaEval.perplexity(model: m, tokens: toks, windows: windows ?? 8, ctx: ctx)
            case .llamaCpp: r = try llamaCppPerplexity(view: ModelView(base: m), tokens: toks, ctx: ctx, chunks: windows)
            }
            print(r)
        } catch let e as ModelFileError {
            throw ValidationError(e.description)
        } catch let e as EvalError {
            // Named by the option that sets what the error concerns.
            let option: String? = switch e.origin {
            case .chars: "--chars"
            case .ctx: "--ctx"
            case .windows: "--windows"
            case .text: "--text"
            default: nil
            }
            throw OptionError(message: option.map { "\($0): " + e.message } ?? e.message)
        }
    }
}

/// A runtime error of a command's run naming the option it concerns (exit status 1).
struct OptionError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension PerplexityProtocol: ExpressibleByArgument {}

/// `ada help [NAME | --markdown]`: the language's help (subcommands get their usage).
func helpCommand(_ args: [String]) -> Int32 {
    let registry = Registry.standard()
    if args.isEmpty {
        Shell.writeOut(Help.overview(registry) + "\n\ncommand line: ada --help\n")
        return 0
    }
    if args == ["--markdown"] {
        Shell.writeOut(builtinsMarkdown(registry) + "\n")
        return 0
    }
    // `ada help run`, `ada help bench engine`: the subcommand's usage.
    var command: ParsableCommand.Type = Ada.self
    var path: [ParsableCommand.Type] = []
    for a in args {
        guard let sub = command.configuration.subcommands.first(where: { $0._commandName == a }) else { break }
        command = sub
        path.append(sub)
    }
    if path.count == args.count {
        Shell.writeOut(Ada.helpMessage(for: command) + "\n")
        return 0
    }
    if args.count == 1 {
        let t = args[0]
        if let text = Help.topic(t, registry: registry) {
            Shell.writeOut(text + "\n")
            return 0
        }
        let names = Help.topics(registry) + Ada.configuration.subcommands.map { $0._commandName }
        var msg = "ada help: no help for '\(t)'"
        if let s = closestName(to: t, in: names) { msg += "; did you mean '\(s)'?" }
        Shell.writeErr(msg + "\n")
        return 2
    }
    Shell.writeErr("ada help: expected one name or --markdown\n")
    return 2
}

/// The command line as a library: `ada`'s executable calls `AdaCLI.main`, tests call it
/// (and `usageError`) directly.
public enum AdaCLI {
    /// Parses and runs a command line (without the program name); returns the exit status:
    /// 0 success, 1 runtime error, 2 usage or syntax error, 130 interrupted.
    ///
    /// The command runs on a thread with a large stack (512 MiB, reserved, not committed):
    /// the interpreter recurses once per level of a script's expressions and calls, and its
    /// limits (`InterpreterLimits.maxEvalDepth`, the parser's nesting and height bounds) are
    /// sized for this stack, so no script can overflow it.
    public static func main(_ args: [String]) -> Int32 {
        final class Status: @unchecked Sendable { var code: Int32 = 0 }
        let status = Status()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            status.code = runCommand(args)
            done.signal()
        }
        thread.stackSize = 512 << 20
        thread.start()
        // ^C goes to the command's thread (its terminal reads and its cancel flag), not to this
        // one, which only waits.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        done.wait()
        return status.code
    }

    static func runCommand(_ args: [String]) -> Int32 {
        if args.first == "help" { return helpCommand(Array(args.dropFirst())) }
        var command: ParsableCommand
        do {
            command = try Ada.parseAsRoot(args)
        } catch {
            if Ada.exitCode(for: error) == .success {
                Shell.writeOut(Ada.fullMessage(for: error) + "\n")
                return 0
            }
            Shell.writeErr(Ada.fullMessage(for: error) + "\n")
            return 2  // usage error
        }
        do {
            try command.run()
            return 0
        } catch let e as ExitCode {
            return e.rawValue
        } catch {
            let code = Ada.exitCode(for: error)
            Shell.writeErr(Ada.fullMessage(for: error) + "\n")
            return code == .validationFailure ? 2 : code.rawValue
        }
    }

    /// The usage error a command line gets before anything runs (nil when it parses and
    /// validates), as `ada` would print it.
    public static func usageError(_ args: [String]) -> String? {
        do {
            _ = try Ada.parseAsRoot(args)
            return nil
        } catch {
            return Ada.exitCode(for: error) == .success ? nil : Ada.fullMessage(for: error)
        }
    }
}
