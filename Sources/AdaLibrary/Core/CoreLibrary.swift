import AdaLang
import Foundation

/// The language's basics (print, help, len, range, round, format, str, type, append, keys, table, sort, math) and the session commands (history, save, vars).
public enum CoreLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(printCommand)
        r.register(helpCommand)
        r.register(lenCommand)
        r.register(rangeCommand)
        r.register(roundCommand)
        r.register(formatCommand)
        r.register(strCommand)
        r.register(typeCommand)
        r.register(appendCommand)
        r.register(keysCommand)
        r.register(tableCommand)
        r.register(sortCommand)

        for (name, doc, f) in [("abs", "absolute value", { (x: Double) in Swift.abs(x) }),
                               ("sqrt", "square root", { (x: Double) in x.squareRoot() }),
                               ("exp", "exponential", { (x: Double) in Foundation.exp(x) }),
                               ("log", "natural logarithm", { (x: Double) in Foundation.log(x) })] as [(String, String, (Double) -> Double)] {
            r.register(Builtin(
                name: name, category: "math", summary: "The \(doc) of a number, or of each element of a tensor.",
                examples: ["\(name) 2", "\(name) (rand 2 3 seed=1)"],
                params: [Param("value", .oneOf([.number, .tensor]), doc: "a number or a tensor")],
                returns: "a number or a tensor",
                run: { a, _ in
                    if case .object(let t as TensorValue) = a["value"] {
                        return .object(TensorValue(t.tensor.map { Float(f(Double($0))) }))
                    }
                    return .number(f(try a.number("value")))
                }))
        }
    }

    static var printCommand: Builtin {
        Builtin(
            name: "print", category: "basics", summary: "Write values to standard output, separated by spaces.",
            help: "Strings are written without quotes; other values as they are shown in lists, and tables and tensors in full. Commas between the values are optional.",
            examples: ["print \"ppl\" r.ppl", "print dim, (perplexity q \"austen:pride\" windows=8).ppl"],
            rest: Param("values", .any, doc: "the values to write"),
            run: { a, ctx in
                ctx.print(a.rest.map { ctx.interpreter.printed($0) }.joined(separator: " "))
                return .none
            })
    }

    static var helpCommand: Builtin {
        Builtin(
            name: "help", category: "basics", summary: "List the commands, or explain one command or keyword.",
            help: "Without an argument, lists every command by category. With a name (no quotes needed), shows the command's usage, arguments with their defaults, what it returns and an example.",
            examples: ["help", "help perplexity", "help for"],
            params: [Param("topic", .oneOf([.name, .string]), default: .none, doc: "a command, keyword or constant")],
            recorded: false,
            run: { a, ctx in
                if case .string(let t) = a["topic"] {
                    guard let text = helpText(topic: t, registry: ctx.interpreter.registry, interpreter: ctx.interpreter) else {
                        let names = ctx.interpreter.registry.order + keywordHelp.map(\.0) + ctx.interpreter.registry.constantOrder
                        throw a.error("topic", "no help for '\(t)'\(didYouMean(t, names))", notes: ["'help' lists the commands"])
                    }
                    ctx.print(text)
                } else {
                    ctx.print(helpOverview(ctx.interpreter.registry))
                }
                return .none
            })
    }




    static var lenCommand: Builtin {
        Builtin(
            name: "len", category: "basics", summary: "The length of a list, string, record, table, dataset or tensor.",
            help: "A tensor's length is its first dimension; a dataset's is its number of windows; a table's its number of rows.",
            examples: ["len [1, 2, 3]", "len calib"],
            params: [Param("value", .any, doc: "what to measure")], returns: "an integer",
            run: { a, _ in
                switch a["value"] {
                case .list(let l): return .int(l.count)
                case .string(let s): return .int(s.count)
                case .record(let r): return .int(r.count)
                case .object(let o):
                    if let n = o.length { return .int(n) }
                    throw a.error("value", "\(withArticle(o.typeName)) has no length")
                case let v: throw a.error("value", "\(v.typeWithArticle) has no length")
                }
            })
    }

    static var rangeCommand: Builtin {
        Builtin(
            name: "range", category: "basics", summary: "A list of integers: range N is 0…N-1; range A B is A…B-1.",
            examples: ["range 4", "range 2 5", "range 0 10 step=2", "for i in range 3 { print i }"],
            params: [Param("start", .int, doc: "the end when it is the only argument, else the first value"),
                     Param("stop", .int, default: .none, doc: "one past the last value"),
                     Param("step", .int, default: .int(1), doc: "the increment (not 0)")],
            returns: "a list of integers",
            run: { a, ctx in
                var lo = try a.int("start"), hi = 0
                if let s = try a.optionalInt("stop") { hi = s } else { hi = lo; lo = 0 }
                let step = try a.int("step")
                guard step != 0 else { throw a.error("step", "step must not be 0") }
                let count = step > 0 ? max(0, (hi - lo + step - 1) / step) : max(0, (lo - hi - step - 1) / -step)
                guard count <= ctx.interpreter.limits.maxListLength else { throw BuiltinError("range of \(count) integers is too long (limit \(ctx.interpreter.limits.maxListLength))") }
                return .list(stride(from: lo, to: hi, by: step).map { .int($0) })
            })
    }

    static var roundCommand: Builtin {
        Builtin(
            name: "round", category: "basics", summary: "Round a number to a number of decimal digits (ties to even).",
            examples: ["round 3.14159 digits=2", "round r.ppl 1"],
            params: [Param("value", .number, doc: "the number"),
                     Param("digits", .int, default: .int(0), doc: "decimal digits to keep (may be negative)")],
            returns: "a number",
            run: { a, _ in
                let x = try a.number("value")
                let d = try a.int("digits", min: -300, max: 300)
                let scale = pow(10.0, Double(d))
                let y = (x * scale).rounded(.toNearestOrEven) / scale
                return .number(y.isFinite ? y : x)
            })
    }

    static var formatCommand: Builtin {
        Builtin(
            name: "format", category: "basics", summary: "A number as a string with a fixed number of decimals.",
            examples: ["format r.ppl 2", "print \"ppl \" + format(r.ppl, 3)"],
            params: [Param("value", .number, doc: "the number"),
                     Param("digits", .int, default: .int(2), doc: "decimals (0…17)")],
            returns: "a string",
            run: { a, _ in
                .string(String(format: "%.\(try a.int("digits", min: 0, max: 17))f", try a.number("value")))
            })
    }

    static var strCommand: Builtin {
        Builtin(
            name: "str", category: "basics", summary: "A value as a string (strings are returned unchanged).",
            examples: ["str 3", "\"bits=\" + str(bits)"],
            params: [Param("value", .any, doc: "the value")], returns: "a string",
            run: { a, _ in
                if case .string = a["value"] { return a["value"] }
                return .string(a["value"].summary)
            })
    }

    static var typeCommand: Builtin {
        Builtin(
            name: "type", category: "basics", summary: "The name of a value's type.",
            examples: ["type 3", "type m"],
            params: [Param("value", .any, doc: "the value")], returns: "a string",
            run: { a, _ in .string(a["value"].typeName) })
    }

    static var appendCommand: Builtin {
        Builtin(
            name: "append", category: "basics", summary: "A new list with a value added at the end.",
            help: "Lists are values: append returns a new list and leaves its argument unchanged; assign the result.",
            examples: ["results = []", "results = append(results, {bits: 3, ppl: 25.1})"],
            params: [Param("list", .list(.any), doc: "the list"), Param("value", .any, doc: "the value to add")],
            returns: "a list",
            run: { a, _ in .list((a["list"].list ?? []) + [a["value"]]) })
    }

    static var keysCommand: Builtin {
        Builtin(
            name: "keys", category: "basics", summary: "The field names of a record.",
            examples: ["keys (perplexity m \"austen:pride\" windows=2 ctx=64)"],
            params: [Param("record", .record, doc: "the record")], returns: "a list of strings",
            run: { a, _ in
                guard case .record(let r) = a["record"] else { return .none }
                return .list(r.keys.map { .string($0) })
            })
    }

    static var tableCommand: Builtin {
        Builtin(
            name: "table", category: "basics", summary: "A table from a list of records (one row each).",
            help: "Columns are the records' fields, in the order they first appear; a missing field is none.",
            examples: ["table [{bits: 2, ppl: 80.1}, {bits: 3, ppl: 25.3}]", "rows = append(rows, {dim: dim, ppl: p})\ntable rows"],
            params: [Param("rows", .list(.record), doc: "the rows, as records")],
            returns: "a table",
            run: { a, _ in
                let recs: [Record] = (a["rows"].list ?? []).compactMap { if case .record(let r) = $0 { return r } else { return nil } }
                var cols: [String] = []
                for r in recs { for k in r.keys where !cols.contains(k) { cols.append(k) } }
                let rows = recs.map { r in cols.map { r[$0] ?? .none } }
                return .object(TableValue(Table(columns: cols, rows: rows)))
            })
    }

    static var sortCommand: Builtin {
        Builtin(
            name: "sort", category: "basics", summary: "A sorted list, or a table sorted by a column.",
            examples: ["sort [3, 1, 2]", "sort t by=\"ppl\"", "sort (layers m) by=\"in\" desc=true"],
            params: [Param("value", .oneOf([.list(.any), .table]), doc: "a list of numbers or strings, or a table"),
                     Param("by", .string, default: .none, doc: "the column to sort a table by"),
                     Param("desc", .bool, default: .bool(false), doc: "largest first", keywordOnly: true)],
            returns: "a list or a table",
            run: { a, _ in
                let desc = try a.bool("desc")
                func less(_ x: Value, _ y: Value) -> Bool? {
                    switch (x, y) {
                    case (.number(let p), .number(let q)): return p < q
                    case (.string(let p), .string(let q)): return p < q
                    case (.none, .none): return false
                    case (.none, _): return true
                    case (_, .none): return false
                    default: return nil
                    }
                }
                func sorted(_ items: [Value], key: (Value) -> Value) throws -> [Value] {
                    for (x, y) in zip(items, items.dropFirst()) where less(key(x), key(y)) == nil {
                        throw BuiltinError("cannot order \(key(x).typeWithArticle) and \(key(y).typeWithArticle)", argument: "value")
                    }
                    let idx = items.indices.sorted { i, j in
                        let (x, y) = (key(items[i]), key(items[j]))
                        if less(x, y) == true { return !desc }
                        if less(y, x) == true { return desc }
                        return i < j
                    }
                    return idx.map { items[$0] }
                }
                if case .object(let o as TableValue) = a["value"] {
                    guard case .string(let col) = a["by"] else { throw a.error("by", "sorting a table needs by=COLUMN", notes: ["columns: " + o.table.columns.joined(separator: ", ")]) }
                    guard let j = o.table.columns.firstIndex(of: col) else {
                        throw a.error("by", "no column '\(col)'\(didYouMean(col, o.table.columns))", notes: ["columns: " + o.table.columns.joined(separator: ", ")])
                    }
                    let rows = try sorted(o.table.rows.map { .list($0) }) { r in (r.list ?? [])[j] }
                    return .object(TableValue(Table(columns: o.table.columns, rows: rows.map { $0.list ?? [] }, title: o.table.title)))
                }
                if a.isGiven("by") { throw a.error("by", "by= applies to tables; a list is sorted by its values") }
                return .list(try sorted(a["value"].list ?? []) { $0 })
            })
    }
}



