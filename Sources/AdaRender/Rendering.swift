import AdaLang
import AdaLibrary
import AdaModel
import Foundation

/// Turns a value's parts into terminal text: text as it is, tables aligned to the style's
/// width, plots drawn with characters.
public enum Rendering {
    public static func text(of parts: [RichOutput], style: DisplayStyle) -> String {
        parts.map { text(of: $0, style: style) }.joined(separator: "\n")
    }

    public static func text(of part: RichOutput, style: DisplayStyle) -> String {
        switch part {
        case .text(let s): return s
        case .table(let t): return t.render(style)
        case .graphic(let g as PlotValue): return g.render(style)
        case .graphic(let g): return g.caption
        }
    }

    /// The terminal text of a value as an expression statement shows it.
    public static func text(of value: Value, style: DisplayStyle) -> String {
        text(of: value.outputs(style), style: style)
    }
}

/// Writes text to a file atomically (a temporary file beside it, then a rename), with the
/// folder checked first; errors are one line naming the file.
func writeTextFile(_ text: String, to path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    var isDir: ObjCBool = false
    if !dir.isEmpty, !(FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
        throw BuiltinError("no such folder '\(dir)'")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
        throw BuiltinError("'\(path)' is a folder")
    }
    do { try AtomicFile.write(Data(text.utf8), to: path) } catch let e as ModelFileError {
        throw BuiltinError(e.message)
    }
}

/// The host the shell and tests embed the interpreter in: text to the given closures,
/// values rendered by `Rendering`, every statement recorded as a notebook cell, progress
/// to an optional closure, and plots and notebooks written as files.
public final class StandardHost: InterpreterHost {
    public var output: (String) -> Void
    public var errorOutput: (String) -> Void
    /// Progress of long commands (label, done, total); nil: not shown.
    public var progressHandler: ((String, Int, Int) -> Void)?
    /// Where streamed text goes (`InterpreterHost.stream`); nil: not shown. The REPL sets it.
    public var streamHandler: ((String) -> Void)?
    /// The session as notebook cells (what `save notebook` and `ada run --notebook` write).
    public let notebook = NotebookRecorder()

    public init(output: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) },
                errorOutput: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.output = output
        self.errorOutput = errorOutput
    }

    public func write(_ text: String) { output(text) }
    public func writeError(_ text: String) { errorOutput(text) }
    public func progress(_ label: String, _ done: Int, _ total: Int) { progressHandler?(label, done, total) }
    public func stream(_ text: String) { streamHandler?(text) }
    public func text(of parts: [RichOutput], style: DisplayStyle) -> String { Rendering.text(of: parts, style: style) }
    public func statementBegan() { notebook.begin() }
    public func statementWrote(_ text: String) { notebook.text(text) }
    public func statementShowed(_ parts: [RichOutput]) { notebook.value(parts) }
    public func statementEnded(_ end: StatementEnd) { notebook.end(end) }

    public func saveNotebook(to path: String, title: String, overwrite: Bool) throws -> Int {
        try NotebookWriter.write(notebook.cells, to: path, title: title, command: nil, overwrite: overwrite)
        return notebook.cells.count
    }

    public func saveGraphic(_ graphic: any Graphic, to path: String) throws {
        guard let plot = graphic as? PlotValue else { throw BuiltinError("this graphic cannot be written to a file") }
        try writeTextFile(plot.svg(), to: path)
    }
}
