@preconcurrency import _CEditline
import AdaLang
import AdaLibrary
import AdaRender
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The interactive shell on libedit: emacs bindings, persistent history, continuation
/// prompts for unfinished blocks, tab completion, ^C to cancel a line or interrupt a running
/// command, ^D to exit.
public final class REPL {
    public let interpreter: Interpreter
    public let historyPath: String
    /// The session journal (nil when it is off or cannot be written).
    public private(set) var journal: Journal?
    /// Statements of the session's history already in the journal.
    var journaled = 0

    /// The completer used by the C completion callback (libedit state is global).
    nonisolated(unsafe) static var completer: Completer?

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
        historyPath = REPL.historyFile()
    }

    /// `$ADA_HISTORY`, else `~/.ada_history`.
    public static func historyFile() -> String {
        if let p = ProcessInfo.processInfo.environment["ADA_HISTORY"], !p.isEmpty { return p }
        return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.ada_history"
    }

    nonisolated(unsafe) static let wordBreaks = strdup(" \t\n\"'()[]{},=+-*/%<>;")

    func setUpLineEditor() {
        REPL.completer = Completer(interpreter: interpreter)
        rl_readline_name = UnsafePointer(strdup("ada"))
        rl_catch_signals = 0
        rl_getc_function = replGetc
        rl_attempted_completion_function = replComplete
        rl_basic_word_break_characters = UnsafePointer(REPL.wordBreaks)
        rl_completer_word_break_characters = REPL.wordBreaks
        _ = rl_initialize()
        _ = rl_parse_and_bind("bind -e")
        _ = rl_parse_and_bind("bind ^I rl_complete")
        using_history()
        stifle_history(2000)
        _ = read_history(historyPath)
    }

    /// Runs until ^D; returns the exit status (0).
    public func run() -> Int32 {
        Shell.installInterruptHandler()
        // Interactive: text that commands stream (generate's tokens) shows as it comes.
        (interpreter.host as? StandardHost)?.streamHandler = { Shell.writeOut($0) }
        setUpLineEditor()
        Shell.writeOut("ada \(AdaVersion.string): 'help' lists the commands, 'help NAME' explains one; ^D exits.\n")
        if let dir = Journal.directory() {
            if interpreter.state.history.isEmpty { offerRecovery(dir) }
            journal = Journal(directory: dir)
            journalNewStatements()
        }
        var buffer = ""
        while true {
            Shell.resetInterrupts()
            // The prompt stays plain: colour codes would need libedit's invisible-character
            // markers to keep the cursor arithmetic right.
            let prompt = buffer.isEmpty ? "ada> " : "...> "
            guard let c = readline(prompt) else {
                if Cancellation.isRequested {
                    // ^C: drop the line (and any unfinished block) and prompt again.
                    Shell.writeOut("^C\n")
                    buffer = ""
                    continue
                }
                Shell.writeOut("\n")  // ^D
                break
            }
            let line = String(cString: c)
            free(c)
            if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                _ = add_history(line)
                _ = write_history(historyPath)
            }
            buffer += buffer.isEmpty ? line : "\n" + line
            if buffer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { buffer = ""; continue }
            let program: Program
            do {
                program = try interpreter.parse(SourceFile(name: "<repl>", text: buffer))
            } catch let e as AdaError {
                if e.incomplete { continue }  // an open block or bracket: ask for more
                Shell.writeErr(e.render(color: Shell.colorStderr))
                buffer = ""
                continue
            } catch {
                buffer = ""
                continue
            }
            buffer = ""
            Shell.resetInterrupts()
            interpreter.style.width = Shell.terminalWidth()
            for s in program.statements {
                if let e = interpreter.executeTopLevel(s, in: program) {
                    Shell.writeErr(e.render(color: Shell.colorStderr))
                    break
                }
                journalNewStatements()
            }
        }
        _ = write_history(historyPath)
        journal?.finish()
        return 0
    }

    /// Appends the statements that succeeded since the last call to the journal.
    func journalNewStatements() {
        let h = interpreter.state.history
        if h.count > journaled { journal?.append(Array(h[journaled...])) }
        journaled = h.count
    }

    /// Offers to restore the newest session that ended without ^D (its journal is still
    /// there and its process is gone). Declined, the journal is kept as `abandoned-…` for
    /// `ada recover FILE`.
    func offerRecovery(_ dir: String) {
        guard let path = Journal.unfinished(in: dir).first, let (_, n) = Journal.statements(of: path) else { return }
        guard n > 0 else { unlink(path); return }
        let name = (path as NSString).lastPathComponent
        Shell.writeOut("ada: an earlier session ended without ^D; its \(n) statement\(n == 1 ? "" : "s") are in \(path)\n")
        guard let c = readline("restore it? [y/N] ") else { Shell.writeOut("\n"); return }
        let answer = String(cString: c).trimmingCharacters(in: .whitespaces).lowercased()
        free(c)
        if answer == "y" || answer == "yes" {
            let restored = Journal.replayQuietly(path, into: interpreter)
            Shell.writeOut("restored \(restored) statement\(restored == 1 ? "" : "s"); 'vars' lists the variables\n")
            unlink(path)
        } else {
            rename(path, dir + "/abandoned-" + name)
            Shell.writeOut("not restored; 'ada recover \(dir)/abandoned-\(name)' restores it later\n")
        }
    }
}

/// Reads one byte for libedit. A ^C (SIGINT during the read, or a 0x03 byte when the
/// terminal delivers it as a character) makes readline return nil with the cancel flag set.
private let replGetc: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { _ in
    var ch: UInt8 = 0
    while true {
        let n = read(STDIN_FILENO, &ch, 1)
        if n == 1 {
            if ch == 3 { Cancellation.request(); return -1 }
            return Int32(ch)
        }
        if n < 0 && errno == EINTR {
            if Cancellation.isRequested { return -1 }
            continue
        }
        return -1
    }
}

/// libedit completion callback: candidates from `Completer`, as a NULL-terminated array whose
/// first entry is the text to substitute (the candidates' common prefix).
private let replComplete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, _ in
    rl_attempted_completion_over = 1
    guard let completer = REPL.completer else { return nil }
    let word = text.map { String(cString: $0) } ?? ""
    var prefix = ""
    if let buf = rl_line_buffer {
        let bytes = UnsafeRawBufferPointer(start: buf, count: Int(max(0, start)))
        prefix = String(decoding: bytes, as: UTF8.self)
    }
    let matches = completer.complete(prefix: prefix, word: word)
    guard !matches.isEmpty else { return nil }
    var common = matches[0]
    for m in matches.dropFirst() {
        while !m.hasPrefix(common) { common.removeLast() }
    }
    let inString = prefix.filter { $0 == "\"" }.count % 2 == 1
    if matches.count == 1 && !(common.hasSuffix("=") || inString) {
        rl_completion_append_character = 32
    } else {
        rl_completion_append_character = 0
    }
    let arr = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: matches.count + 2)
    arr[0] = strdup(common)
    for (i, m) in matches.enumerated() { arr[i + 1] = strdup(m) }
    arr[matches.count + 1] = nil
    // libedit frees the array with free(): allocate it with malloc instead.
    let size = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (matches.count + 2)
    let raw = malloc(size)!.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: matches.count + 2)
    for i in 0..<(matches.count + 2) { raw[i] = arr[i] }
    arr.deallocate()
    return raw
}
