import AdaLang
import AdaModel
import AdaTensor
import Foundation

/// The file builtins of the table library: CSV for tables, .npy for tensors. Writes are
/// atomic (`AtomicFile`: a temporary file in the same folder, then a rename) and replace an
/// existing file, as `plot … to=` and `export` do; errors name the file, under `file`.
extension TableLibrary {
    static func path(_ a: Arguments) throws -> String {
        let p = try a.string("file")
        guard !p.isEmpty else { throw a.error("file", "the file name is empty") }
        return p
    }

    static func write(_ data: Data, _ a: Arguments) throws -> String {
        let p = try path(a)
        do { try AtomicFile.write(data, to: p) } catch let e as ModelFileError { throw a.error("file", e.description) }
        return p
    }

    /// Maps the file named by `file` and reads it with `body`; a `ModelFileError` (the file
    /// is missing, or malformed) becomes an error under `file`.
    static func read<T>(_ a: Arguments, _ body: (UnsafeRawBufferPointer, String) throws -> T) throws -> T {
        let p = try path(a)
        do {
            let f = try MappedFile(path: p)
            return try withExtendedLifetime(f) { try body(f.bytes, p) }
        } catch let e as ModelFileError {
            throw a.error("file", e.description)
        }
    }

    static var saveCSVCommand: Builtin {
        Builtin(
            name: "save_csv", category: "files", summary: "Write a table as a CSV file (for pandas, R, spreadsheets).",
            help: "The first line holds the column names, then one line per row. Numbers are written so that they read back exactly (integers without a decimal point, others in the shortest form that round-trips; nan, inf), none as an empty cell, booleans as true and false. Strings are quoted (RFC 4180: \"…\", a quote inside written twice) when they hold a comma, a quote or a line break, or would read back as a number, a boolean or an empty cell. Cells that are lists, records or other values are an error. The write is atomic and replaces an existing file. In Python: pandas.read_csv(FILE) or csv.DictReader.",
            examples: ["save_csv q.errors \"errors.csv\"", "save_csv (group q.errors by=\"dim\" mean=\"weight_mse\") \"by_dim.csv\""],
            params: [Param("table", .table, doc: "the table"), Param("file", .string, doc: "the CSV file to write")],
            run: { a, ctx in
                let t = try table(a, "table")
                let p = try write(Data(try CSV.encode(t, argument: "table").utf8), a)
                ctx.print("saved \(t.rows.count) row\(t.rows.count == 1 ? "" : "s") × \(t.columns.count) column\(t.columns.count == 1 ? "" : "s") to \(p)")
                return .none
            })
    }

    static var loadCSVCommand: Builtin {
        Builtin(
            name: "load_csv", category: "files", summary: "Read a CSV file as a table.",
            help: "The first line gives the column names (an empty name becomes columnN, a repeated one gets _2). An unquoted cell is none when empty, a boolean when true or false, a number when it reads as one (12, -0.5, 1e-05, nan, inf), else a string; a quoted cell is always a string. Line breaks may be \\n, \\r\\n or \\r, and may appear inside quoted cells; blank lines are skipped. Every line must have as many cells as the header.",
            examples: ["t = load_csv \"errors.csv\"", "group (load_csv \"errors.csv\") by=\"dim\" mean=\"weight_mse\""],
            params: [Param("file", .string, doc: "the CSV file")],
            returns: "a table",
            run: { a, ctx in
                let limit = ctx.interpreter.limits.maxListLength
                return .object(TableValue(try read(a) { try CSV.decode($0, file: $1, maxCells: limit) }))
            })
    }

    static var saveNpyCommand: Builtin {
        Builtin(
            name: "save_npy", category: "files", summary: "Write a tensor as a NumPy .npy file (float32, C order).",
            help: "Format version 1.0, dtype '<f4', the tensor's shape, row-major (C) order: numpy.load(FILE) gives the same values and shape. The write is atomic and replaces an existing file.",
            examples: ["save_npy m[\"blk.3.ffn_down\"] \"down3.npy\"", "save_npy (rand 4 8 seed=1) \"r.npy\""],
            params: [Param("tensor", .tensor, doc: "the tensor"), Param("file", .string, doc: "the .npy file to write")],
            run: { a, ctx in
                let t = try a.object("tensor", as: TensorValue.self).tensor
                let p = try write(Npy.encode(t), a)
                ctx.print("saved tensor \(t.shape) to \(p)")
                return .none
            })
    }

    static var loadNpyCommand: Builtin {
        Builtin(
            name: "load_npy", category: "files", summary: "Read a NumPy .npy file as a tensor.",
            help: "Reads .npy versions 1–3 in C order with little-endian float16, float32, float64 or integer values ('<f2', '<f4', '<f8', '|i1', '<i2', '<u4', …), converted to float32; a 0-d array gives a number. Big-endian, Fortran-order, structured and object arrays are refused, and so is a file whose sizes do not add up (a truncated file, a shape larger than the data or than the tensor limit of 2^28 elements).",
            examples: ["w = load_npy \"down3.npy\"", "x = load_npy \"activations.npy\"\nplot x[0]"],
            params: [Param("file", .string, doc: "the .npy file")],
            returns: "a tensor",
            run: { a, ctx in
                let limit = ctx.interpreter.limits.maxElements
                let t = try read(a) { try Npy.decode($0, file: $1, maxElements: limit) }
                if t.shape.isEmpty { return .number(Double(t.data[0])) }
                return .object(TensorValue(t))
            })
    }
}
