import AdaLang
import AdaModel
import Foundation

/// Tables as CSV (RFC 4180): a header line of column names, then one line per row.
///
/// Writing: numbers in the shortest form that reads back as the same 64-bit number
/// (integers without a decimal point; `nan`, `inf`, `-inf`), `none` as an empty cell,
/// booleans as `true` / `false`, strings as they are, quoted (`"…"`, a quote written twice)
/// when they hold a comma, a quote or a line break, or would otherwise read back as a
/// number, a boolean or an empty cell. Lines end with `\n`.
///
/// Reading: a quoted cell is a string; an unquoted one is `none` when empty, a boolean when
/// `true` or `false`, a number when it is one (decimal, with an optional exponent, or
/// `nan` / `inf`), else a string. Lines may end with `\n`, `\r\n` or `\r`; a UTF-8 byte
/// order mark is skipped; blank lines are skipped unless the file has a single column.
enum CSV {
    // MARK: Writing

    /// The CSV text of a table; a cell that is a list, record or engine value is an error
    /// under `argument`.
    static func encode(_ t: Table, argument: String) throws -> String {
        var out = t.columns.map { quoted($0, always: $0.isEmpty) }.joined(separator: ",") + "\n"
        for (i, row) in t.rows.enumerated() {
            let cells = try t.columns.indices.map { j -> String in
                let v = TableOps.cell(row, j)
                guard let s = field(v) else {
                    throw BuiltinError("column '\(t.columns[j])', row \(i) holds \(v.typeWithArticle); CSV cells are numbers, strings, booleans or none",
                                       argument: argument)
                }
                return s
            }
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    /// One cell's text, or nil for a value CSV cannot hold.
    static func field(_ v: Value) -> String? {
        switch v {
        case .none: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return number(x)
        case .string(let s): return quoted(s, always: s.isEmpty || s == "true" || s == "false" || parseNumber(Substring(s)) != nil)
        default: return nil
        }
    }

    /// The shortest text that reads back as exactly `x`.
    static func number(_ x: Double) -> String {
        if x == 0 { return x.sign == .minus ? "-0.0" : "0" }
        if x == x.rounded(), Swift.abs(x) < 0x1p53 { return String(Int64(x)) }
        return "\(x)"
    }

    static func quoted(_ s: String, always: Bool) -> String {
        let special = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard always || special else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A number written as ada or Python write them: `12`, `-0.5`, `.5`, `1e-05`, `nan`,
    /// `inf`; not hexadecimal, not with spaces or underscores.
    static func parseNumber(_ s: Substring) -> Double? {
        var body = s
        if let f = body.first, f == "+" || f == "-" { body = body.dropFirst() }
        let word = body.lowercased()
        if word == "nan" || word == "inf" || word == "infinity" { return Double(String(s)) }
        var digits = 0, i = body.startIndex
        func scan() { while i < body.endIndex, body[i].isASCII, body[i].isNumber { digits += 1; i = body.index(after: i) } }
        scan()
        if i < body.endIndex, body[i] == "." { i = body.index(after: i); scan() }
        guard digits > 0 else { return nil }
        if i < body.endIndex, body[i] == "e" || body[i] == "E" {
            i = body.index(after: i)
            if i < body.endIndex, body[i] == "+" || body[i] == "-" { i = body.index(after: i) }
            digits = 0
            scan()
            guard digits > 0 else { return nil }
        }
        guard i == body.endIndex else { return nil }
        return Double(String(s))
    }

    // MARK: Reading

    /// A table from CSV bytes. Errors are `ModelFileError`s naming `file` and the line.
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, maxCells: Int) throws -> Table {
        var reader = Records(bytes: bytes, file: file, maxCells: maxCells)
        var records = try reader.all()
        guard let header = records.first else {
            throw ModelFileError(file: file, field: "", "the file is empty (a CSV file starts with a line of column names)")
        }
        records.removeFirst()
        var columns: [String] = []
        var taken = Set<String>()
        for (j, f) in header.fields.enumerated() {
            let name = TableOps.uniqueName(f.text.isEmpty ? "column\(j + 1)" : f.text, taken)
            columns.append(name)
            taken.insert(name)
        }
        var rows: [[Value]] = []
        for r in records {
            if r.fields.count == 1, r.fields[0].text.isEmpty, !r.fields[0].quoted, columns.count > 1 { continue }
            guard r.fields.count == columns.count else {
                throw ModelFileError(file: file, field: "line \(r.line)",
                                     "\(r.fields.count) cell\(r.fields.count == 1 ? "" : "s"), but the header has \(columns.count) column\(columns.count == 1 ? "" : "s")")
            }
            rows.append(r.fields.map(value))
        }
        return Table(columns: columns, rows: rows)
    }

    static func value(_ f: Records.Field) -> Value {
        if f.quoted { return .string(f.text) }
        if f.text.isEmpty { return .none }
        if f.text == "true" { return .bool(true) }
        if f.text == "false" { return .bool(false) }
        if let x = parseNumber(Substring(f.text)) { return .number(x) }
        return .string(f.text)
    }

    /// The records (lines, except for line breaks inside quotes) of a CSV file.
    struct Records {
        struct Field {
            var text: String
            var quoted: Bool
        }
        struct Record {
            var fields: [Field]
            var line: Int
        }

        let bytes: UnsafeRawBufferPointer
        let file: String
        let maxCells: Int
        var i = 0
        var line = 1
        var cells = 0

        init(bytes: UnsafeRawBufferPointer, file: String, maxCells: Int) {
            self.bytes = bytes
            self.file = file
            self.maxCells = maxCells
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        }

        static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

        func fail(_ line: Int, _ message: String) -> ModelFileError {
            ModelFileError(file: file, field: "line \(line)", message)
        }

        func text(_ b: some Sequence<UInt8>, _ line: Int) throws -> String {
            guard let s = String(validating: b, as: UTF8.self) else { throw fail(line, "not valid UTF-8 text") }
            return s
        }

        mutating func all() throws -> [Record] {
            var out: [Record] = []
            var fields: [Field] = []
            var start = line
            while i < bytes.count {
                fields.append(try field())
                cells += 1
                guard cells <= maxCells else { throw fail(line, "more than \(maxCells) cells") }
                if i == bytes.count { break }
                if bytes[i] == Self.comma {
                    i += 1
                    if i == bytes.count { fields.append(Field(text: "", quoted: false)) }
                    continue
                }
                // A line break ends the record.
                if bytes[i] == Self.cr, i + 1 < bytes.count, bytes[i + 1] == Self.lf { i += 1 }
                i += 1
                out.append(Record(fields: fields, line: start))
                fields = []
                line += 1
                start = line
            }
            if !fields.isEmpty { out.append(Record(fields: fields, line: start)) }
            return out
        }

        /// One field, leaving `i` at the comma, line break or end after it.
        mutating func field() throws -> Field {
            guard bytes[i] == Self.quote else {
                let s = i
                while i < bytes.count, bytes[i] != Self.comma, bytes[i] != Self.cr, bytes[i] != Self.lf { i += 1 }
                return Field(text: try text(bytes[s..<i], line), quoted: false)
            }
            let opened = line
            var buf: [UInt8] = []
            i += 1
            while true {
                guard i < bytes.count else { throw fail(opened, "a quoted cell is not closed (a quote inside a cell is written twice: \"\")") }
                let b = bytes[i]
                if b == Self.quote {
                    if i + 1 < bytes.count, bytes[i + 1] == Self.quote { buf.append(b); i += 2; continue }
                    i += 1
                    break
                }
                if b == Self.lf || (b == Self.cr && !(i + 1 < bytes.count && bytes[i + 1] == Self.lf)) { line += 1 }
                buf.append(b)
                i += 1
            }
            if i < bytes.count, bytes[i] != Self.comma, bytes[i] != Self.cr, bytes[i] != Self.lf {
                throw fail(line, "text after the closing quote of a cell (a quote inside a cell is written twice: \"\")")
            }
            return Field(text: try text(buf, opened), quoted: true)
        }
    }
}
