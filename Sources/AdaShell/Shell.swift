import AdaLang
import AdaLibrary
import AdaRender
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

    /// The progress bar on standard error (nil when it is not a terminal or with --quiet).
    nonisolated(unsafe) static var progressBar: ProgressBar?

    /// Erases a progress line left on the terminal (before any other output).
    static func clearProgress() { progressBar?.clear() }

    /// Whether the terminal can show Unicode (block and braille characters in plots): not
    /// with ADA_ASCII=1, nor when the locale (LC_ALL, LC_CTYPE, LANG: the first one set) is
    /// not UTF-8, nor on the Linux console (TERM=linux).
    public static var unicodeOK: Bool {
        let env = ProcessInfo.processInfo.environment
        if let a = env["ADA_ASCII"], !a.isEmpty, a != "0" { return false }
        if env["TERM"] == "linux" { return false }
        let locale = [env["LC_ALL"], env["LC_CTYPE"], env["LANG"]].compactMap { $0 }.first { !$0.isEmpty } ?? ""
        let l = locale.lowercased()
        return l.contains("utf-8") || l.contains("utf8")
    }

    /// Columns of the terminal on standard output (COLUMNS, else the terminal's size), or
    /// 80 when it is not a terminal; between 40 and 200.
    public static func terminalWidth(_ fd: Int32 = STDOUT_FILENO) -> Int {
        guard isatty(fd) != 0 else { return 80 }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(c), n > 0 { return min(200, max(40, n)) }
        var ws = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return min(200, max(40, Int(ws.ws_col))) }
        return 80
    }

    /// An interpreter with the standard builtins, colour as the terminal allows, plots in
    /// Unicode or ASCII as the locale allows (or ASCII with `ascii`), and progress bars on
    /// standard error when it is a terminal and not `quiet`.
    public static func makeInterpreter(quiet: Bool = false, ascii: Bool = false) -> Interpreter {
        let host = StandardHost(output: { writeOut($0) }, errorOutput: { writeErr($0) })
        let it = Interpreter(registry: .standard(), host: host)
        it.style = DisplayStyle(color: colorStdout, maxRows: 20, width: terminalWidth(), unicode: unicodeOK && !ascii)
        if isatty(STDERR_FILENO) != 0 && !quiet {
            let delay = ProcessInfo.processInfo.environment["ADA_PROGRESS_DELAY"].flatMap(Double.init) ?? 0.5
            let bar = ProgressBar(width: terminalWidth(STDERR_FILENO), unicode: unicodeOK && !ascii, delay: delay) { s in
                FileHandle.standardError.write(Data(s.utf8))
            }
            progressBar = bar
            host.progressHandler = { [unowned it] label, done, total in
                bar.update(label, done, total, commandStart: it.commandStart)
            }
        }
        return it
    }

    /// ^C sets the interpreter's cancel flag (checked at safe points); a third ^C before the
    /// running command notices exits at once.
    public static func installInterruptHandler() {
        interruptThread = pthread_self()
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
    /// The thread that installed the handler (the one that reads the terminal and runs
    /// statements): a ^C delivered to another thread is passed on to it, so that its
    /// terminal read is interrupted.
    nonisolated(unsafe) static var interruptThread: pthread_t?

    /// Clears the cancel flag and the ^C count (before each statement or prompt).
    public static func resetInterrupts() {
        Cancellation.reset()
        interruptCount = 0
    }

    static func report(_ e: AdaError) {
        writeErr(e.render(color: colorStderr))
    }

    /// Runs a script and writes it as a notebook (`ada run FILE --notebook OUT`): every
    /// statement that ran is a cell; when the script stops on an error, the failing
    /// statement ends the notebook with the error. Exit status as `runScript`, or 1 when
    /// the notebook cannot be written.
    public static func runScript(_ text: String, name: String, interpreter: Interpreter, notebook: String, command: String) -> Int32 {
        let status = runScript(text, name: name, interpreter: interpreter)
        if status == 2 { return status }  // a syntax error: nothing ran
        do {
            guard let host = interpreter.host as? StandardHost else { throw BuiltinError("this interpreter's host records no notebook") }
            let cells = host.notebook.allCells(includeFailure: status != 0)
            try NotebookWriter.write(cells, to: notebook, title: (name as NSString).lastPathComponent, command: command, overwrite: true)
        } catch let e as BuiltinError {
            writeErr("ada run: cannot write the notebook: \(e.message)\n")
            return status == 0 ? 1 : status
        } catch {
            writeErr("ada run: cannot write the notebook: \(error)\n")
            return status == 0 ? 1 : status
        }
        return status
    }

    /// Checks a notebook file name before a script runs (its extension and folder); nil
    /// when fine, else the problem.
    public static func notebookProblem(_ path: String) -> String? {
        guard NotebookWriter.format(of: path) != nil else {
            return "--notebook: the file name ends in .md (Markdown) or .ipynb (Jupyter), not '\((path as NSString).lastPathComponent)'"
        }
        let dir = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if !dir.isEmpty && !(FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
            return "--notebook: no such folder '\(dir)'"
        }
        return nil
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
    if let t = Shell.interruptThread, pthread_equal(t, pthread_self()) == 0 {
        pthread_kill(t, SIGINT)
        return
    }
    Cancellation.request()
    Shell.interruptCount += 1
    if Shell.interruptCount >= 3 { _exit(130) }
}
