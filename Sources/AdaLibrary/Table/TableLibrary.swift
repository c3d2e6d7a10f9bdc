import AdaLang
import AdaModel
import AdaTensor
import Foundation

/// Tables you can query (filter, group, join) and files for Python: tables as CSV
/// (save_csv, load_csv), tensors as NumPy .npy (save_npy, load_npy).
public enum TableLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(filterCommand)
        r.register(groupCommand)
        r.register(joinCommand)
        r.register(saveCSVCommand)
        r.register(loadCSVCommand)
        r.register(saveNpyCommand)
        r.register(loadNpyCommand)
    }

    static func table(_ a: Arguments, _ name: String) throws -> Table {
        try a.object(name, as: TableValue.self).table
    }

    /// A string or a list of strings, as a list.
    static func names(_ a: Arguments, _ name: String) -> [String] {
        switch a[name] {
        case .string(let s): return [s]
        case .list(let l): return l.compactMap(\.string)
        default: return []
        }
    }

    static var filterCommand: Builtin {
        Builtin(
            name: "filter", category: "tables", summary: "The rows of a table whose cells equal given values, or that a fn keeps.",
            help: "COLUMN=VALUE keeps the rows whose cell in that column equals the value (several: all of them must hold; a column named like an argument of filter goes in a record instead: filter(t, {table: 3})). A record does the same for each of its fields. A fn (defined with `fn`, given by its name) is called with each row, a record whose fields are the columns, and the rows for which it returns a true value are kept. Rows keep their order and the table its columns.",
            examples: ["filter q.errors dim=\"ic\"", "filter (layers m) kind=\"down\" block=3", "fn big(r) { return r.weight_mse > 1e-6 }\nfilter q.errors big", "filter(layers(m), {kind: \"down\"})"],
            params: [Param("table", .table, doc: "the table"),
                     Param("condition", .oneOf([.name, .record]), default: .none, doc: "the name of a fn taking a row, or a record of column values")],
            namedRest: Param("column", .any, doc: "keep the rows whose cell in COLUMN equals VALUE"),
            returns: "a table",
            run: { a, ctx in
                var t = try table(a, "table")
                for (column, v) in a.named {
                    t = try TableOps.matching(t, Record([(column, v)]), argument: column)
                }
                switch a["condition"] {
                case .record(let r): return .object(TableValue(try TableOps.matching(t, r, argument: "condition")))
                case .string(let name): return .object(TableValue(try filter(t, name, a, ctx)))
                default:
                    guard !a.named.isEmpty else {
                        throw a.error("table", "give a condition: COLUMN=VALUE, a record or a fn's name", notes: ["filter t dim=\"ic\""])
                    }
                    return .object(TableValue(t))
                }
            })
    }

    /// The rows for which the function `name` returns a true value (or, when `name` is a
    /// variable holding a record, the rows matching it).
    static func filter(_ t: Table, _ name: String, _ a: Arguments, _ ctx: Context) throws -> Table {
        let it = ctx.interpreter
        switch it.variable(name) {
        case .record(let r)?: return try TableOps.matching(t, r, argument: "condition")
        case .function(.user(let f))?:
            guard !f.params.isEmpty, f.params.dropFirst().allSatisfy({ $0.defaultValue != nil }) else {
                throw a.error("condition", "'\(name)' must take one argument, the row (usage: \(f.usage))")
            }
        case let v?:
            throw a.error("condition", "'\(name)' is \(v.typeWithArticle), not a fn or a record")
        case nil:
            if it.registry[name] != nil { throw a.error("condition", "'\(name)' is a builtin; give a fn that takes a row", notes: ["fn keep(r) { return r.dim == \"ic\" }"]) }
            let fns = it.globals.compactMap { k, v in if case .function = v { return k } else { return nil } }
            throw a.error("condition", "no fn '\(name)'\(didYouMean(name, fns))", notes: ["define one first: fn keep(r) { return r.dim == \"ic\" }"])
        }
        var rows: [[Value]] = []
        for i in t.rows.indices {
            try ctx.checkCancelled()
            let keep: Value
            do { keep = try it.call(name, [.record(t.record(i))]) } catch var e as AdaError {
                e.notes = e.notes.map { $0.hasPrefix("in '\(name)', called at <call>:") ? "in '\(name)', called by filter for row \(i)" : $0 }
                throw e
            }
            if keep.truthy { rows.append(t.rows[i]) }
        }
        return Table(columns: t.columns, rows: rows, title: t.title)
    }

    static var groupCommand: Builtin {
        let columns = ValueType.oneOf([.string, .list(.string)])
        return Builtin(
            name: "group", category: "tables", summary: "One row per distinct value of some columns, with counts, means, sums, minima and maxima.",
            help: "Rows are grouped by the values of the by= columns; the result has those columns, then `count` (the rows in each group) when count=true, then one column per aggregate and column: mean_COL, sum_COL, min_COL, max_COL (in that order). Groups come in the order their first row appears (sort the result to reorder). Aggregates skip none cells; a group without any number gives none. Without any aggregate, count is given.",
            examples: ["group q.errors by=\"dim\" mean=\"weight_mse\"", "j = join (layers m) q.errors on=\"name\" right_on=\"module\"\ngroup j by=[\"kind\", \"dim\"] count=true mean=[\"err_oc\", \"err_ic\"] max=\"weight_mse\"", "group (layers m) by=\"kind\" sum=\"params\""],
            params: [Param("table", .table, doc: "the table"),
                     Param("by", columns, doc: "the column (or list of columns) to group by"),
                     Param("count", .bool, default: .none, doc: "add a count column; none: only when no aggregate is asked for", keywordOnly: true),
                     Param("mean", columns, default: .none, doc: "columns to average", keywordOnly: true),
                     Param("sum", columns, default: .none, doc: "columns to add up", keywordOnly: true),
                     Param("min", columns, default: .none, doc: "columns whose smallest value to give", keywordOnly: true),
                     Param("max", columns, default: .none, doc: "columns whose largest value to give", keywordOnly: true)],
            returns: "a table",
            run: { a, _ in
                let aggregates = TableOps.Aggregate.allCases.map { op in (op: op, columns: names(a, op.rawValue), argument: op.rawValue) }
                let count: Bool
                if case .bool(let b) = a["count"] { count = b } else { count = aggregates.allSatisfy { $0.columns.isEmpty } }
                return .object(TableValue(try TableOps.group(try table(a, "table"), by: names(a, "by"), count: count, aggregates: aggregates)))
            })
    }

    static var joinCommand: Builtin {
        Builtin(
            name: "join", category: "tables", summary: "Pair the rows of two tables whose key columns are equal.",
            help: "right_on= names the keys in the second table when they are named otherwise there. The result has the first table's columns, then the second's other than the keys; a name already taken gets _2 (then _3, …). Rows come in the first table's order, each followed by its matches in the second table's order. how=inner (the default) keeps only rows with a match; how=left keeps every row of the first table, with none where the second has no match. A none key matches nothing.",
            examples: ["join (layers m) q.errors on=\"name\" right_on=\"module\"", "join a b on=[\"block\", \"kind\"] how=left"],
            params: [Param("left", .table, doc: "the first table"), Param("right", .table, doc: "the second table"),
                     Param("on", .oneOf([.string, .list(.string)]), doc: "the key column, or a list of them, in both tables"),
                     Param("right_on", .oneOf([.string, .list(.string)]), default: .none, doc: "the key columns of the second table; none: the same as on", keywordOnly: true),
                     Param("how", .choice(["inner", "left"]), default: .string("inner"), doc: "inner: matched rows only; left: every row of the first table")],
            returns: "a table",
            run: { a, ctx in
                let joined = try TableOps.join(try table(a, "left"), try table(a, "right"), on: names(a, "on"),
                                               rightOn: a.isGiven("right_on") ? names(a, "right_on") : nil, keepUnmatched: try a.string("how") == "left", maxCells: ctx.interpreter.limits.maxListLength)
                return .object(TableValue(joined))
            })
    }
}
