import AdaLang
import Foundation

/// Writing sessions as replayable scripts.
public enum SessionWriter {
    /// The saved script: a header comment (ada version, date, model files with sha256), the
    /// `--set` values as assignments, then every statement that succeeded.
    public static func render(history: [String], models: [LoadedModelFile], pinned: [(String, String)],
                              date: Date = SessionWriter.now(), sha256: (String) -> String? = SessionWriter.sha256) -> String {
        var out = "# ada session, saved by ada \(AdaVersion.string) on \(format(date))\n"
        out += "# replay with: ada run FILE\n"
        for m in models {
            out += "# model \(renderString(m.name)): \(m.path)\n"
            out += "#   sha256 \(sha256(m.path) ?? "unavailable")\n"
        }
        if !pinned.isEmpty {
            out += "\n# set on the command line (--set)\n"
            for (n, v) in pinned { out += "\(n) = \(v)\n" }
        }
        if !history.isEmpty { out += "\n" }
        for h in history { out += h + "\n" }
        return out
    }

    /// Now, or `SOURCE_DATE_EPOCH` when set (reproducible output).
    public static func now() -> Date {
        if let s = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let t = Double(s) {
            return Date(timeIntervalSince1970: t)
        }
        return Date()
    }

    static func format(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: d)
    }

    nonisolated(unsafe) static var shaCache: [String: String] = [:]
    static let shaLock = NSLock()

    /// The sha256 of a file, by running `sha256sum` (or `shasum -a 256` on macOS); nil when
    /// neither is available. Cached by path, size and modification time.
    public static func sha256(_ path: String) -> String? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        if (attrs[.type] as? FileAttributeType) == .typeDirectory { return nil }
        let key = "\(path)|\(attrs[.size] ?? 0)|\((attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        if let s = shaLock.withLock({ shaCache[key] }) { return s }
        let candidates: [(String, [String])] = [("/usr/bin/sha256sum", []), ("/bin/sha256sum", []),
                                                 ("/usr/bin/shasum", ["-a", "256"])]
        for (exe, args) in candidates where FileManager.default.isExecutableFile(atPath: exe) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args + [path]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { continue }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { continue }
            let s = String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
            if s.count == 64 {
                shaLock.withLock { shaCache[key] = s }
                return s
            }
        }
        return nil
    }
}
