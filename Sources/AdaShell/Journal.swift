import AdaLang
import AdaRender
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The REPL's session journal: every statement that succeeded is appended, as it succeeds,
/// to a file in the journal folder (one `write` per statement on a file opened for
/// appending, then `fsync`), so a killed process, a crash or a power cut loses nothing. A
/// session that ends with ^D removes its journal; one that did not is offered back at the
/// next start, and `ada recover` replays it.
///
/// The folder is `$ADA_JOURNAL_DIR`, else `$XDG_STATE_HOME/ada/journal`, else
/// `~/.local/state/ada/journal`; `ADA_JOURNAL=off` turns the journal off. A journal is an
/// ada script (`ada run FILE` replays it too).
public final class Journal {
    public let path: String
    let fd: Int32

    /// The journal folder, or nil when the journal is off.
    public static func directory() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let off = env["ADA_JOURNAL"], ["off", "0", "no", "false"].contains(off.lowercased()) { return nil }
        if let d = env["ADA_JOURNAL_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_STATE_HOME"], !x.isEmpty { return x + "/ada/journal" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/ada/journal"
    }

    /// Starts this process's journal in `directory` (created if missing); nil, after a note
    /// on standard error, when it cannot be written (the session goes on without it).
    public init?(directory: String) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            Shell.writeErr("ada: no session journal (cannot create \(directory): \(error.localizedDescription))\n")
            return nil
        }
        let stamp = Journal.stamp(Date())
        path = "\(directory)/session-\(stamp)-\(getpid()).ada"
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            Shell.writeErr("ada: no session journal (cannot write \(path): \(String(cString: strerror(errno))))\n")
            return nil
        }
        write("# ada session journal, started \(stamp) by process \(getpid())\n# replay with: ada recover \(path)\n")
    }

    deinit { close(fd) }

    static func stamp(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: d)
    }

    /// Appends statements (each as the session records it) and flushes them to the disk.
    public func append(_ statements: [String]) {
        guard !statements.isEmpty else { return }
        write(statements.map { $0 + "\n" }.joined())
    }

    func write(_ text: String) {
        var data = Array(text.utf8)
        var off = 0
        while off < data.count {
            let n = data.withUnsafeMutableBytes { writeBytes(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
        data.removeAll()
        _ = fsync(fd)
    }

    /// The session ended normally: its journal is no longer needed.
    public func finish() {
        unlink(path)
    }

    // MARK: Unfinished sessions

    /// Journals in `directory` left by processes that are no longer running, newest first.
    public static func unfinished(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let journals = names.filter { $0.hasPrefix("session-") && $0.hasSuffix(".ada") }.sorted(by: >)
        return journals.compactMap { name -> String? in
            // session-YYYYMMDD-HHMMSS-PID.ada
            let stem = name.dropFirst("session-".count).dropLast(".ada".count)
            guard let pid = stem.split(separator: "-").last.flatMap({ Int32($0) }) else { return nil }
            if pid == getpid() || kill(pid, 0) == 0 { return nil }  // still running
            return directory + "/" + name
        }
    }

    /// The statements of a journal (its text without the header), and how many there are.
    public static func statements(of path: String) -> (text: String, count: Int)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let file = SourceFile(name: path, text: text)
        guard let program = try? Parser.parse(file) else { return (text, 0) }
        return (text, program.statements.count)
    }

    /// Replays a journal into `interpreter` without showing its output: statement by
    /// statement, so a torn last statement (a crash in the middle of a write) or one that
    /// no longer runs is skipped with a note. Returns the number of statements restored.
    @discardableResult
    public static func replay(_ path: String, into interpreter: Interpreter) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            Shell.writeErr("ada: cannot read the journal \(path)\n")
            return 0
        }
        let file = SourceFile(name: (path as NSString).lastPathComponent, text: text)
        let program: Program
        do { program = try Parser.parse(file) } catch let e as AdaError {
            Shell.writeErr("ada: the journal ends in an unfinished statement; restoring what came before it (\(e.message))\n")
            let cut = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(max(0, (e.range?.line ?? 1) - 1))
            return replayText(cut.joined(separator: "\n"), name: file.name, into: interpreter)
        } catch { return 0 }
        return replay(program, into: interpreter)
    }

    /// `replay` with the interpreter's output silenced (what the statements printed was seen
    /// in the session that ran them).
    @discardableResult
    public static func replayQuietly(_ path: String, into interpreter: Interpreter) -> Int {
        guard let host = interpreter.host as? StandardHost else { return replay(path, into: interpreter) }
        let saved = host.output
        host.output = { _ in }
        defer { host.output = saved }
        return replay(path, into: interpreter)
    }

    /// The journal `ada recover` restores when none is named: the newest unfinished one,
    /// else the newest abandoned one.
    public static func latest(in directory: String) -> String? {
        if let p = unfinished(in: directory).first { return p }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("abandoned-session-") && $0.hasSuffix(".ada") }.sorted(by: >).first.map { directory + "/" + $0 }
    }

    static func replayText(_ text: String, name: String, into interpreter: Interpreter) -> Int {
        guard let program = try? Parser.parse(SourceFile(name: name, text: text)) else { return 0 }
        return replay(program, into: interpreter)
    }

    static func replay(_ program: Program, into interpreter: Interpreter) -> Int {
        var restored = 0
        for s in program.statements {
            if let e = interpreter.executeTopLevel(s, in: program, show: false) {
                Shell.writeErr("ada: skipped a journal statement that failed on replay: \(e.description)\n")
            } else {
                restored += 1
            }
        }
        return restored
    }
}

/// The system's `write(2)` (the name is taken by `Journal.write` inside the class).
private func writeBytes(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
