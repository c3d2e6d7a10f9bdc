import AdaLang
import Foundation

/// The table operations behind `filter`, `group` and `join`: new tables from old ones.
/// Errors are `BuiltinError`s naming the argument at fault, so the caret goes under it.
enum TableOps {
    /// An aggregate of `group`: its output column is `OP_COLUMN` (`mean_weight_mse`).
    enum Aggregate: String, CaseIterable {
        case mean, sum, min, max
    }

    /// The cell of a row (rows shorter than the header read as none).
    static func cell(_ row: [Value], _ j: Int) -> Value { j < row.count ? row[j] : .none }

    /// The index of a column, or an error under `argument` that suggests the closest name
    /// and lists the columns. `which` tells the tables of a join apart.
    static func columnIndex(_ t: Table, _ name: String, argument: String, which: String = "") throws -> Int {
        if let j = t.columns.firstIndex(of: name) { return j }
        let inTable = which.isEmpty ? "" : " in the \(which) table"
        throw BuiltinError("no column '\(name)'\(inTable)\(didYouMean(name, t.columns))", argument: argument,
                           notes: [t.columns.isEmpty ? "the table has no columns" : "columns: " + t.columns.joined(separator: ", ")])
    }

    /// `name`, or `name_2`, `name_3`, … when it is taken.
    static func uniqueName(_ name: String, _ taken: Set<String>) -> String {
        guard taken.contains(name) else { return name }
        var k = 2
        while taken.contains("\(name)_\(k)") { k += 1 }
        return "\(name)_\(k)"
    }

    /// A hashable stand-in for a cell, equal for equal cells (0 and -0 are one key).
    static func key(_ v: Value) -> String {
        switch v {
        case .none: return "0"
        case .bool(let b): return b ? "b1" : "b0"
        case .number(let x): return "n" + String((x == 0 ? 0 : x).bitPattern)
        case .string(let s): return "s" + s
        default: return "o" + v.summary
        }
    }

    // MARK: filter

    /// The rows whose cells equal every field of `r` (`{dim: "ic"}`).
    static func matching(_ t: Table, _ r: Record, argument: String) throws -> Table {
        let idx = try r.keys.map { try columnIndex(t, $0, argument: argument) }
        let rows = t.rows.filter { row in zip(idx, r.values).allSatisfy { cell(row, $0.0) == $0.1 } }
        return Table(columns: t.columns, rows: rows, title: t.title)
    }

    // MARK: group

    /// One row per distinct value of the `by` columns, in order of first appearance: the
    /// group's values, then `count` (rows in the group) when asked, then each aggregate of
    /// each listed column. `none` cells are skipped by the aggregates; a group without any
    /// number gives `none`. Non-numeric cells in an aggregated column are an error.
    static func group(_ t: Table, by: [String], count: Bool,
                      aggregates: [(op: Aggregate, columns: [String], argument: String)]) throws -> Table {
        guard !by.isEmpty else { throw BuiltinError("give at least one column to group by", argument: "by") }
        let keyIdx = try by.map { try columnIndex(t, $0, argument: "by") }
        var columns = by
        var taken = Set(by)
        func add(_ name: String) {
            let u = uniqueName(name, taken)
            columns.append(u)
            taken.insert(u)
        }
        if count { add("count") }
        var specs: [(Aggregate, Int)] = []
        for (op, names, argument) in aggregates {
            for name in names {
                let j = try columnIndex(t, name, argument: argument)
                if let i = t.rows.indices.first(where: { r in
                    switch cell(t.rows[r], j) { case .number, .none: return false; default: return true } }) {
                    let v = cell(t.rows[i], j)
                    throw BuiltinError("column '\(name)' holds \(v.typeWithArticle) (row \(i): \(v.summary)); \(op.rawValue) needs numbers",
                                       argument: argument)
                }
                add("\(op.rawValue)_\(name)")
                specs.append((op, j))
            }
        }
        var order: [[String]] = []
        var members: [[String]: [Int]] = [:]
        for (i, row) in t.rows.enumerated() {
            let k = keyIdx.map { key(cell(row, $0)) }
            if members[k] == nil { order.append(k) }
            members[k, default: []].append(i)
        }
        let rows: [[Value]] = order.map { k in
            let m = members[k]!
            var row = keyIdx.map { cell(t.rows[m[0]], $0) }
            if count { row.append(.int(m.count)) }
            for (op, j) in specs { row.append(reduce(op, m.compactMap { cell(t.rows[$0], j).number })) }
            return row
        }
        return Table(columns: columns, rows: rows)
    }

    static func reduce(_ op: Aggregate, _ xs: [Double]) -> Value {
        guard !xs.isEmpty else { return .none }
        switch op {
        case .sum: return .number(xs.reduce(0, +))
        case .mean: return .number(xs.reduce(0, +) / Double(xs.count))
        case .min: return .number(xs.min()!)
        case .max: return .number(xs.max()!)
        }
    }

    // MARK: join

    /// Rows of `left` paired with the rows of `right` whose `on` columns are equal, in the
    /// order of `left`, then of `right`; `rightOn` names the keys in `right` when they are
    /// named otherwise there. Columns: `left`'s, then `right`'s other than the keys, a name already taken getting `_2` (`_3`, …). A `none` key matches nothing. With
    /// `keepUnmatched` (a left join), a left row without a match is kept once, its right
    /// cells none. At most `maxCells` cells.
    static func join(_ left: Table, _ right: Table, on: [String], rightOn: [String]?, keepUnmatched: Bool,
                     maxCells: Int) throws -> Table {
        guard !on.isEmpty else { throw BuiltinError("give at least one column to join on", argument: "on") }
        if let r = rightOn, r.count != on.count {
            throw BuiltinError("right_on names \(r.count) column\(r.count == 1 ? "" : "s") and on= \(on.count); give one for each", argument: "right_on")
        }
        let li = try on.map { try columnIndex(left, $0, argument: "left", which: "first") }
        let ri = try (rightOn ?? on).map { try columnIndex(right, $0, argument: "right", which: "second") }
        let rest = right.columns.indices.filter { !ri.contains($0) }
        var columns = left.columns
        var taken = Set(columns)
        for j in rest {
            let u = uniqueName(right.columns[j], taken)
            columns.append(u)
            taken.insert(u)
        }
        func keyOf(_ row: [Value], _ idx: [Int]) -> [String]? {
            let cells = idx.map { cell(row, $0) }
            if cells.contains(where: { if case .none = $0 { return true } else { return false } }) { return nil }
            return cells.map(key)
        }
        var index: [[String]: [Int]] = [:]
        for (i, row) in right.rows.enumerated() {
            if let k = keyOf(row, ri) { index[k, default: []].append(i) }
        }
        var rows: [[Value]] = []
        for row in left.rows {
            let l = left.columns.indices.map { cell(row, $0) }
            let matches = keyOf(row, li).flatMap { index[$0] } ?? []
            for m in matches { rows.append(l + rest.map { cell(right.rows[m], $0) }) }
            if matches.isEmpty && keepUnmatched { rows.append(l + rest.map { _ in Value.none }) }
            if rows.count > maxCells / max(1, columns.count) {
                throw BuiltinError("the joined table would have more than \(maxCells) cells", argument: "on",
                                   notes: ["a key that repeats in both tables pairs every row with every row"])
            }
        }
        return Table(columns: columns, rows: rows)
    }
}
