import Foundation

/// What a running builtin can reach: output, progress, cancellation, the interpreter.
public final class Context {
    public unowned let interpreter: Interpreter
    public let file: SourceFile
    /// Where the call is (its command name).
    public let range: SourceRange

    init(interpreter: Interpreter, file: SourceFile, range: SourceRange) {
        self.interpreter = interpreter
        self.file = file
        self.range = range
    }

    /// Writes a line to standard output.
    public func print(_ line: String) { interpreter.emit(line + "\n") }
    /// Writes a line to standard error (notes and warnings, never results).
    public func note(_ line: String) { interpreter.host.writeError(line + "\n") }
    /// Reports progress (the shell shows it on a terminal; scripts stay quiet).
    public func progress(_ label: String, _ done: Int, _ total: Int) { interpreter.host.progress(label, done, total) }
    /// The program the interpreter runs in (notebooks, images, rendering).
    public var host: InterpreterHost { interpreter.host }
    public var isCancelled: Bool { interpreter.cancellation.isRequested }
    /// Throws `CancellationError` after ^C; call at safe points of long work.
    public func checkCancelled() throws { if isCancelled { throw CancellationError() } }
    /// For engine calls that take a `shouldStop` closure.
    public var shouldStop: () -> Bool {
        let flag = interpreter.cancellation
        return { flag.isRequested }
    }
    public var style: DisplayStyle { interpreter.style }
}

/// A cancel flag: set by ^C (or a test), checked by the interpreter at safe points
/// (statements, loop iterations) and by long-running builtins (between windows, layers…).
public final class CancelFlag: @unchecked Sendable {
    nonisolated(unsafe) var flag: Int32 = 0
    public init() {}
    /// Async-signal-safe: a single store.
    public func request() { flag = 1 }
    public func reset() { flag = 0 }
    @inline(never)
    public var isRequested: Bool { flag != 0 }
}

/// ^C handling: the shell's SIGINT handler sets the process-wide flag, which interpreters
/// use unless given their own (`Interpreter.cancellation`).
public enum Cancellation {
    public static let shared = CancelFlag()
    public static func request() { shared.request() }
    public static func reset() { shared.reset() }
    public static var isRequested: Bool { shared.isRequested }
}
