import Foundation

/// How a top-level statement ended, as the host hears of it (a notebook records the
/// statements that succeeded as cells and keeps the one that failed apart).
public enum StatementEnd {
    /// It succeeded and is part of the session (saved scripts and notebooks show it).
    case recorded(source: String, markdown: String?)
    /// It succeeded but does not change what the session computes (`help`, `history`, `save`).
    case unrecorded
    /// It failed with this error; every variable is as it was before it.
    case failed(source: String, markdown: String?, error: AdaError)
}

/// What the interpreter needs from the program that embeds it: where text goes, how values
/// become text, progress, statement boundaries, and writing the files only the host can
/// make (notebooks, images). The language itself renders nothing but plain text; the
/// shell's host (AdaRender's `StandardHost`) draws tables and plots, records notebooks and
/// shows progress bars. In the manner of LispKit's `ContextDelegate`.
public protocol InterpreterHost: AnyObject {
    /// Standard output: results and `print`; the text includes its newlines.
    func write(_ text: String)
    /// Standard error: notes and warnings, never results.
    func writeError(_ text: String)
    /// Progress of a long command: `done` of `total` steps of the phase `label`.
    func progress(_ label: String, _ done: Int, _ total: Int)
    /// Text a running command produces piece by piece (`generate`'s tokens as they are
    /// written), shown at once by an interactive host; not the command's result, which
    /// follows as usual. The default shows nothing (scripts print only the result).
    func stream(_ text: String)
    /// The text of a value's parts (tables aligned, plots drawn) in `style`.
    func text(of parts: [RichOutput], style: DisplayStyle) -> String
    /// A top-level statement starts.
    func statementBegan()
    /// The running statement wrote `text` to standard output.
    func statementWrote(_ text: String)
    /// The running statement showed a value (an expression statement or `show`).
    func statementShowed(_ parts: [RichOutput])
    /// The running statement ended.
    func statementEnded(_ end: StatementEnd)
    /// Writes the session's notebook (`save notebook FILE`); returns the number of cells.
    func saveNotebook(to path: String, title: String, overwrite: Bool) throws -> Int
    /// Writes a graphic (a plot) to an image file (`plot … file=`), by its extension.
    func saveGraphic(_ graphic: any Graphic, to path: String) throws
}

extension InterpreterHost {
    public func progress(_ label: String, _ done: Int, _ total: Int) {}
    public func stream(_ text: String) {}
    public func statementBegan() {}
    public func statementWrote(_ text: String) {}
    public func statementShowed(_ parts: [RichOutput]) {}
    public func statementEnded(_ end: StatementEnd) {}
    public func saveNotebook(to path: String, title: String, overwrite: Bool) throws -> Int {
        throw BuiltinError("this host does not write notebooks")
    }
    public func saveGraphic(_ graphic: any Graphic, to path: String) throws {
        throw BuiltinError("this host does not write images")
    }
}

/// A value part that only a renderer can draw (a plot): the language carries it from the
/// builtin that made it to the host, which draws it as characters or SVG.
public protocol Graphic: AnyObject {
    /// One line naming the graphic ("histogram of blk.3.ffn_down (4096 values)").
    var caption: String { get }
}

/// A host for embedding and tests: text goes to the given closures; tables, plots and
/// lists are shown by their one-line summaries (no renderer); nothing is recorded.
public final class PlainHost: InterpreterHost {
    public var output: (String) -> Void
    public var errorOutput: (String) -> Void
    public init(output: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) },
                errorOutput: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.output = output
        self.errorOutput = errorOutput
    }
    public func write(_ text: String) { output(text) }
    public func writeError(_ text: String) { errorOutput(text) }
    public func text(of parts: [RichOutput], style: DisplayStyle) -> String {
        parts.map { part -> String in
            switch part {
            case .text(let s): return s
            case .table(let t): return t.plainText
            case .graphic(let g): return g.caption
            }
        }.joined(separator: "\n")
    }
}
