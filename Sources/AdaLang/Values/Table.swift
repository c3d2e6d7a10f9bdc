import Foundation

// MARK: - Tables

/// A table: named columns and rows of values. Builtins that report statistics return one.
public struct Table {
    public var columns: [String]
    public var rows: [[Value]]
    public var title: String?

    public init(columns: [String], rows: [[Value]] = [], title: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.title = title
    }

    public func column(_ name: String) -> [Value]? {
        guard let j = columns.firstIndex(of: name) else { return nil }
        return rows.map { j < $0.count ? $0[j] : .none }
    }

    public func record(_ i: Int) -> Record {
        Record(columns.enumerated().map { ($0.element, $0.offset < rows[i].count ? rows[i][$0.offset] : .none) })
    }

    /// The text of each cell, column by column: numbers in one format per column (chosen
    /// from all its values), `none` as "-", strings as they are, other values summarised.
    /// Also whether each column is numeric (right-aligned).
    public func formattedColumns() -> (cells: [[String]], numeric: [Bool]) {
        var cells: [[String]] = []
        var numeric: [Bool] = []
        for j in columns.indices {
            let col = rows.map { j < $0.count ? $0[j] : Value.none }
            let isNumeric = col.allSatisfy { if case .number = $0 { return true }; if case .none = $0 { return true }; return false }
                && col.contains { if case .number = $0 { return true } else { return false } }
            let fmt = isNumeric ? NumberFormat.choose(col.compactMap(\.number)) : .integer
            cells.append(col.map { v in
                switch v {
                case .none: return "-"
                case .string(let s): return s.replacingOccurrences(of: "\n", with: " ")
                case .number(let x): return isNumeric ? fmt.format(x) : formatNumber(x)
                default: return v.summary
                }
            })
            numeric.append(isNumeric)
        }
        return (cells, numeric)
    }

    /// Row indices to show under a row limit: the first rows and the last three, with nil
    /// where rows are left out.
    public func shownRows(_ maxRows: Int?) -> [Int?] {
        let n = rows.count
        guard let lim = maxRows.map({ max(1, $0) }), n > lim else { return Array(0..<n) }
        let tail = lim >= 8 ? 3 : 0
        let head = lim - tail
        return Array(0..<head) + [nil] + Array((n - tail)..<n)
    }

    /// Tab-separated text with a header line: a table as plain text for hosts without a
    /// renderer (the shell's renderer aligns and wraps it; see AdaRender).
    public var plainText: String {
        let (cells, _) = formattedColumns()
        var out = title.map { [$0] } ?? []
        out.append(columns.joined(separator: "\t"))
        for r in rows.indices { out.append(columns.indices.map { cells[$0][r] }.joined(separator: "\t")) }
        return out.joined(separator: "\n")
    }
}

/// The engine value wrapping a `Table`.
public final class TableValue: EngineValue {
    public let table: Table
    public init(_ table: Table) { self.table = table }

    public var typeName: String { "table" }
    public var summary: String { "<table \(table.rows.count) rows × \(table.columns.count) columns: \(table.columns.joined(separator: ", "))>" }
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.table(table)] }
    public var fieldNames: [String] { ["columns", "rows"] + table.columns }
    public func field(_ name: String) -> Value? {
        if name == "columns" { return .list(table.columns.map { .string($0) }) }
        if name == "rows" { return .int(table.rows.count) }
        return table.column(name).map { .list($0) }
    }
    public var length: Int? { table.rows.count }
    public func elements() -> [Value]? { table.rows.indices.map { .record(table.record($0)) } }

    public func index(_ items: [IndexKey]) throws -> Value? {
        guard items.count == 1 else { throw BuiltinError("a table takes one index: a row number, a row slice or a column name") }
        switch items[0] {
        case .value(.string(let c)):
            guard let col = table.column(c) else {
                throw BuiltinError("no column '\(c)'\(didYouMean(c, table.columns)); columns: \(table.columns.joined(separator: ", "))")
            }
            return .list(col)
        case .value(let v):
            guard let i = v.integer else { throw BuiltinError("a table index is a row number or a column name, not \(v.typeWithArticle)") }
            let j = i < 0 ? i + table.rows.count : i
            guard j >= 0 && j < table.rows.count else { throw BuiltinError("row \(i) out of range: the table has \(table.rows.count) rows") }
            return .record(table.record(j))
        case .slice(let a, let b):
            let r = clampSlice(a, b, count: table.rows.count)
            return .object(TableValue(Table(columns: table.columns, rows: Array(table.rows[r]), title: table.title)))
        }
    }
}

/// Python-style slice bounds (negative counts from the end), clamped to 0…count.
public func clampSlice(_ a: Int?, _ b: Int?, count: Int) -> Range<Int> {
    func norm(_ x: Int?, _ d: Int) -> Int {
        guard var v = x else { return d }
        if v < 0 { v += count }
        return min(max(v, 0), count)
    }
    let lo = norm(a, 0), hi = norm(b, count)
    return lo..<max(lo, hi)
}
