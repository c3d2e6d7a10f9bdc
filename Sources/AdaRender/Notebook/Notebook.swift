import AdaLang
import AdaLibrary
import AdaModel
import Foundation

/// One output of a notebook cell.
public enum NotebookOutput {
    /// Text written to standard output (`print`).
    case stdout(String)
    /// A value shown by an expression statement or `show`: its parts (text, tables, plots).
    case value([RichOutput])
    /// An error message (the cell that stopped a script).
    case error(String)
}

/// One statement of the session with what it wrote, and the comment text before it.
public struct NotebookCell {
    /// Comment lines before the statement (a script's prose), as Markdown; nil when none.
    public var markdown: String?
    public var source: String
    public var outputs: [NotebookOutput]
}

/// Records each top-level statement and its outputs as notebook cells. Only statements that
/// succeeded become cells (as in saved sessions); the statement that failed is kept apart
/// (`failed`) so `ada run --notebook` can show where a script stopped. Progress bars never
/// reach it: they go to standard error, outside the interpreter's output.
public final class NotebookRecorder {
    public private(set) var cells: [NotebookCell] = []
    /// The last statement that failed, with its outputs and the error.
    public private(set) var failed: NotebookCell?
    var pending: [NotebookOutput] = []
    var active = false
    /// The style text outputs are recorded in (no colour; Unicode; 80 columns).
    public var style = DisplayStyle(color: false, maxRows: 20, width: 80, unicode: true)

    public init() {}

    /// A top-level statement starts.
    public func begin() {
        pending = []
        active = true
    }

    /// The running statement wrote text to standard output.
    public func text(_ s: String) {
        guard active else { return }
        if case .stdout(let t)? = pending.last {
            pending[pending.count - 1] = .stdout(t + s)
        } else {
            pending.append(.stdout(s))
        }
    }

    /// The running statement showed a value (its parts, rendered in `style`).
    public func value(_ parts: [RichOutput]) {
        guard active else { return }
        pending.append(.value(parts))
    }

    /// The running statement ended: a recorded one becomes a cell, a failed one is kept
    /// apart with its error, an unrecorded one (help, history, save) is dropped.
    public func end(_ e: StatementEnd) {
        defer {
            pending = []
            active = false
        }
        guard active else { return }
        switch e {
        case .recorded(let source, let markdown):
            cells.append(NotebookCell(markdown: markdown, source: source, outputs: pending))
        case .failed(let source, let markdown, let error):
            failed = NotebookCell(markdown: markdown, source: source, outputs: pending + [.error(error.render(color: false))])
        case .unrecorded:
            break
        }
    }

    /// The cells, followed by the failed statement when `includeFailure` (and there is one).
    public func allCells(includeFailure: Bool) -> [NotebookCell] {
        includeFailure ? cells + (failed.map { [$0] } ?? []) : cells
    }
}

// MARK: - Writing notebooks

/// Notebook files: Markdown (plots as SVG files in a folder beside it) or Jupyter
/// (nbformat 4.5, outputs as text/plain, text/markdown and image/svg+xml).
public enum NotebookWriter {
    public enum Format: String { case markdown, ipynb }

    /// The format a file name asks for: `.ipynb`, or Markdown for `.md`/`.markdown`.
    public static func format(of path: String) -> Format? {
        let ext = (path as NSString).pathExtension.lowercased()
        if ext == "ipynb" { return .ipynb }
        if ext == "md" || ext == "markdown" { return .markdown }
        return nil
    }

    /// Writes the cells to `path`. The notebook file is written atomically (a temporary file,
    /// then a rename); so is each SVG file of a Markdown notebook, in the folder
    /// `NAME_files/` beside it, where stale `plot-*.svg` files are removed. An existing
    /// notebook is replaced only when `overwrite`. Returns the files written.
    @discardableResult
    public static func write(_ cells: [NotebookCell], to path: String, title: String, command: String?,
                             overwrite: Bool) throws -> [String] {
        guard let fmt = format(of: path) else {
            throw BuiltinError("a notebook file ends in .md (Markdown) or .ipynb (Jupyter), not '\((path as NSString).lastPathComponent)'")
        }
        let fm = FileManager.default
        let dir = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { throw BuiltinError("no such folder '\(dir)'") }
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw BuiltinError("'\(path)' is a folder") }
            if !overwrite {
                throw BuiltinError("'\(path)' exists; not overwriting it", notes: ["to replace it: save notebook \(renderString(path)) overwrite=true"])
            }
        }
        switch fmt {
        case .ipynb:
            try writeTextFile(ipynb(cells, title: title, command: command), to: path)
            return [path]
        case .markdown:
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let folderName = stem + "_files"
            let folder = (dir as NSString).appendingPathComponent(folderName)
            var svgs: [(String, String)] = []
            let text = markdown(cells, title: title, command: command) { svg in
                let name = String(format: "plot-%02d.svg", svgs.count + 1)
                svgs.append((name, svg))
                return folderName + "/" + name
            }
            var written: [String] = []
            if !svgs.isEmpty {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (name, svg) in svgs {
                    let p = (folder as NSString).appendingPathComponent(name)
                    try writeTextFile(svg, to: p)
                    written.append(p)
                }
            }
            // Plots of an earlier version of this notebook that are no longer used.
            let keep = Set(svgs.map(\.0))
            if let old = try? fm.contentsOfDirectory(atPath: folder) {
                for f in old where f.hasPrefix("plot-") && f.hasSuffix(".svg") && !keep.contains(f) {
                    try? fm.removeItem(atPath: (folder as NSString).appendingPathComponent(f))
                }
                if svgs.isEmpty, (try? fm.contentsOfDirectory(atPath: folder))?.isEmpty == true { try? fm.removeItem(atPath: folder) }
            }
            try writeTextFile(text, to: path)
            return written + [path]
        }
    }

    static func fence(_ text: String, _ lang: String) -> String {
        var ticks = "```"
        while text.contains(ticks) { ticks += "`" }
        return ticks + lang + "\n" + text + (text.hasSuffix("\n") ? "" : "\n") + ticks
    }

    /// The Markdown notebook; `plotFile` stores an SVG and returns its relative path.
    public static func markdown(_ cells: [NotebookCell], title: String, command: String?, plotFile: (String) -> String) -> String {
        var out: [String] = ["# \(title)", ""]
        out.append("*A notebook written by ada \(AdaVersion.string)" + (command.map { ": `\($0)`" } ?? "") + ". Each statement is followed by what it showed.*")
        for cell in cells {
            if let md = cell.markdown { out.append(""); out.append(md) }
            out.append("")
            out.append(fence(cell.source, "ada"))
            for o in cell.outputs {
                switch o {
                case .stdout(let s):
                    out.append("")
                    out.append(fence(s.hasSuffix("\n") ? String(s.dropLast()) : s, "text"))
                case .error(let e):
                    out.append("")
                    out.append(fence(e.hasSuffix("\n") ? String(e.dropLast()) : e, "text"))
                case .value(let parts):
                    var text: [String] = []
                    func flush() {
                        if !text.isEmpty { out.append(""); out.append(fence(text.joined(separator: "\n"), "text")); text = [] }
                    }
                    for p in parts {
                        switch p {
                        case .text(let s): text.append(s)
                        case .table(let t): flush(); out.append(""); out.append(t.markdown(maxRows: 20))
                        case .graphic(let pl as PlotValue):
                            flush()
                            let file = plotFile(pl.svg())
                            out.append("")
                            let alt = (pl.title.isEmpty ? pl.kind.rawValue + " plot" : pl.title)
                                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "[", with: "\\[").replacingOccurrences(of: "]", with: "\\]")
                            out.append("![\(alt)](\(file))")
                        case .graphic(let g):
                            flush(); out.append(""); out.append(g.caption)
                        }
                    }
                    flush()
                }
            }
        }
        out.append("")
        return out.joined(separator: "\n")
    }

    /// The Jupyter notebook (nbformat 4.5) as JSON text, keys sorted, one-space indent.
    public static func ipynb(_ cells: [NotebookCell], title: String, command: String?) -> String {
        func lines(_ s: String) -> JSON {
            var parts = s.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) + "\n" }
            if let last = parts.last { parts[parts.count - 1] = String(last.dropLast()) }
            if parts.last == "" { parts.removeLast() }
            return .array(parts.map { .string($0) })
        }
        var out: [JSON] = []
        var n = 0
        func id() -> JSON { .string("cell-\(out.count + 1)") }
        out.append(.object([("cell_type", .string("markdown")), ("id", id()), ("metadata", .object([])),
                            ("source", lines("# \(title)\n\n*A notebook written by ada \(AdaVersion.string)" + (command.map { ": `\($0)`" } ?? "") + ".*"))]))
        for cell in cells {
            if let md = cell.markdown {
                out.append(.object([("cell_type", .string("markdown")), ("id", id()), ("metadata", .object([])), ("source", lines(md))]))
            }
            n += 1
            var outputs: [JSON] = []
            for o in cell.outputs {
                switch o {
                case .stdout(let s):
                    outputs.append(.object([("name", .string("stdout")), ("output_type", .string("stream")), ("text", lines(s))]))
                case .error(let e):
                    outputs.append(.object([("name", .string("stderr")), ("output_type", .string("stream")), ("text", lines(e))]))
                case .value(let parts):
                    let style = DisplayStyle(color: false, maxRows: 20, width: 80, unicode: true)
                    let nonPlots = parts.filter { if case .graphic = $0 { return false } else { return true } }
                    if !nonPlots.isEmpty {
                        var data: [(String, JSON)] = [("text/plain", lines(Rendering.text(of: nonPlots, style: style)))]
                        if nonPlots.contains(where: { if case .table = $0 { return true } else { return false } }) {
                            let md = nonPlots.map { p -> String in
                                switch p {
                                case .table(let t): return t.markdown(maxRows: 20)
                                case .text(let s): return fence(s, "text")
                                case .graphic: return ""
                                }
                            }.joined(separator: "\n\n")
                            data.append(("text/markdown", lines(md)))
                        }
                        outputs.append(.object([("data", .object(data)), ("execution_count", .number(n)), ("metadata", .object([])),
                                                ("output_type", .string("execute_result"))]))
                    }
                    for case .graphic(let pl as PlotValue) in parts {
                        outputs.append(.object([("data", .object([("image/svg+xml", lines(pl.svg())), ("text/plain", lines(pl.render(style)))])),
                                                ("metadata", .object([])), ("output_type", .string("display_data"))]))
                    }
                }
            }
            out.append(.object([("cell_type", .string("code")), ("execution_count", .number(n)), ("id", id()), ("metadata", .object([])),
                                ("outputs", .array(outputs)), ("source", lines(cell.source))]))
        }
        let doc = JSON.object([
            ("cells", .array(out)),
            ("metadata", .object([
                ("kernelspec", .object([("display_name", .string("ada")), ("language", .string("ada")), ("name", .string("ada"))])),
                ("language_info", .object([("file_extension", .string(".ada")), ("name", .string("ada"))])),
            ])),
            ("nbformat", .number(4)), ("nbformat_minor", .number(5)),
        ])
        return doc.serialized() + "\n"
    }
}

/// A JSON value with ordered objects, serialised with sorted keys and a one-space indent
/// (as Jupyter writes notebooks), so files are byte-for-byte reproducible.
indirect enum JSON {
    case string(String)
    case number(Int)
    case array([JSON])
    case object([(String, JSON)])

    func serialized(_ indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent + 1), end = String(repeating: " ", count: indent)
        switch self {
        case .string(let s): return JSON.quote(s)
        case .number(let n): return String(n)
        case .array(let a):
            if a.isEmpty { return "[]" }
            return "[\n" + a.map { pad + $0.serialized(indent + 1) }.joined(separator: ",\n") + "\n" + end + "]"
        case .object(let o):
            if o.isEmpty { return "{}" }
            return "{\n" + o.sorted { $0.0 < $1.0 }.map { pad + JSON.quote($0.0) + ": " + $0.1.serialized(indent + 1) }.joined(separator: ",\n") + "\n" + end + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
