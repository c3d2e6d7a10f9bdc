import Foundation

/// A function defined with `fn`.
public final class UserFunction {
    public let name: String
    public let params: [FunctionParam]
    let body: [Stmt]
    public let file: SourceFile
    public let range: SourceRange

    init(name: String, params: [FunctionParam], body: [Stmt], file: SourceFile, range: SourceRange) {
        self.name = name
        self.params = params
        self.body = body
        self.file = file
        self.range = range
    }

    public var usage: String {
        ([name] + params.map { $0.defaultValue == nil ? $0.name.uppercased() : "[\($0.name)=…]" }).joined(separator: " ")
    }
}

/// A model file loaded during the session (named in the header of saved sessions).
public struct LoadedModelFile: Equatable {
    public var name: String
    public var path: String
    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// Everything a failed top-level statement must leave as it was.
public struct InterpreterState {
    public var globals: [String: Value] = [:]
    /// Statements that succeeded, in order (what `save` writes and `history` lists).
    public var history: [String] = []
    public var modelFiles: [LoadedModelFile] = []
    /// The model most recently loaded (the default tokenizer of `text` and `tokens`).
    public var lastModel: Value?
    /// Session settings made by builtins (`memory`): restored with the variables.
    public var settings: [String: Value] = [:]
}

extension InterpreterState {
    /// What a failed statement restores. The history only grows during a statement, so its
    /// length is kept rather than a copy (a copy per statement made long scripts quadratic).
    public struct Checkpoint {
        let globals: [String: Value]
        let historyCount: Int
        let modelFiles: [LoadedModelFile]
        let lastModel: Value?
        let settings: [String: Value]
    }

    func checkpoint() -> Checkpoint {
        Checkpoint(globals: globals, historyCount: history.count, modelFiles: modelFiles, lastModel: lastModel, settings: settings)
    }

    mutating func restore(_ c: Checkpoint) {
        globals = c.globals
        if history.count > c.historyCount { history.removeSubrange(c.historyCount...) }
        modelFiles = c.modelFiles
        lastModel = c.lastModel
        settings = c.settings
    }
}

/// Limits that keep runaway scripts (and the fuzz tests) in bounds.
public struct InterpreterLimits {
    public var maxCallDepth = 200
    /// Levels of expression evaluation at once, across calls (each a native stack frame: the
    /// bound keeps the stack of the main thread safe whatever the script).
    public var maxEvalDepth = 4000
    /// Statements and loop iterations per top-level statement (nil: unlimited).
    public var maxSteps: Int? = nil
    /// Largest tensor the tensor builtins create (elements).
    public var maxElements = 1 << 28
    /// Longest list `range` and list concatenation build.
    public var maxListLength = 10_000_000
    public init() {}
}

/// Runs ada programs. Each top-level statement is a transaction: when it fails, variables
/// (and the session's history) are restored to what they were before it.
public final class Interpreter {
    public let registry: Registry
    public internal(set) var state = InterpreterState()
    public var limits = InterpreterLimits()
    /// Where output goes, how values become text, notebooks and progress (see `InterpreterHost`).
    public var host: InterpreterHost
    public var style = DisplayStyle.plain
    /// Names fixed by `ada run --set NAME=VALUE`: top-level assignments to them are skipped.
    public internal(set) var pinned: [(String, String)] = []
    /// The cancel flag checked at safe points (the process-wide ^C flag by default).
    public var cancellation: CancelFlag = Cancellation.shared
    /// Per-session caches for builtins (tokenized texts…). Not rolled back; never user-visible.
    public var caches: [String: Any] = [:]
    /// When the builtin running now was called (monotonic seconds), for progress rates.
    public internal(set) var commandStart: Double = 0
    /// Called with the settings after a failed statement restored them, so that a builtin
    /// that mirrors a setting outside the interpreter (the engine's memory budget) puts it back.
    public var settingsRestored: (([String: Value]) -> Void)?

    var frames: [[String: Value]] = []
    var files: [SourceFile] = []
    var steps = 0
    var evalDepth = 0

    public init(registry: Registry, host: InterpreterHost = PlainHost()) {
        self.registry = registry
        self.host = host
    }

    public var globals: [String: Value] { state.globals }

    /// Sets (nil: removes) a session setting; a failed statement restores it.
    public func setSetting(_ name: String, _ value: Value?) { state.settings[name] = value }

    // MARK: Running

    /// Parses a source; syntax errors come back as `AdaError` of kind `.syntax`.
    public func parse(_ file: SourceFile) throws -> Program {
        try Parser.parse(file)
    }

    /// Parses and runs a source, statement by statement, stopping at the first error.
    /// Expression statements at the top level show their values when `show` is set.
    /// Returns nil on success.
    @discardableResult
    public func run(_ file: SourceFile, show: Bool = true, record: Bool = true) -> AdaError? {
        let program: Program
        do { program = try parse(file) } catch let e as AdaError { return e } catch { return AdaError(.syntax, "\(error)") }
        return execute(program, show: show, record: record)
    }

    /// Runs parsed statements; see `run`.
    @discardableResult
    public func execute(_ program: Program, show: Bool = true, record: Bool = true) -> AdaError? {
        for s in program.statements {
            if let e = executeTopLevel(s, in: program, show: show, record: record) { return e }
        }
        return nil
    }

    /// Runs one top-level statement as a transaction.
    public func executeTopLevel(_ s: Stmt, in program: Program, show: Bool = true, record: Bool = true) -> AdaError? {
        let saved = state.checkpoint()
        steps = 0
        evalDepth = 0
        frames = []
        files = [program.file]
        defer { files = [] }
        host.statementBegan()
        do {
            if cancellation.isRequested { throw interrupted(s.range) }
            if case .expr(let e) = s.kind {
                let v = try eval(e)
                if show, !isNone(v) { self.show(v) }
            } else {
                _ = try exec(s, top: true)
            }
            if record && isRecorded(s) {
                host.statementEnded(.recorded(source: program.statementSource(s), markdown: program.leadingComments(s)))
            } else {
                host.statementEnded(.unrecorded)
            }
            if record && isRecorded(s) {
                var text = program.text(of: s)
                if case .assign(let name, _, _, _) = s.kind, pinned.contains(where: { $0.0 == name }) {
                    text = "# skipped: \(name) was set on the command line\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
                }
                state.history.append(text)
            }
            return nil
        } catch {
            state.restore(saved)
            settingsRestored?(state.settings)
            let e: AdaError
            switch error {
            case let a as AdaError: e = a
            case is CancellationError: e = interrupted(s.range)
            default: e = AdaError(.runtime, "\(error)", file: program.file, range: s.range)
            }
            host.statementEnded(.failed(source: program.statementSource(s), markdown: program.leadingComments(s), error: e))
            return e
        }
    }

    /// Writes text to standard output and records it in the notebook cell of the statement.
    public func emit(_ text: String) {
        host.write(text)
        host.statementWrote(text)
    }

    /// Shows a value as an expression statement does: its terminal view on standard output,
    /// its parts (text, tables, plots) in the notebook.
    public func show(_ v: Value) {
        let parts = v.outputs(style)
        host.write(host.text(of: parts, style: style) + "\n")
        host.statementShowed(parts)
    }

    /// What `print` writes for a value: strings without quotes, engine values in full (every
    /// row), everything else as its summary.
    public func printed(_ v: Value) -> String {
        switch v {
        case .string(let s): return s
        case .object(let o): return host.text(of: o.outputs(.full), style: .full)
        default: return v.summary
        }
    }

    /// Evaluates a source and returns the value of its last statement when that is an
    /// expression (none otherwise). Nothing is shown; errors are thrown.
    public func evaluate(_ text: String, name: String = "<eval>") throws -> Value {
        let program = try parse(SourceFile(name: name, text: text))
        var last = Value.none
        for s in program.statements {
            if case .expr(let e) = s.kind {
                let saved = state.checkpoint()
                files = [program.file]
                frames = []
                defer { files = [] }
                do { last = try eval(e) } catch {
                    state.restore(saved)
                    settingsRestored?(state.settings)
                    throw error
                }
                state.history.append(program.text(of: s))
            } else {
                if let err = executeTopLevel(s, in: program, show: false) { throw err }
                last = .none
            }
        }
        return last
    }

    /// Defines a variable as `ada run --set NAME=VALUE` does: VALUE is read as an ada
    /// literal (number, string, true/false/none, list, record) or else taken as a string.
    /// The script's own top-level assignments to NAME are then skipped.
    public func set(_ name: String, literal: String) throws {
        guard Parser.isValidName(name) else { throw AdaError(.syntax, "--set: '\(name)' is not a valid name") }
        if registry[name] != nil || registry.constants[name] != nil {
            throw AdaError(.syntax, "--set: '\(name)' is a builtin name")
        }
        var value = Value.string(literal)
        if let e = try? Parser.parseExpression(SourceFile(name: "<--set>", text: literal)), isLiteral(e) {
            files = [SourceFile(name: "<--set>", text: literal)]
            defer { files = [] }
            if let v = try? eval(e) { value = v }
        }
        state.globals[name] = value
        pinned.removeAll { $0.0 == name }
        pinned.append((name, value.summary))
    }

    func isLiteral(_ e: Expr) -> Bool {
        switch e.kind {
        case .number, .string, .bool, .none: return true
        case .unary(.neg, let x): return isLiteral(x)
        case .list(let xs): return xs.allSatisfy(isLiteral)
        case .record(let fs): return fs.allSatisfy { isLiteral($0.value) }
        default: return false
        }
    }

    func isNone(_ v: Value) -> Bool { if case .none = v { return true } else { return false } }

    /// Statements that only call non-recorded builtins (help, history, save) are left out
    /// of the session.
    func isRecorded(_ s: Stmt) -> Bool {
        guard case .expr(let e) = s.kind else { return true }
        var name: String?
        if case .call(let n, _, _, _) = e.kind { name = n }
        if case .name(let n) = e.kind { name = n }
        if let n = name, lookupVariable(n) == nil, let b = registry[n] { return b.recorded }
        return true
    }

    var file: SourceFile { files.last ?? SourceFile(name: "<none>", text: "") }

    func fail(_ msg: String, _ r: SourceRange, notes: [String] = []) -> AdaError {
        AdaError(.runtime, msg, file: file, range: r, notes: notes)
    }

    func interrupted(_ r: SourceRange) -> AdaError {
        cancellation.reset()
        return AdaError(.interrupted, "stopped by ^C; every variable is as it was before this statement", file: file, range: r)
    }

    func tick(_ r: SourceRange) throws {
        steps += 1
        if cancellation.isRequested { throw interrupted(r) }
        if let m = limits.maxSteps, steps > m { throw fail("step limit reached (\(m) statements and loop iterations)", r) }
    }

    // MARK: Statements

    enum Flow { case normal, breakLoop, continueLoop, returned(Value) }

    func exec(_ s: Stmt, top: Bool = false) throws -> Flow {
        try tick(s.range)
        switch s.kind {
        case .expr(let e):
            _ = try eval(e)
        case .assign(let name, let nr, let op, let valueExpr):
            if registry[name] != nil && lookupVariable(name) == nil {
                throw fail("cannot assign to '\(name)': it is a builtin command", nr, notes: ["choose another name"])
            }
            if registry.constants[name] != nil {
                throw fail("cannot assign to '\(name)': it is a constant", nr, notes: ["choose another name"])
            }
            var v = try eval(valueExpr)
            if let op = op {
                guard let old = lookupVariable(name) else {
                    throw fail("unknown variable '\(name)'\(didYouMean(name, visibleNames()))", nr)
                }
                v = try binary(op, old, v, s.range, valueExpr.range)
            }
            if frames.isEmpty && pinned.contains(where: { $0.0 == name }) { break }
            assign(name, v)
        case .forIn(let name, let nr, let iterExpr, let body):
            if registry[name] != nil || registry.constants[name] != nil {
                throw fail("cannot use '\(name)' as a loop variable: it is a builtin name", nr, notes: ["choose another name"])
            }
            let it = try eval(iterExpr)
            let items: [Value]
            switch it {
            case .list(let l): items = l
            case .string(let str): items = str.map { .string(String($0)) }
            case .object(let o):
                guard let e = o.elements() else { throw fail("cannot loop over \(it.typeWithArticle)", iterExpr.range) }
                items = e
            default: throw fail("cannot loop over \(it.typeWithArticle)", iterExpr.range, notes: ["loop over a list, a string, a table or range N"])
            }
            loop: for item in items {
                try tick(s.range)
                assign(name, item)
                for st in body {
                    switch try exec(st) {
                    case .normal: continue
                    case .breakLoop: break loop
                    case .continueLoop: continue loop
                    case .returned(let v): return .returned(v)
                    }
                }
            }
        case .ifElse(let branches, let elseBody):
            for (cond, body) in branches {
                if try eval(cond).truthy { return try execBlock(body) }
            }
            if let b = elseBody { return try execBlock(b) }
        case .function(let name, let nr, let params, let body):
            if registry[name] != nil {
                throw fail("cannot define '\(name)': it is a builtin command", nr, notes: ["choose another name"])
            }
            if registry.constants[name] != nil { throw fail("cannot define '\(name)': it is a constant", nr) }
            if let p = params.first(where: { registry[$0.name] != nil || registry.constants[$0.name] != nil }) {
                throw fail("cannot use '\(p.name)' as a parameter name: it is a builtin name", p.range, notes: ["choose another name"])
            }
            state.globals[name] = .function(.user(UserFunction(name: name, params: params, body: body, file: file, range: s.range)))
        case .returnValue(let e):
            return .returned(try e.map(eval) ?? .none)
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        }
        return .normal
    }

    func execBlock(_ body: [Stmt]) throws -> Flow {
        for st in body {
            let f = try exec(st)
            if case .normal = f { continue }
            return f
        }
        return .normal
    }

    func assign(_ name: String, _ v: Value) {
        if frames.isEmpty { state.globals[name] = v } else { frames[frames.count - 1][name] = v }
    }

    /// A variable or user function visible here (not builtins or constants).
    func lookupVariable(_ name: String) -> Value? {
        if let f = frames.last, let v = f[name] { return v }
        return state.globals[name]
    }

    func lookup(_ name: String) -> Value? {
        if let v = lookupVariable(name) { return v }
        if let c = registry.constants[name] { return c.value }
        if let b = registry[name] { return .function(.builtin(b)) }
        return nil
    }

    /// Names a reference could mean (for suggestions).
    func visibleNames() -> [String] {
        var names = Array(state.globals.keys) + registry.order + registry.constantOrder
        if let f = frames.last { names += f.keys }
        return names
    }

}
