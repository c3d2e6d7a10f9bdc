import Foundation

/// Keywords with their one-line help (for `help` and completion).
public let keywordHelp: [(String, String, String)] = [
    ("fn", "define a function", "fn ppl_of(m, n=8) {\n  return (perplexity m \"austen:pride\" windows=n).ppl\n}"),
    ("if", "run a block when a condition holds", "if bits < 4 {\n  print \"low bits\"\n} else if bits == 4 {\n  print \"four\"\n} else {\n  print \"high\"\n}"),
    ("else", "the alternative of an if", "if x > 0 { print \"positive\" } else { print \"not positive\" }"),
    ("for", "loop over a list, a string, a table's rows or a dataset's windows", "for bits in [2, 3, 4] {\n  print bits\n}"),
    ("in", "separates a for loop's variable from what it loops over", "for x in range 3 { print x }"),
    ("return", "leave a function with a value", "fn square(x) { return x * x }"),
    ("break", "leave the innermost loop", "for x in range 10 { if x == 3 { break } }"),
    ("continue", "go to the next iteration of the innermost loop", "for x in range 5 { if x % 2 == 0 { continue }\n  print x }"),
    ("true", "the boolean true", "save \"s.ada\" overwrite=true"),
    ("false", "the boolean false", "ok = false"),
    ("none", "the absence of a value", "x = none"),
    ("and", "both conditions hold (short-circuit)", "if a > 0 and b > 0 { print \"both\" }"),
    ("or", "either condition holds (short-circuit)", "if a > 0 or b > 0 { print \"one\" }"),
    ("not", "negation", "if not done { print \"working\" }"),
]

func registerCoreBuiltins(_ r: Registry) {
    r.register(Builtin(
        name: "print", category: "basics", summary: "Write values to standard output, separated by spaces.",
        help: "Strings are written without quotes; other values as they are shown in lists, and tables and tensors in full. Commas between the values are optional.",
        examples: ["print \"ppl\" r.ppl", "print dim, (perplexity q \"austen:pride\" windows=8).ppl"],
        rest: Param("values", .any, doc: "the values to write"),
        run: { a, ctx in
            ctx.print(a.rest.map(\.printed).joined(separator: " "))
            return .none
        }))

    r.register(Builtin(
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
        }))

    r.register(Builtin(
        name: "history", category: "session", summary: "List the statements of this session that succeeded.",
        help: "These are the statements `save` writes. Statements that failed, and calls of help, history and save, are not listed.",
        examples: ["history"], recorded: false,
        run: { _, ctx in
            let h = ctx.interpreter.state.history
            if h.isEmpty { ctx.print("(no statements yet)") }
            let w = String(h.count).count
            for (i, s) in h.enumerated() {
                let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
                let num = String(i + 1)
                ctx.print(String(repeating: " ", count: w - num.count) + num + "  " + lines[0])
                for l in lines.dropFirst() { ctx.print(String(repeating: " ", count: w + 2) + l) }
            }
            return .none
        }))

    r.register(Builtin(
        name: "save", category: "session", summary: "Save the session as a script that replays it, or as a notebook (save notebook \"FILE\").",
        help: "Writes every statement that succeeded so far, after a header naming the ada version, the date (SOURCE_DATE_EPOCH when set) and the sha256 of each model file loaded. The write is atomic (a temporary file, then a rename) and refuses to replace an existing file unless overwrite=true. Replay the file with `ada run FILE`. `save notebook \"FILE.md\"` (or .ipynb) writes the session as a notebook instead: each statement a cell with its output; tables as Markdown tables, plots as SVG (files in FILE_files/ beside a Markdown notebook, inline in a Jupyter one).",
        examples: ["save \"ablation.ada\"", "save \"ablation.ada\" overwrite=true", "save notebook \"session.md\"", "save notebook \"session.ipynb\" overwrite=true"],
        params: [Param("file", .oneOf([.string, .choice(["notebook"])]), doc: "where to write the script; or the word notebook, then the notebook's file"),
                 Param("notebook", .string, default: .none, doc: "after the word notebook: the notebook file (.md or .ipynb)"),
                 Param("overwrite", .bool, default: .bool(false), doc: "replace the file if it exists", keywordOnly: true)],
        recorded: false,
        run: { a, ctx in
            let path = try a.string("file")
            guard !path.isEmpty else { throw a.error("file", "the file name is empty") }
            let it = ctx.interpreter
            if path == "notebook" {
                guard case .string(let nb) = a["notebook"], !nb.isEmpty else {
                    throw a.error("file", "save notebook needs the notebook's file name", notes: ["save notebook \"session.md\"  (or .ipynb)"])
                }
                guard NotebookWriter.format(of: nb) != nil else {
                    throw a.error("notebook", "a notebook file ends in .md (Markdown) or .ipynb (Jupyter)")
                }
                let title = ctx.file.name.hasPrefix("<") ? "ada session" : (ctx.file.name as NSString).lastPathComponent
                do {
                    try NotebookWriter.write(it.notebook.cells, to: nb, title: title, command: nil, overwrite: try a.bool("overwrite"))
                } catch let e as BuiltinError {
                    throw a.error("notebook", e.message, notes: e.notes)
                }
                let n = it.notebook.cells.count
                ctx.print("saved \(n) cell\(n == 1 ? "" : "s") to \(nb)")
                return .none
            }
            if a.isGiven("notebook") { throw a.error("notebook", "a second file name goes with the word notebook: save notebook \"FILE.md\"") }
            let text = SessionWriter.render(history: it.state.history, models: it.state.modelFiles, pinned: it.pinned)
            try SessionWriter.write(text, to: path, overwrite: try a.bool("overwrite"))
            let n = it.state.history.count
            ctx.print("saved \(n) statement\(n == 1 ? "" : "s") to \(path)")
            return .none
        }))

    r.register(Builtin(
        name: "vars", category: "session", summary: "A table of the variables defined in this session.",
        examples: ["vars"], returns: "a table (name, type, value)", recorded: false,
        run: { _, ctx in
            var t = Table(columns: ["name", "type", "value"])
            for (k, v) in ctx.interpreter.state.globals.sorted(by: { $0.key < $1.key }) {
                var s = v.summary
                if case .function(.user(let f)) = v { s = "fn " + f.usage }
                if s.count > 60 { s = String(s.prefix(59)) + "…" }
                t.rows.append([.string(k), .string(v.typeName == "command" ? "fn" : v.typeName), .string(s)])
            }
            return .object(TableValue(t))
        }))

    r.register(Builtin(
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
        }))

    r.register(Builtin(
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
        }))

    r.register(Builtin(
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
        }))

    r.register(Builtin(
        name: "format", category: "basics", summary: "A number as a string with a fixed number of decimals.",
        examples: ["format r.ppl 2", "print \"ppl \" + format(r.ppl, 3)"],
        params: [Param("value", .number, doc: "the number"),
                 Param("digits", .int, default: .int(2), doc: "decimals (0…17)")],
        returns: "a string",
        run: { a, _ in
            .string(String(format: "%.\(try a.int("digits", min: 0, max: 17))f", try a.number("value")))
        }))

    r.register(Builtin(
        name: "str", category: "basics", summary: "A value as a string (strings are returned unchanged).",
        examples: ["str 3", "\"bits=\" + str(bits)"],
        params: [Param("value", .any, doc: "the value")], returns: "a string",
        run: { a, _ in
            if case .string = a["value"] { return a["value"] }
            return .string(a["value"].summary)
        }))

    r.register(Builtin(
        name: "type", category: "basics", summary: "The name of a value's type.",
        examples: ["type 3", "type m"],
        params: [Param("value", .any, doc: "the value")], returns: "a string",
        run: { a, _ in .string(a["value"].typeName) }))

    r.register(Builtin(
        name: "append", category: "basics", summary: "A new list with a value added at the end.",
        help: "Lists are values: append returns a new list and leaves its argument unchanged; assign the result.",
        examples: ["results = []", "results = append(results, {bits: 3, ppl: 25.1})"],
        params: [Param("list", .list(.any), doc: "the list"), Param("value", .any, doc: "the value to add")],
        returns: "a list",
        run: { a, _ in .list((a["list"].list ?? []) + [a["value"]]) }))

    r.register(Builtin(
        name: "keys", category: "basics", summary: "The field names of a record.",
        examples: ["keys (perplexity m \"austen:pride\" windows=2 ctx=64)"],
        params: [Param("record", .record, doc: "the record")], returns: "a list of strings",
        run: { a, _ in
            guard case .record(let r) = a["record"] else { return .none }
            return .list(r.keys.map { .string($0) })
        }))

    r.register(Builtin(
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
        }))

    r.register(Builtin(
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
        }))

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

// MARK: - Help text

func helpOverview(_ r: Registry) -> String {
    var out = ["ada \(AdaVersion.string): commands by category. 'help NAME' explains one; 'help for' a keyword.", ""]
    let width = (r.order.map(\.count).max() ?? 8) + 2
    for cat in r.categories {
        out.append("\(cat):")
        for n in r.order where r[n]!.category == cat {
            // Summaries wrap at 80 columns, under the summary column.
            let lines = wrapWords(r[n]!.summary, width: 80 - 2 - width)
            out.append("  " + n.padding(toLength: width, withPad: " ", startingAt: 0) + (lines.first ?? ""))
            for l in lines.dropFirst() { out.append(String(repeating: " ", count: 2 + width) + l) }
        }
        out.append("")
    }
    if !r.constantOrder.isEmpty {
        out.append("constants:")
        for n in r.constantOrder {
            out.append("  " + n.padding(toLength: width, withPad: " ", startingAt: 0) + r.constants[n]!.doc)
        }
        out.append("")
    }
    out.append("keywords: " + Keyword.allCases.map(\.rawValue).joined(separator: " "))
    out.append("syntax: name arg key=value (command) · name(arg, key=value) (call) · x = value · # comment")
    return out.joined(separator: "\n")
}

func helpText(topic: String, registry r: Registry, interpreter: Interpreter?) -> String? {
    if let b = r[topic] { return builtinHelp(b) }
    if let k = keywordHelp.first(where: { $0.0 == topic }) {
        return "\(k.0) (keyword): \(k.1)\n\nexample:\n" + k.2.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }
    if let c = r.constants[topic] { return "\(topic) (constant) = \(c.value.summary): \(c.doc)" }
    if let it = interpreter, case .function(.user(let f))? = it.state.globals[topic] {
        return "\(f.name) (function defined in \(f.file.name) line \(f.range.line))\nusage: \(f.usage)"
    }
    return nil
}

func builtinHelp(_ b: Builtin) -> String {
    var out = ["\(b.name): \(b.summary)", "", "usage: \(b.usage)"]
    if !b.params.isEmpty || b.rest != nil {
        out.append("")
        out.append("arguments:")
        let all = b.params + (b.rest.map { [$0] } ?? [])
        let w = (all.map { $0.name.count }.max() ?? 4) + 2
        for p in all {
            var line = "  " + p.name.padding(toLength: w, withPad: " ", startingAt: 0) + p.type.shortName
            if let d = p.defaultValue { line += ", default \(d.summary)" } else if b.rest?.name == p.name { line += ", any number" } else { line += ", required" }
            if p.keywordOnly { line += ", by name only" }
            line += ": " + p.doc
            // Long argument lines wrap at 80 columns, indented under the type.
            let chars = Array(line)
            if chars.count <= 80 {
                out.append(line)
            } else {
                var cut = 80
                while cut > 2 + w && chars[cut] != " " { cut -= 1 }
                if cut <= 2 + w { cut = 80 }
                out.append(String(chars[..<cut]))
                let indent = String(repeating: " ", count: 2 + w)
                let rest = String(chars[cut...]).trimmingCharacters(in: .whitespaces)
                for l in wrapWords(rest, width: 80 - indent.count) { out.append(indent + l) }
            }
        }
    }
    out.append("")
    out.append("returns: \(b.returns)")
    if !b.help.isEmpty {
        out.append("")
        out += wrapWords(b.help, width: 80)
    }
    if !b.examples.isEmpty {
        out.append("")
        out.append(b.examples.count == 1 ? "example:" : "examples:")
        for e in b.examples { out += e.split(separator: "\n").map { "  " + $0 } }
    }
    return out.joined(separator: "\n")
}

/// Help texts, as the `help` command shows them.
public enum Help {
    /// Every command by category, the constants and the keywords.
    public static func overview(_ r: Registry) -> String { helpOverview(r) }
    /// Help on a command, keyword, constant or user function; nil when unknown.
    public static func topic(_ t: String, registry r: Registry, interpreter: Interpreter? = nil) -> String? {
        helpText(topic: t, registry: r, interpreter: interpreter)
    }
    /// All names `help` knows (for suggestions).
    public static func topics(_ r: Registry) -> [String] { r.order + keywordHelp.map(\.0) + r.constantOrder }
}
