import Foundation

extension Interpreter {
    // MARK: Expressions

    func eval(_ e: Expr) throws -> Value {
        evalDepth += 1
        defer { evalDepth -= 1 }
        if evalDepth > limits.maxEvalDepth {
            throw fail("evaluation nested too deeply (more than \(limits.maxEvalDepth) levels of expressions and calls)", e.range)
        }
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
                case .object(let o):
                    if let n = try engineCall(e.range, { try o.negated() }) { return n }
                    throw fail("cannot negate \(v.typeWithArticle)", e.range)
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
            return try evalCall(name, nr, args, e.range)
        case .index(let base, let items):
            return try index(try eval(base), try indexKeys(items), e.range, base.range)
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

    /// `name args…`: a builtin, a user function, or a helpful error for a value used as one.
    func evalCall(_ name: String, _ nr: SourceRange, _ args: [Argument], _ range: SourceRange) throws -> Value {
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
        return try call(c, args: args, nameRange: nr, callRange: range)
    }

    /// The evaluated keys of `x[…]`.
    func indexKeys(_ items: [IndexItem]) throws -> [IndexKey] {
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
        return keys
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
            } catch let e as AdaError {
                throw e
            } catch {
                throw fail("\(error)", r)
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
        case (.object(let x), _):
            if let v = try engineCall(r, { try x.arithmetic(op, b, swapped: false) }) { return v }
            if case .object(let y) = b, let v = try engineCall(r, { try y.arithmetic(op, a, swapped: true) }) { return v }
        case (_, .object(let y)):
            if let v = try engineCall(r, { try y.arithmetic(op, a, swapped: true) }) { return v }
        default: break
        }
        var notes: [String] = []
        if op == .add, case .string = a { notes.append("to join a string and a number, write str(x): \"ppl \" + str(p)") }
        if op == .add, case .string = b { notes.append("to join a string and a number, write str(x): str(p) + \" ppl\"") }
        throw fail("cannot apply '\(op.rawValue)' to \(a.typeWithArticle) and \(b.typeWithArticle)", r, notes: notes)
    }

    /// Runs an engine value's operator, turning its errors into errors at `r`.
    func engineCall(_ r: SourceRange, _ body: () throws -> Value?) throws -> Value? {
        do { return try body() } catch let e as BuiltinError {
            throw fail(e.message, r, notes: e.notes)
        } catch let e as AdaError {
            throw e
        } catch {
            throw fail("\(error)", r)
        }
    }

}
