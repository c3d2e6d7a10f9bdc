import AdaScript
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Running ada sources from files, `-e` and standard input, with the exit statuses of the
/// command-line tool: 0 success, 1 runtime error, 2 usage or syntax error, 130 interrupted.
public enum Shell {
    /// Colour on standard output: only on a terminal and when NO_COLOR is unset.
    public static var colorStdout: Bool {
        isatty(STDOUT_FILENO) != 0 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }
    /// Colour in diagnostics: as for standard output, and standard error is a terminal too.
    public static var colorStderr: Bool { colorStdout && isatty(STDERR_FILENO) != 0 }

    public static func writeOut(_ s: String) {
        clearProgress()
        FileHandle.standardOutput.write(Data(s.utf8))
    }
    public static func writeErr(_ s: String) {
        clearProgress()
        FileHandle.standardError.write(Data(s.utf8))
    }

    nonisolated(unsafe) static var progressShown = false

    /// Erases a progress line left on the terminal (before any other output).
    static func clearProgress() {
        if progressShown {
            progressShown = false
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }

    /// An interpreter with the standard builtins, colour as the terminal allows and progress
    /// shown on standard error when it is a terminal.
    public static func makeInterpreter() -> Interpreter {
        let it = Interpreter(registry: .standard())
        it.output = { writeOut($0) }
        it.errorOutput = { writeErr($0) }
        it.style = DisplayStyle(color: colorStdout, maxRows: 20)
        if isatty(STDERR_FILENO) != 0 {
            it.progress = { label, done, total in
                clearProgress()
                if done < total {
                    FileHandle.standardError.write(Data("\(label) \(done)/\(total)".utf8))
                    progressShown = true
                }
            }
        }
        return it
    }

    /// ^C sets the interpreter's cancel flag (checked at safe points); a third ^C before the
    /// running command notices exits at once.
    public static func installInterruptHandler() {
        var sa = sigaction()
        #if canImport(Glibc)
        sa.__sigaction_handler.sa_handler = adaSIGINT
        #else
        sa.__sigaction_u.__sa_handler = adaSIGINT
        #endif
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0  // no SA_RESTART: a ^C interrupts the terminal read at the prompt
        sigaction(SIGINT, &sa, nil)
        // A parent may have started us with SIGINT blocked (signal masks are inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    nonisolated(unsafe) static var interruptCount: Int32 = 0

    /// Clears the cancel flag and the ^C count (before each statement or prompt).
    public static func resetInterrupts() {
        Cancellation.reset()
        interruptCount = 0
    }

    static func report(_ e: AdaError) {
        writeErr(e.render(color: colorStderr))
    }

    /// Runs a whole source as a script: parse (exit 2 on a syntax error), check names (exit 1
    /// on a problem, before anything runs), then run (exit 1 on an error, 130 on ^C).
    public static func runScript(_ text: String, name: String, interpreter: Interpreter? = nil) -> Int32 {
        let it = interpreter ?? makeInterpreter()
        let file = SourceFile(name: name, text: text)
        let program: Program
        do { program = try it.parse(file) } catch let e as AdaError { report(e); return e.exitStatus } catch {
            writeErr("ada: \(error)\n")
            return 2
        }
        let problems = Checker.check(program, registry: it.registry, predefined: Set(it.globals.keys))
        if !problems.isEmpty {
            for p in problems { report(p) }
            return 1
        }
        resetInterrupts()
        if let e = it.execute(program) {
            report(e)
            return e.exitStatus
        }
        return 0
    }

    /// `ada check`: parse and check names without running. Prints "NAME: ok (N statements)".
    public static func checkScript(_ text: String, name: String, predefined: Set<String> = []) -> Int32 {
        let file = SourceFile(name: name, text: text)
        let registry = Registry.standard()
        let program: Program
        do { program = try Parser.parse(file) } catch let e as AdaError { report(e); return e.exitStatus } catch { return 2 }
        let problems = Checker.check(program, registry: registry, predefined: predefined)
        for p in problems { report(p) }
        if problems.isEmpty {
            let n = program.statements.count
            writeOut("\(name): ok (\(n) statement\(n == 1 ? "" : "s"))\n")
            return 0
        }
        return 1
    }

    /// Reads a script file; nil (after a message) when it cannot be read.
    public static func readScript(_ path: String) -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            writeErr("ada: no such file '\(path)'\n")
            return nil
        }
        guard !isDir.boolValue, let d = FileManager.default.contents(atPath: path) else {
            writeErr("ada: cannot read '\(path)'\(isDir.boolValue ? ": it is a folder" : "")\n")
            return nil
        }
        guard let s = String(data: d, encoding: .utf8) else {
            writeErr("ada: '\(path)' is not UTF-8 text\n")
            return nil
        }
        return s
    }

    /// Reads all of standard input.
    public static func readStandardInput() -> String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }

    public static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) != 0 }
}

/// The SIGINT handler: plain stores only (async-signal-safe).
private func adaSIGINT(_ signal: Int32) {
    Cancellation.request()
    Shell.interruptCount += 1
    if Shell.interruptCount >= 3 { _exit(130) }
}
