import Foundation

extension Interpreter {
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
        // A bare word, or a dotted one (`llama.cpp`) whose first name is no variable.
        if let p = p, let (n, head) = e.dottedWord {
            if case .name = e.kind, p.type.takesName { return .string(n) }
            if p.type.choices.contains(n), lookupVariable(head) == nil { return .string(n) }
            if lookup(head) == nil, !p.type.choices.isEmpty {
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
        var named: [(name: String, value: Value)] = []
        let positional = b.params.filter { !$0.keywordOnly }
        var next = 0
        let usage = "usage: \(b.usage)"
        for a in args {
            let p: Param
            if let label = a.label, !b.params.contains(where: { $0.name == label }), let r = b.namedRest {
                guard !named.contains(where: { $0.name == label }) else { throw fail("\(b.name): argument '\(label)' given twice", a.range, notes: [usage]) }
                let v = try evalArgument(a.value, r)
                guard r.type.accepts(v) else {
                    throw fail("\(b.name): '\(label)' must be \(r.type.description), got \(describe(v))", a.value.range, notes: [usage])
                }
                named.append((label, v))
                ranges[label] = a.range
                continue
            }
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
        let arguments = Arguments(builtin: b, values: values, given: Set(ranges.keys), rest: rest, named: named)
        return try runBuiltin(b, arguments, ranges: ranges, restRanges: restRanges, nameRange: nameRange)
    }

    /// Runs a builtin with its bound arguments; a `BuiltinError` naming an argument is placed
    /// under it (`ranges`; `#i` is the i-th extra positional argument).
    func runBuiltin(_ b: Builtin, _ arguments: Arguments, ranges: [String: SourceRange], restRanges: [SourceRange],
                    nameRange: SourceRange) throws -> Value {
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
            let r: SourceRange
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
