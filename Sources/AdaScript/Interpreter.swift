import AdaTensor
import Foundation

/// A function defined with `fn`.
public final class UserFunction {
    public let name: String
    public let params: [FunctionParam]
    let body: [Stmt]
    let file: SourceFile
    let range: SourceRange

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
}

/// Limits that keep runaway scripts (and the fuzz tests) in bounds.
public struct InterpreterLimits {
    public var maxCallDepth = 200
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
    /// Standard output (results, `print`); text includes its newlines.
    public var output: (String) -> Void = { s in FileHandle.standardOutput.write(Data(s.utf8)) }
    /// Standard error (notes).
    public var errorOutput: (String) -> Void = { s in FileHandle.standardError.write(Data(s.utf8)) }
    /// Progress of long commands (label, done, total); nil: not shown.
    public var progress: ((String, Int, Int) -> Void)?
    public var style = DisplayStyle.plain
    /// Names fixed by `ada run --set NAME=VALUE`: top-level assignments to them are skipped.
    public private(set) var pinned: [(String, String)] = []
    /// The cancel flag checked at safe points (the process-wide ^C flag by default).
    public var cancellation: CancelFlag = Cancellation.shared
    /// Per-session caches for builtins (tokenized texts…). Not rolled back; never user-visible.
    public var caches: [String: Any] = [:]
    /// The session as notebook cells (what `save notebook` and `ada run --notebook` write).
    public var notebook = NotebookRecorder()
    /// When the builtin running now was called (monotonic seconds), for progress rates.
    public private(set) var commandStart: Double = 0

    var frames: [[String: Value]] = []
    var files: [SourceFile] = []
    var steps = 0

    public init(registry: Registry = .standard()) {
        self.registry = registry
    }

    public var globals: [String: Value] { state.globals }

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
        let saved = state
        steps = 0
        frames = []
        files = [program.file]
        defer { files = [] }
        notebook.begin()
        do {
            if cancellation.isRequested { throw interrupted(s.range) }
            if case .expr(let e) = s.kind {
                let v = try eval(e)
                if show, !isNone(v) { self.show(v) }
            } else {
                _ = try exec(s, top: true)
            }
            if record && isRecorded(s) {
                notebook.commit(source: statementSource(s, in: program), markdown: leadingComments(s, in: program))
            } else {
                notebook.drop()
            }
            if record && isRecorded(s) {
                var text = program.text(of: s)
                if case .assign(let name, _, _, _) = s.kind, pinned.contains(where: { $0.0 == name }) {
                    text = "# skipped: \(name) was set on the command line\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
                }
                state.history.append(text)
            }
            return nil
        } catch let e as AdaError {
            state = saved
            notebook.fail(source: statementSource(s, in: program), markdown: leadingComments(s, in: program), error: e.render(color: false))
            return e
        } catch is CancellationError {
            state = saved
            let e = interrupted(s.range)
            notebook.fail(source: statementSource(s, in: program), markdown: leadingComments(s, in: program), error: e.render(color: false))
            return e
        } catch {
            state = saved
            let e = AdaError(.runtime, "\(error)", file: program.file, range: s.range)
            notebook.fail(source: statementSource(s, in: program), markdown: leadingComments(s, in: program), error: e.render(color: false))
            return e
        }
    }

    /// Writes text to standard output and records it in the notebook cell of the statement.
    public func emit(_ text: String) {
        output(text)
        notebook.text(text)
    }

    /// Shows a value as an expression statement does: its terminal view on standard output,
    /// its parts (text, tables, plots) in the notebook.
    public func show(_ v: Value) {
        output(v.outputs(style).map { $0.render(style) }.joined(separator: "\n") + "\n")
        notebook.value(v)
    }

    /// Evaluates a source and returns the value of its last statement when that is an
    /// expression (none otherwise). Nothing is shown; errors are thrown.
    public func evaluate(_ text: String, name: String = "<eval>") throws -> Value {
        let program = try parse(SourceFile(name: name, text: text))
        var last = Value.none
        for s in program.statements {
            if case .expr(let e) = s.kind {
                let saved = state
                files = [program.file]
                frames = []
                defer { files = [] }
                do { last = try eval(e) } catch { state = saved; throw error }
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

    // MARK: Expressions

    func eval(_ e: Expr) throws -> Value {
        switch e.kind {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .name(let n):
            guard let v = lookup(n) else { throw unknownName(n, e.range) }
            if case .function(let c) = v { return try call(c, args: [], nameRange: e.range, callRange: e.range) }
            return v
        case .list(let xs): return .list(try xs.map(eval))
        case .record(let fs):
            return .record(Record(try fs.map { ($0.key, try eval($0.value)) }))
        case .unary(let op, let x):
            let v = try eval(x)
            switch op {
            case .not: return .bool(!v.truthy)
            case .neg:
                switch v {
                case .number(let n): return .number(-n)
                case .object(let o as TensorValue): return .object(TensorValue(o.tensor.map { -$0 }))
                default: throw fail("cannot negate \(v.typeWithArticle)", e.range)
                }
            }
        case .binary(let op, let l, let r):
            if op == .and {
                guard try eval(l).truthy else { return .bool(false) }
                return .bool(try eval(r).truthy)
            }
            if op == .or {
                if try eval(l).truthy { return .bool(true) }
                return .bool(try eval(r).truthy)
            }
            return try binary(op, try eval(l), try eval(r), e.range, r.range)
        case .call(let name, let nr, let args, _):
            guard let v = lookup(name) else {
                let commands = registry.order + state.globals.compactMap { k, v in if case .function = v { return k } else { return nil } }
                var notes: [String] = []
                if closestName(to: name, in: commands) == nil { notes.append("'help' lists the commands") }
                throw fail("unknown command '\(name)'\(didYouMean(name, commands))", nr, notes: notes)
            }
            guard case .function(let c) = v else {
                var notes: [String] = []
                if args.count == 1, args[0].label == nil, case .string = args[0].value.kind, case .object = v {
                    notes.append("to index it, write \(name)[\(file.slice(args[0].value.range.offset, args[0].value.range.end))] with no space")
                } else if let a = args.first, a.label == nil, case .unary(.neg, _) = a.value.kind {
                    notes.append("for subtraction, put spaces on both sides of '-'")
                } else if case .number = args.first?.value.kind, args.first?.label == nil, case .number = v {
                    notes.append("for subtraction, put spaces on both sides of '-'")
                }
                throw fail("'\(name)' is \(v.typeWithArticle), not a command", nr, notes: notes)
            }
            return try call(c, args: args, nameRange: nr, callRange: e.range)
        case .index(let base, let items):
            let b = try eval(base)
            var keys: [IndexKey] = []
            for it in items {
                switch it {
                case .single(let x): keys.append(.value(try eval(x)))
                case .slice(let lo, let hi, let r):
                    func bound(_ x: Expr?) throws -> Int? {
                        guard let x = x else { return nil }
                        let v = try eval(x)
                        if case .none = v { return nil }
                        guard let i = v.integer else { throw fail("slice bounds are integers, not \(v.typeWithArticle)", x.range) }
                        return i
                    }
                    _ = r
                    keys.append(.slice(try bound(lo), try bound(hi)))
                }
            }
            return try index(b, keys, e.range, base.range)
        case .field(let base, let name, let fr):
            let b = try eval(base)
            switch b {
            case .record(let r):
                guard let v = r[name] else {
                    throw fail("no field '\(name)' in this record\(didYouMean(name, r.keys))", fr,
                               notes: ["fields: " + r.keys.joined(separator: ", ")])
                }
                return v
            case .object(let o):
                guard let v = o.field(name) else {
                    let fields = o.fieldNames
                    throw fail("\(withArticle(o.typeName)) has no field '\(name)'\(didYouMean(name, fields))", fr,
                               notes: fields.isEmpty ? [] : ["fields: " + fields.joined(separator: ", ")])
                }
                return v
            default:
                throw fail("\(b.typeWithArticle) has no fields", fr)
            }
        }
    }

    func unknownName(_ n: String, _ r: SourceRange) -> AdaError {
        fail("unknown name '\(n)'\(didYouMean(n, visibleNames()))", r)
    }

    func index(_ b: Value, _ keys: [IndexKey], _ r: SourceRange, _ br: SourceRange) throws -> Value {
        func single() throws -> IndexKey {
            guard keys.count == 1 else { throw fail("\(b.typeWithArticle) takes one index, got \(keys.count)", r) }
            return keys[0]
        }
        func position(_ v: Value, count: Int) throws -> Int {
            guard let i = v.integer else { throw fail("an index is an integer, not \(v.typeWithArticle)", r) }
            let j = i < 0 ? i + count : i
            guard j >= 0 && j < count else { throw fail("index \(i) out of range (length \(count))", r) }
            return j
        }
        switch b {
        case .list(let l):
            switch try single() {
            case .value(let v): return l[try position(v, count: l.count)]
            case .slice(let a, let c): return .list(Array(l[clampSlice(a, c, count: l.count)]))
            }
        case .string(let s):
            let chars = Array(s)
            switch try single() {
            case .value(let v): return .string(String(chars[try position(v, count: chars.count)]))
            case .slice(let a, let c): return .string(String(chars[clampSlice(a, c, count: chars.count)]))
            }
        case .record(let rec):
            guard case .value(.string(let k)) = try single() else { throw fail("a record is indexed by a field name (a string)", r) }
            guard let v = rec[k] else { throw fail("no field '\(k)' in this record\(didYouMean(k, rec.keys))", r) }
            return v
        case .object(let o):
            do {
                guard let v = try o.index(keys) else { throw fail("\(withArticle(o.typeName)) cannot be indexed", r) }
                return v
            } catch let e as BuiltinError {
                throw fail(e.message, r, notes: e.notes)
            } catch let e as TensorError {
                throw fail(e.message, r)
            }
        default:
            throw fail("\(b.typeWithArticle) cannot be indexed", r)
        }
    }

    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, _ r: SourceRange, _ rr: SourceRange) throws -> Value {
        switch op {
        case .eq: return .bool(a == b)
        case .ne: return .bool(a != b)
        case .lt, .le, .gt, .ge:
            let c: Int
            switch (a, b) {
            case (.number(let x), .number(let y)):
                if x.isNaN || y.isNaN { return .bool(false) }
                c = x < y ? -1 : (x > y ? 1 : 0)
            case (.string(let x), .string(let y)): c = x < y ? -1 : (x > y ? 1 : 0)
            default: throw fail("cannot compare \(a.typeWithArticle) with \(b.typeWithArticle)", r)
            }
            switch op {
            case .lt: return .bool(c < 0)
            case .le: return .bool(c <= 0)
            case .gt: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        default: break
        }
        switch (a, b) {
        case (.number(let x), .number(let y)):
            switch op {
            case .add: return .number(x + y)
            case .sub: return .number(x - y)
            case .mul: return .number(x * y)
            case .div:
                if y == 0 { throw fail("division by zero", rr) }
                return .number(x / y)
            case .mod:
                if y == 0 { throw fail("division by zero", rr) }
                let m = x.truncatingRemainder(dividingBy: y)
                return .number(m != 0 && (m < 0) != (y < 0) ? m + y : m)
            default: break
            }
        case (.string(let x), .string(let y)) where op == .add:
            if x.utf8.count + y.utf8.count > limits.maxListLength { throw fail("string too long (more than \(limits.maxListLength) bytes)", r) }
            return .string(x + y)
        case (.list(let x), .list(let y)) where op == .add:
            if x.count + y.count > limits.maxListLength { throw fail("list too long (more than \(limits.maxListLength) items)", r) }
            return .list(x + y)
        case (.object(let x as TensorValue), _), (_, .object(let x as TensorValue)):
            _ = x
            return try tensorArithmetic(op, a, b, r)
        default: break
        }
        var notes: [String] = []
        if op == .add, case .string = a { notes.append("to join a string and a number, write str(x): \"ppl \" + str(p)") }
        if op == .add, case .string = b { notes.append("to join a string and a number, write str(x): str(p) + \" ppl\"") }
        throw fail("cannot apply '\(op.rawValue)' to \(a.typeWithArticle) and \(b.typeWithArticle)", r, notes: notes)
    }

    func tensorArithmetic(_ op: BinaryOp, _ a: Value, _ b: Value, _ r: SourceRange) throws -> Value {
        func f(_ x: Float, _ y: Float) -> Float {
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .mul: return x * y
            case .div: return x / y
            default: return x.truncatingRemainder(dividingBy: y)
            }
        }
        switch (a, b) {
        case (.object(let x as TensorValue), .object(let y as TensorValue)):
            guard x.tensor.shape == y.tensor.shape else {
                throw fail("shape mismatch: \(x.tensor.shape) \(op.rawValue) \(y.tensor.shape)", r)
            }
            var out = x.tensor
            for i in 0..<out.data.count { out.data[i] = f(out.data[i], y.tensor.data[i]) }
            return .object(TensorValue(out))
        case (.object(let x as TensorValue), .number(let y)):
            let s = Float(y)
            return .object(TensorValue(x.tensor.map { f($0, s) }))
        case (.number(let x), .object(let y as TensorValue)):
            let s = Float(x)
            return .object(TensorValue(y.tensor.map { f(s, $0) }))
        default:
            throw fail("cannot apply '\(op.rawValue)' to \(a.typeWithArticle) and \(b.typeWithArticle)", r)
        }
    }

    // MARK: Calls

    func call(_ c: Callable, args: [Argument], nameRange: SourceRange, callRange: SourceRange) throws -> Value {
        switch c {
        case .builtin(let b): return try callBuiltin(b, args: args, nameRange: nameRange, callRange: callRange)
        case .user(let f): return try callUser(f, args: args, nameRange: nameRange)
        }
    }

    /// Evaluates an argument for a parameter: bare words are taken literally for `.name`
    /// parameters, and for `.choice` ones when they are not variables.
    func evalArgument(_ e: Expr, _ p: Param?) throws -> Value {
        if let p = p, case .name(let n) = e.kind, !n.hasPrefix(" ") {
            if p.type.takesName { return .string(n) }
            if p.type.choices.contains(n), lookupVariable(n) == nil { return .string(n) }
            if lookup(n) == nil, !p.type.choices.isEmpty {
                throw fail("unknown name '\(n)'\(didYouMean(n, p.type.choices + visibleNames()))", e.range,
                           notes: ["'\(p.name)' is \(p.type.description)"])
            }
        }
        if let p = p, case .list(let xs) = e.kind, !p.type.choices.isEmpty {
            return .list(try xs.map { x in
                if case .name(let n) = x.kind, p.type.choices.contains(n), lookupVariable(n) == nil { return .string(n) }
                return try eval(x)
            })
        }
        return try eval(e)
    }

    func callBuiltin(_ b: Builtin, args: [Argument], nameRange: SourceRange, callRange: SourceRange) throws -> Value {
        var values: [String: Value] = [:]
        var ranges: [String: SourceRange] = [:]
        var rest: [Value] = []
        var restRanges: [SourceRange] = []
        let positional = b.params.filter { !$0.keywordOnly }
        var next = 0
        let usage = "usage: \(b.usage)"
        for a in args {
            let p: Param
            if let label = a.label {
                guard let q = b.params.first(where: { $0.name == label }) else {
                    let names = b.params.map(\.name)
                    let what = names.isEmpty ? "takes no named arguments" : "has no argument '\(label)'\(didYouMean(label, names))"
                    throw fail("\(b.name) \(what)", a.labelRange ?? a.range, notes: [usage])
                }
                p = q
            } else {
                while next < positional.count && values[positional[next].name] != nil { next += 1 }
                if next < positional.count {
                    p = positional[next]
                    next += 1
                } else if let r = b.rest {
                    let v = try evalArgument(a.value, r)
                    guard r.type.accepts(v) else {
                        throw fail("\(b.name): '\(r.name)' must be \(r.type.description), got \(describe(v))", a.value.range, notes: [usage])
                    }
                    rest.append(v)
                    restRanges.append(a.range)
                    continue
                } else {
                    let n = positional.count
                    throw fail("\(b.name) takes \(n == 0 ? "no" : "at most \(n)") positional argument\(n == 1 ? "" : "s")", a.range, notes: [usage])
                }
            }
            guard values[p.name] == nil else { throw fail("\(b.name): argument '\(p.name)' given twice", a.range, notes: [usage]) }
            let v = try evalArgument(a.value, p)
            let noneOK = p.defaultValue.map { if case .none = $0 { return true } else { return false } } ?? false
            if !(noneOK && isNone(v)) && !p.type.accepts(v) {
                var notes = [usage]
                if case .choice(let c) = p.type, let s = v.string, let m = closestName(to: s, in: c) {
                    notes.insert("did you mean '\(m)'?", at: 0)
                }
                throw fail("\(b.name): '\(p.name)' must be \(p.type.description), got \(describe(v))", a.value.range, notes: notes)
            }
            values[p.name] = v
            ranges[p.name] = a.range
        }
        for p in b.params where values[p.name] == nil {
            guard let d = p.defaultValue else {
                throw fail("\(b.name): missing argument '\(p.name)' (\(p.type.description))", nameRange, notes: [usage])
            }
            values[p.name] = d
        }
        let arguments = Arguments(builtin: b, values: values, given: Set(ranges.keys), rest: rest)
        let ctx = Context(interpreter: self, file: file, range: nameRange)
        commandStart = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        do {
            let v = try b.run(arguments, ctx)
            // ^C while a command without safe points ran: stop here, not at the next statement.
            if cancellation.isRequested { throw interrupted(nameRange) }
            return v
        } catch let e as AdaError {
            throw e
        } catch let e as BuiltinError {
            var r = callRange
            if let a = e.argument, let ar = ranges[a] { r = ar }
            else if let a = e.argument, a.hasPrefix("#"), let i = Int(a.dropFirst()), i < restRanges.count { r = restRanges[i] }
            else { r = nameRange }
            throw fail("\(b.name): \(e.message)", r, notes: e.notes)
        } catch is CancellationError {
            throw interrupted(nameRange)
        } catch {
            throw fail("\(b.name): \(error)", nameRange)
        }
    }

    /// "a string \"8\"", "a number 3.5", "a model".
    func describe(_ v: Value) -> String {
        switch v {
        case .number, .string, .bool:
            let s = v.summary
            return s.count <= 30 ? "\(v.typeWithArticle) \(s)" : v.typeWithArticle
        default: return v.typeWithArticle
        }
    }

    func callUser(_ f: UserFunction, args: [Argument], nameRange: SourceRange) throws -> Value {
        guard frames.count < limits.maxCallDepth else {
            throw fail("calls nested too deeply (more than \(limits.maxCallDepth)): is '\(f.name)' recursing without end?", nameRange)
        }
        var locals: [String: Value] = [:]
        var next = 0
        let usage = "usage: \(f.usage)"
        for a in args {
            let name: String
            if let label = a.label {
                guard f.params.contains(where: { $0.name == label }) else {
                    throw fail("\(f.name) has no parameter '\(label)'\(didYouMean(label, f.params.map(\.name)))", a.labelRange ?? a.range, notes: [usage])
                }
                name = label
            } else {
                while next < f.params.count && locals[f.params[next].name] != nil { next += 1 }
                guard next < f.params.count else {
                    throw fail("\(f.name) takes \(f.params.count) argument\(f.params.count == 1 ? "" : "s")", a.range, notes: [usage])
                }
                name = f.params[next].name
                next += 1
            }
            guard locals[name] == nil else { throw fail("\(f.name): argument '\(name)' given twice", a.range) }
            locals[name] = try eval(a.value)
        }
        for p in f.params where locals[p.name] == nil && p.defaultValue == nil {
            throw fail("\(f.name): missing argument '\(p.name)'", nameRange, notes: [usage])
        }
        let caller = file
        files.append(f.file)
        defer { files.removeLast() }
        frames.append(locals)
        defer { frames.removeLast() }
        do {
            for p in f.params where frames[frames.count - 1][p.name] == nil {
                frames[frames.count - 1][p.name] = try eval(p.defaultValue!)
            }
            for st in f.body {
                switch try exec(st) {
                case .normal: continue
                case .returned(let v): return v
                case .breakLoop, .continueLoop: return .none
                }
            }
        } catch var e as AdaError where e.kind == .runtime {
            // Where the function was called from (the innermost calls first, at most 5).
            if e.notes.filter({ $0.hasPrefix("in '") }).count < 5 {
                e.notes.append("in '\(f.name)', called at \(caller.name):\(nameRange.line):\(nameRange.column)")
            }
            throw e
        }
        return .none
    }

    // MARK: For builtins

    /// Records that a model file was loaded (for the header of saved sessions) and makes it
    /// the default model of `text` and `tokens`.
    public func noteModelLoaded(name: String, path: String, value: Value) {
        let f = LoadedModelFile(name: name, path: path)
        if !state.modelFiles.contains(f) { state.modelFiles.append(f) }
        state.lastModel = value
    }

    /// Reads a variable (locals first, then globals).
    public func variable(_ name: String) -> Value? { lookupVariable(name) }

    /// Calls a builtin or user function by name with evaluated arguments (for builtins that
    /// take a command to run, and for tests).
    public func call(_ name: String, _ positional: [Value], _ named: [String: Value] = [:]) throws -> Value {
        let file = SourceFile(name: "<call>", text: name)
        let r = SourceRange(offset: 0, length: name.count, line: 1, column: 1)
        var holder = Interpreter.Holder()
        var args: [Argument] = []
        for v in positional { args.append(Argument(label: nil, labelRange: nil, value: holder.put(v, r))) }
        for (k, v) in named.sorted(by: { $0.key < $1.key }) { args.append(Argument(label: k, labelRange: r, value: holder.put(v, r))) }
        files.append(file)
        defer { files.removeLast() }
        let saved = frames
        frames.append(holder.values)
        defer { frames = saved }
        guard let c = lookup(name), case .function(let callable) = c else { throw unknownName(name, r) }
        return try call(callable, args: args, nameRange: r, callRange: r)
    }

    struct Holder {
        var values: [String: Value] = [:]
        mutating func put(_ v: Value, _ r: SourceRange) -> Expr {
            let n = " arg\(values.count)"
            values[n] = v
            return Expr(.name(n), r)
        }
    }
}

extension Parser {
    /// Whether `s` can name a variable.
    public static func isValidName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, Lexer.isIdentStart(f), s.unicodeScalars.allSatisfy(Lexer.isIdentContinue) else { return false }
        return Keyword(rawValue: s) == nil
    }
}
