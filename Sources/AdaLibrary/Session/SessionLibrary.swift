import AdaLang
import AdaModel
import Foundation

/// The session: history, save (a replayable script or a notebook), vars, and its settings (memory).
public enum SessionLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(historyCommand)
        r.register(saveCommand)
        r.register(varsCommand)
        r.register(memoryCommand)
    }

    static var historyCommand: Builtin {
        Builtin(
            name: "history", category: "session", summary: "List the statements of this session that succeeded.",
            help: "These are the statements `save` writes. Statements that failed, and calls of help, history and save, are not listed.",
            examples: ["history"], recorded: false,
            run: { _, ctx in
                let h = ctx.interpreter.state.history
                if h.isEmpty { ctx.print("(no statements yet)") }
                let w = String(h.count).count
                for (i, s) in h.enumerated() {
                    let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
                    let num = String(i + 1)
                    ctx.print(String(repeating: " ", count: w - num.count) + num + "  " + lines[0])
                    for l in lines.dropFirst() { ctx.print(String(repeating: " ", count: w + 2) + l) }
                }
                return .none
            })
    }

    static var saveCommand: Builtin {
        Builtin(
            name: "save", category: "session", summary: "Save the session as a script that replays it, or as a notebook (save notebook \"FILE\").",
            help: "Writes every statement that succeeded so far, after a header naming the ada version, the date (SOURCE_DATE_EPOCH when set) and the sha256 of each model file loaded. The write is atomic (a temporary file, then a rename) and refuses to replace an existing file unless overwrite=true. Replay the file with `ada run FILE`. `save notebook \"FILE.md\"` (or .ipynb) writes the session as a notebook instead: each statement a cell with its output; tables as Markdown tables, plots as SVG (files in FILE_files/ beside a Markdown notebook, inline in a Jupyter one).",
            examples: ["save \"ablation.ada\"", "save \"ablation.ada\" overwrite=true", "save notebook \"session.md\"", "save notebook \"session.ipynb\" overwrite=true"],
            params: [Param("file", .oneOf([.string, .choice(["notebook"])]), doc: "where to write the script; or the word notebook, then the notebook's file"),
                     Param("notebook", .string, default: .none, doc: "after the word notebook: the notebook file (.md or .ipynb)"),
                     Param("overwrite", .bool, default: .bool(false), doc: "replace the file if it exists", keywordOnly: true)],
            recorded: false,
            run: { a, ctx in
                let path = try a.string("file")
                guard !path.isEmpty else { throw a.error("file", "the file name is empty") }
                let it = ctx.interpreter
                if path == "notebook" {
                    guard case .string(let nb) = a["notebook"], !nb.isEmpty else {
                        throw a.error("file", "save notebook needs the notebook's file name", notes: ["save notebook \"session.md\"  (or .ipynb)"])
                    }
                    guard [".md", ".markdown", ".ipynb"].contains(where: { nb.lowercased().hasSuffix($0) }) else {
                        throw a.error("notebook", "a notebook file ends in .md (Markdown) or .ipynb (Jupyter)")
                    }
                    let title = ctx.file.name.hasPrefix("<") ? "ada session" : (ctx.file.name as NSString).lastPathComponent
                    let n: Int
                    do {
                        n = try ctx.host.saveNotebook(to: nb, title: title, overwrite: try a.bool("overwrite"))
                    } catch let e as BuiltinError {
                        throw a.error("notebook", e.message, notes: e.notes)
                    }
                    ctx.print("saved \(n) cell\(n == 1 ? "" : "s") to \(nb)")
                    return .none
                }
                if a.isGiven("notebook") { throw a.error("notebook", "a second file name goes with the word notebook: save notebook \"FILE.md\"") }
                let text = SessionWriter.render(history: it.state.history, models: it.state.modelFiles, pinned: it.pinned)
                try writeSession(text, to: path, overwrite: try a.bool("overwrite"))
                let n = it.state.history.count
                ctx.print("saved \(n) statement\(n == 1 ? "" : "s") to \(path)")
                return .none
            })
    }

    static var varsCommand: Builtin {
        Builtin(
            name: "vars", category: "session", summary: "A table of the variables defined in this session.",
            examples: ["vars"], returns: "a table (name, type, value)", recorded: false,
            run: { _, ctx in
                var t = Table(columns: ["name", "type", "value"])
                for (k, v) in ctx.interpreter.state.globals.sorted(by: { $0.key < $1.key }) {
                    var s = v.summary
                    if case .function(.user(let f)) = v { s = "fn " + f.usage }
                    if s.count > 60 { s = String(s.prefix(59)) + "…" }
                    t.rows.append([.string(k), .string(v.typeName == "command" ? "fn" : v.typeName), .string(s)])
                }
                return .object(TableValue(t))
            })
    }
}

extension SessionLibrary {
    static var memoryCommand: Builtin {
        Builtin(
            name: "memory", category: "session", summary: "Show or set the memory budget for materialized blocks.",
            help: "The budget bounds the Float32 blocks a long command keeps (evaluate keeps each block's dequantized layers while they fit, dropping the least recently used). memory shows the budget in force and where it comes from: `setting` (set with memory in this session), `ADA_MEMORY` (the environment variable) or `default` (a quarter of physical memory). memory \"2G\" sets it for the rest of the session (K, M, G: powers of 1024; a number is bytes); memory \"default\" drops the setting. A statement that fails puts the previous setting back, and a saved session replays the call.",
            examples: ["memory", "memory \"2G\"", "memory 536870912", "(memory).bytes", "memory \"default\""],
            params: [Param("size", .oneOf([.string, .int]), default: .none, doc: "bytes, a size (\"512M\", \"2G\") or \"default\"; none: only show it")],
            returns: "a record {bytes, size, source}",
            run: { a, ctx in
                let it = ctx.interpreter
                switch a["size"] {
                case .string(let s) where s.trimmingCharacters(in: .whitespaces).lowercased() == "default":
                    it.setSetting("memory", nil)
                case .string(let s):
                    guard let b = MemoryBudget.parse(s) else {
                        throw a.error("size", "'\(s)' is not a size: write bytes, or a whole number with K, M or G (\"512M\", \"2G\")")
                    }
                    it.setSetting("memory", .int(b))
                case .none: break
                default:
                    let b = try a.int("size", min: 1)
                    it.setSetting("memory", .int(b))
                }
                if a.isGiven("size") {
                    let apply = { (s: [String: Value]) in MemoryBudget.override = s["memory"]?.integer }
                    apply(it.state.settings)
                    it.settingsRestored = apply
                }
                let (bytes, source) = MemoryBudget.current
                return .record(Record([("bytes", .int(bytes)), ("size", .string(sizeText(bytes))), ("source", .string(source.rawValue))]))
            })
    }
}

/// `2 GiB`, `1.5 MiB`, `512 bytes`.
func sizeText(_ b: Int) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where b >= 1 << shift {
        let v = Double(b) / Double(1 << shift)
        return (v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)) + " " + unit
    }
    return "\(b) byte\(b == 1 ? "" : "s")"
}

/// Writes a saved session atomically (a temporary file, then a rename); refuses to replace
/// an existing file unless `overwrite`. Errors point at the `file` argument.
func writeSession(_ text: String, to path: String, overwrite: Bool) throws {
    let fm = FileManager.default
    let dir = (path as NSString).deletingLastPathComponent
    var isDir: ObjCBool = false
    if !dir.isEmpty, !(fm.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
        throw BuiltinError("no such folder '\(dir)'", argument: "file")
    }
    if fm.fileExists(atPath: path, isDirectory: &isDir) {
        if isDir.boolValue { throw BuiltinError("'\(path)' is a folder", argument: "file") }
        if !overwrite {
            throw BuiltinError("'\(path)' exists; not overwriting it", argument: "file",
                               notes: ["to replace it: save \(renderString(path)) overwrite=true"])
        }
    }
    do { try AtomicFile.write(Data(text.utf8), to: path, overwrite: overwrite) } catch let e as ModelFileError {
        throw BuiltinError(e.description, argument: "file",
                           notes: e.message.contains("exists") ? ["to replace it: save \(renderString(path)) overwrite=true"] : [])
    }
}
