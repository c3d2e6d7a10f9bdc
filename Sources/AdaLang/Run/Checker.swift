/// Static checks of a parsed program without running it (`ada check`, and `ada run` before
/// it starts): unknown names and commands, unknown or missing arguments of builtins,
/// literal arguments of the wrong type, assignments to builtin names. It reports only what
/// is certainly wrong: a name assigned anywhere earlier in the text (or anywhere in an
/// enclosing loop's body, or anywhere at the top level when used in a function) is known.
public struct Checker {
    let registry: Registry
    let file: SourceFile
    var errors: [AdaError] = []
    var defined: Set<String>
    /// Top-level functions with their parameters.
    var functions: [String: [FunctionParam]] = [:]
    var globalsAnywhere: Set<String> = []

    static let maxErrors = 20

    /// Returns the problems found (empty when none). `predefined` are names defined before
    /// the program runs (`--set`, or a REPL session's variables).
    public static func check(_ program: Program, registry: Registry, predefined: Set<String> = []) -> [AdaError] {
        var c = Checker(registry: registry, file: program.file, defined: predefined)
        for s in program.statements {
            if case .function(let name, _, let params, _) = s.kind { c.functions[name] = params }
            c.globalsAnywhere.formUnion(Checker.assigned(in: [s]))
        }
        c.globalsAnywhere.formUnion(predefined)
        for s in program.statements where c.errors.count < maxErrors { c.statement(s, inFunction: false) }
        return c.errors
    }

    /// Names assigned (or loop variables, or functions defined) anywhere in statements.
    static func assigned(in stmts: [Stmt]) -> Set<String> {
        var out = Set<String>()
        for s in stmts {
            switch s.kind {
            case .assign(let n, _, _, _): out.insert(n)
            case .forIn(let n, _, _, let body): out.insert(n); out.formUnion(assigned(in: body))
            case .ifElse(let bs, let e): for b in bs { out.formUnion(assigned(in: b.body)) }; out.formUnion(assigned(in: e ?? []))
            case .function(let n, _, _, _): out.insert(n)
            default: break
            }
        }
        return out
    }

    mutating func error(_ msg: String, _ r: SourceRange, notes: [String] = []) {
        if errors.count < Checker.maxErrors { errors.append(AdaError(.runtime, msg, file: file, range: r, notes: notes)) }
    }

    var known: [String] { Array(defined) + registry.order + registry.constantOrder }

    mutating func statement(_ s: Stmt, inFunction: Bool) {
        switch s.kind {
        case .expr(let e): expr(e)
        case .assign(let n, let nr, let op, let v):
            expr(v)
            if registry[n] != nil && !defined.contains(n) {
                error("cannot assign to '\(n)': it is a builtin command", nr, notes: ["choose another name"])
            } else if registry.constants[n] != nil {
                error("cannot assign to '\(n)': it is a constant", nr, notes: ["choose another name"])
            }
            if op != nil && !defined.contains(n) { error("unknown variable '\(n)'\(didYouMean(n, known))", nr) }
            defined.insert(n)
        case .forIn(let n, let nr, let it, let body):
            expr(it)
            if registry[n] != nil || registry.constants[n] != nil {
                error("cannot use '\(n)' as a loop variable: it is a builtin name", nr, notes: ["choose another name"])
            }
            defined.insert(n)
            defined.formUnion(Checker.assigned(in: body))
            for b in body { statement(b, inFunction: inFunction) }
        case .ifElse(let branches, let elseBody):
            for (c, body) in branches {
                expr(c)
                for b in body { statement(b, inFunction: inFunction) }
            }
            for b in elseBody ?? [] { statement(b, inFunction: inFunction) }
        case .function(let name, let nr, let params, let body):
            if registry[name] != nil { error("cannot define '\(name)': it is a builtin command", nr, notes: ["choose another name"]) }
            defined.insert(name)
            let saved = defined
            defined.formUnion(globalsAnywhere)
            for p in params {
                if registry[p.name] != nil || registry.constants[p.name] != nil {
                    error("cannot use '\(p.name)' as a parameter name: it is a builtin name", p.range, notes: ["choose another name"])
                }
                if let d = p.defaultValue { expr(d) }
                defined.insert(p.name)
            }
            defined.formUnion(Checker.assigned(in: body))
            for b in body { statement(b, inFunction: true) }
            defined = saved
        case .returnValue(let e): if let e = e { expr(e) }
        case .breakLoop, .continueLoop: break
        }
    }

    func isKnown(_ n: String) -> Bool {
        defined.contains(n) || registry[n] != nil || registry.constants[n] != nil
    }

    mutating func expr(_ e: Expr) {
        switch e.kind {
        case .number, .string, .bool, .none: break
        case .name(let n):
            if !defined.contains(n), let b = registry[n] {
                builtinCall(b, e.range, [])  // a bare command name calls it with no arguments
            } else if !isKnown(n) {
                if functions[n] != nil { error("'\(n)' is used before its 'fn' definition", e.range) } else {
                    error("unknown name '\(n)'\(didYouMean(n, known))", e.range)
                }
            }
        case .list(let xs): xs.forEach { expr($0) }
        case .record(let fs): fs.forEach { expr($0.value) }
        case .unary(_, let x): expr(x)
        case .binary(_, let l, let r): expr(l); expr(r)
        case .index(let b, let items):
            expr(b)
            for it in items {
                switch it {
                case .single(let x): expr(x)
                case .slice(let lo, let hi, _): if let l = lo { expr(l) }; if let h = hi { expr(h) }
                }
            }
        case .field(let b, _, _): expr(b)
        case .call(let name, let nr, let args, _):
            if defined.contains(name) {
                if let params = functions[name] { userCall(name, params, args) } else { args.forEach { expr($0.value) } }
            } else if let b = registry[name] {
                builtinCall(b, nr, args)
            } else {
                if functions[name] != nil { error("'\(name)' is used before its 'fn' definition", nr) } else {
                    let commands = registry.order + functions.keys
                    error("unknown command '\(name)'\(didYouMean(name, commands))", nr,
                          notes: closestName(to: name, in: commands) == nil ? ["'help' lists the commands"] : [])
                }
                args.forEach { expr($0.value) }
            }
        }
    }

    mutating func userCall(_ name: String, _ params: [FunctionParam], _ args: [Argument]) {
        var positional = 0
        for a in args {
            if let l = a.label {
                if !params.contains(where: { $0.name == l }) {
                    error("\(name) has no parameter '\(l)'\(didYouMean(l, params.map(\.name)))", a.labelRange ?? a.range)
                }
            } else {
                positional += 1
                if positional > params.count {
                    error("\(name) takes \(params.count) argument\(params.count == 1 ? "" : "s")", a.range)
                }
            }
            expr(a.value)
        }
    }

    mutating func builtinCall(_ b: Builtin, _ nr: SourceRange, _ args: [Argument]) {
        let usage = "usage: \(b.usage)"
        let positional = b.params.filter { !$0.keywordOnly }
        var given = Set<String>()
        var next = 0
        for a in args {
            var p: Param?
            if let l = a.label {
                p = b.params.first { $0.name == l }
                if p == nil, b.namedRest != nil { expr(a.value); continue }
                if p == nil {
                    let names = b.params.map(\.name)
                    let what = names.isEmpty ? "takes no named arguments" : "has no argument '\(l)'\(didYouMean(l, names))"
                    error("\(b.name) \(what)", a.labelRange ?? a.range, notes: [usage])
                }
            } else {
                while next < positional.count && given.contains(positional[next].name) { next += 1 }
                if next < positional.count { p = positional[next]; next += 1 } else if let r = b.rest { p = r } else {
                    let n = positional.count
                    error("\(b.name) takes \(n == 0 ? "no" : "at most \(n)") positional argument\(n == 1 ? "" : "s")", a.range, notes: [usage])
                }
            }
            if let p = p, p.name != b.rest?.name {
                if given.contains(p.name) { error("\(b.name): argument '\(p.name)' given twice", a.range, notes: [usage]) }
                given.insert(p.name)
            }
            argument(a.value, p, b, usage)
        }
        for p in b.params where p.isRequired && !given.contains(p.name) {
            error("\(b.name): missing argument '\(p.name)' (\(p.type.description))", nr, notes: [usage])
        }
    }

    mutating func argument(_ e: Expr, _ p: Param?, _ b: Builtin, _ usage: String) {
        guard let p = p else { expr(e); return }
        // A bare word, or a dotted one (`llama.cpp`) whose first name is no variable.
        if let (n, head) = e.dottedWord {
            if case .name = e.kind, p.type.takesName { return }
            if p.type.choices.contains(n) && !defined.contains(head) { return }
            if !isKnown(head) && !p.type.choices.isEmpty {
                error("unknown name '\(n)'\(didYouMean(n, p.type.choices + known))", e.range, notes: ["'\(p.name)' is \(p.type.description)"])
                return
            }
        }
        if case .list(let xs) = e.kind, !p.type.choices.isEmpty {
            for x in xs {
                if case .name(let n) = x.kind, p.type.choices.contains(n), !defined.contains(n) { continue }
                expr(x)
            }
            return
        }
        expr(e)
        // Literal arguments can be type-checked now.
        if let v = literalValue(e) {
            let noneOK: Bool = { if case .none? = p.defaultValue { return true } else { return false } }()
            if case .none = v, noneOK { return }
            if !p.type.accepts(v) {
                let shown: String
                switch v {
                case .number, .string, .bool: shown = v.summary.count <= 30 ? "\(v.typeWithArticle) \(v.summary)" : v.typeWithArticle
                default: shown = v.typeWithArticle
                }
                error("\(b.name): '\(p.name)' must be \(p.type.description), got \(shown)", e.range, notes: [usage])
            }
        }
    }

    func literalValue(_ e: Expr) -> Value? {
        switch e.kind {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return Value.none
        case .list(let xs):
            var out: [Value] = []
            for x in xs { guard let v = literalValue(x) else { return nil }; out.append(v) }
            return .list(out)
        default: return nil
        }
    }
}
