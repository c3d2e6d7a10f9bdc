import AdaLang
import AdaLibrary
import AdaTestSupport
import Foundation
import Testing

/// filter, group, join, CSV and .npy through the interpreter, checked against values worked
/// out by hand and against bytes written by hand.
@Suite("Tables and files")
struct TableTests {
    /// Five modules: kind, dim and an error, one of them missing.
    static let setup = """
    t = table [{layer: "blk.0.q", kind: "q", dim: "ic", mse: 0.5}, {layer: "blk.0.k", kind: "k", dim: "oc", mse: 1.5},
               {layer: "blk.1.q", kind: "q", dim: "oc", mse: 2}, {layer: "blk.1.k", kind: "k", dim: "ic", mse: none},
               {layer: "blk.2.q", kind: "q", dim: "ic", mse: 4}]
    """

    func interpreter() -> Interpreter {
        let (it, _) = makeInterpreter()
        let r = run(Self.setup, in: it)
        precondition(r.error == nil, "\(r.error!)")
        return it
    }

    static func numbers(_ xs: [Double?]) -> Value { .list(xs.map { $0.map { .number($0) } ?? .none }) }

    func strings(_ v: Value) -> [String] { (v.list ?? []).map { $0.string ?? "?" } }

    /// The failing statement's message and the source text under its caret.
    func failure(_ source: String, in it: Interpreter) -> (caret: String, message: String)? {
        guard let e = run(source, in: it).error else { return nil }
        let file = SourceFile(name: "test.ada", text: source)
        return (e.range.map { file.slice($0.offset, $0.end) } ?? "", e.message)
    }

    // MARK: filter

    @Test func filterByColumnValueRecordAndFunction() throws {
        let it = interpreter()
        #expect(strings(try value("(filter t dim=\"ic\")[\"layer\"]", in: it)) == ["blk.0.q", "blk.1.k", "blk.2.q"])
        #expect(strings(try value("(filter t dim=\"oc\" kind=\"q\")[\"layer\"]", in: it)) == ["blk.1.q"])
        #expect(strings(try value("filter(t, {kind: \"k\", dim: \"ic\"})[\"layer\"]", in: it)) == ["blk.1.k"])
        #expect(try value("(filter t mse=none).rows", in: it) == .number(1))
        #expect(try value("(filter t kind=\"v\").rows", in: it) == .number(0))
        #expect(try value("(filter t kind=\"v\").columns", in: it) == .list(["layer", "kind", "dim", "mse"].map { .string($0) }))
        _ = try value("fn big(r) { return r.mse != none and r.mse >= 1.5 }", in: it)
        #expect(strings(try value("(filter t big)[\"layer\"]", in: it)) == ["blk.0.k", "blk.1.q", "blk.2.q"])
        _ = try value("only_q = {kind: \"q\"}", in: it)
        #expect(strings(try value("(filter t only_q)[\"layer\"]", in: it)) == ["blk.0.q", "blk.1.q", "blk.2.q"])
    }

    @Test func filterErrorsKeepTheSession() throws {
        let it = interpreter()
        let missing = try #require(failure("filter t dimm=\"ic\"", in: it))
        #expect(missing.caret == "dimm=\"ic\"")
        #expect(missing.message.contains("no column 'dimm'") && missing.message.contains("did you mean 'dim'"))
        _ = try value("fn bad(r) { return r.nope }", in: it)
        let e = try #require(run("x = filter t bad", in: it).error)
        #expect(e.message.contains("no field 'nope'"))
        #expect(e.notes.contains("in 'bad', called by filter for row 0"))
        #expect(failure("filter t len", in: it)?.message.contains("is a builtin") == true)
        #expect(failure("filter t nothing", in: it)?.caret == "nothing")
        #expect(failure("filter t", in: it)?.message.contains("give a condition") == true)
        #expect(it.globals["x"] == nil)
        #expect(it.globals["t"] != nil)
    }

    // MARK: group

    @Test func groupComputesCountsAndAggregatesInFirstAppearanceOrder() throws {
        let it = interpreter()
        _ = try value("g = group t by=\"kind\" count=true mean=\"mse\" sum=\"mse\" min=\"mse\" max=\"mse\"", in: it)
        #expect(try value("g.columns", in: it) == .list(["kind", "count", "mean_mse", "sum_mse", "min_mse", "max_mse"].map { .string($0) }))
        // q: 0.5, 2, 4 → mean 6.5 / 3; k: 1.5 and none → the none is skipped.
        #expect(strings(try value("g[\"kind\"]", in: it)) == ["q", "k"])
        #expect(try value("g[\"count\"]", in: it) == Self.numbers([3, 2]))
        #expect(try value("g[\"mean_mse\"]", in: it) == Self.numbers([6.5 / 3, 1.5]))
        #expect(try value("g[\"sum_mse\"]", in: it) == Self.numbers([6.5, 1.5]))
        #expect(try value("g[\"min_mse\"]", in: it) == Self.numbers([0.5, 1.5]))
        #expect(try value("g[\"max_mse\"]", in: it) == Self.numbers([4, 1.5]))
        // Two keys: (q, ic), (k, oc), (q, oc), (k, ic); the last group has no number.
        _ = try value("g2 = group t by=[\"kind\", \"dim\"] mean=\"mse\"", in: it)
        #expect(try value("g2.columns", in: it) == .list(["kind", "dim", "mean_mse"].map { .string($0) }))
        #expect(strings(try value("g2[\"kind\"]", in: it)) == ["q", "k", "q", "k"])
        #expect(strings(try value("g2[\"dim\"]", in: it)) == ["ic", "oc", "oc", "ic"])
        #expect(try value("g2[\"mean_mse\"]", in: it) == Self.numbers([2.25, 1.5, 2, nil]))
        // Without aggregates, the count.
        _ = try value("g3 = group t by=\"dim\"", in: it)
        #expect(try value("g3.columns", in: it) == .list(["dim", "count"].map { .string($0) }))
        #expect(try value("g3[\"count\"]", in: it) == Self.numbers([3, 2]))
    }

    @Test func groupErrorsPointAtTheArgument() throws {
        let it = interpreter()
        let by = try #require(failure("group t by=\"knd\"", in: it))
        #expect(by.caret == "by=\"knd\"" && by.message.contains("did you mean 'kind'"))
        let mean = try #require(failure("group t by=\"kind\" mean=[\"mse\", \"dim\"]", in: it))
        #expect(mean.caret == "mean=[\"mse\", \"dim\"]")
        #expect(mean.message.contains("column 'dim' holds a string") && mean.message.contains("mean needs numbers"))
    }

    // MARK: join

    @Test func joinPairsRowsAndSuffixesClashingNames() throws {
        let it = interpreter()
        _ = try value("""
        s = table [{layer: "blk.0.q", params: 10, mse: 9, mse_2: 0}, {layer: "blk.1.q", params: 20, mse: 8, mse_2: 1},
                   {layer: "blk.0.q", params: 11, mse: 7, mse_2: 2}, {layer: "nowhere", params: 1, mse: 1, mse_2: 3}]
        j = join t s on="layer"
        """, in: it)
        #expect(try value("j.columns", in: it) == .list(["layer", "kind", "dim", "mse", "params", "mse_2", "mse_2_2"].map { .string($0) }))
        #expect(strings(try value("j[\"layer\"]", in: it)) == ["blk.0.q", "blk.0.q", "blk.1.q"])
        #expect(try value("j[\"params\"]", in: it) == Self.numbers([10, 11, 20]))
        #expect(try value("j[\"mse\"]", in: it) == Self.numbers([0.5, 0.5, 2]))
        #expect(try value("j[\"mse_2\"]", in: it) == Self.numbers([9, 7, 8]))
        _ = try value("l = join t s on=\"layer\" how=left", in: it)
        #expect(try value("l.rows", in: it) == .number(6))
        #expect(try value("l[\"params\"]", in: it) == Self.numbers([10, 11, nil, 20, nil, nil]))
        _ = try value("k = join t (table [{kind: \"q\", dim: \"oc\", w: 1}]) on=[\"kind\", \"dim\"]", in: it)
        #expect(strings(try value("k[\"layer\"]", in: it)) == ["blk.1.q"])
        #expect(try value("k.columns", in: it) == .list(["layer", "kind", "dim", "mse", "w"].map { .string($0) }))
        // Keys named otherwise in the second table.
        _ = try value("r = join t (table [{module: \"blk.2.q\", n: 1}, {module: \"blk.0.k\", n: 2}]) on=\"layer\" right_on=\"module\"", in: it)
        #expect(try value("r.columns", in: it) == .list(["layer", "kind", "dim", "mse", "n"].map { .string($0) }))
        #expect(strings(try value("r[\"layer\"]", in: it)) == ["blk.0.k", "blk.2.q"])
        #expect(try value("r[\"n\"]", in: it) == Self.numbers([2, 1]))
        #expect(failure("join t t on=\"layer\" right_on=[\"layer\", \"dim\"]", in: it)?.caret == "right_on=[\"layer\", \"dim\"]")
    }

    @Test func joinOnAMissingColumnNamesTheTable() throws {
        let it = interpreter()
        _ = try value("u = table [{name: \"blk.0.q\"}]", in: it)
        let right = try #require(failure("join t u on=\"layer\"", in: it))
        #expect(right.caret == "u" && right.message.contains("no column 'layer' in the second table"))
        let left = try #require(failure("join u t on=\"layer\"", in: it))
        #expect(left.caret == "u" && left.message.contains("in the first table"))
    }

    // MARK: CSV

    @Test func csvWritesRFC4180AndReadsItBack() throws {
        let dir = TempDir()
        let it = interpreter()
        let path = dir.file("q.csv")
        _ = try value("""
        q = table [{name: "a,b", note: "say \\"hi\\"", x: 0.1, ok: true},
                   {name: "two\\nlines", note: "", x: none, ok: false},
                   {name: "3", note: "true", x: -2, ok: none}]
        """, in: it)
        #expect(run("save_csv q \(renderString(path))", in: it).error == nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "name,note,x,ok\n\"a,b\",\"say \"\"hi\"\"\",0.1,true\n\"two\nlines\",\"\",,false\n\"3\",\"true\",-2,\n")
        _ = try value("r = load_csv \(renderString(path))", in: it)
        #expect(try value("r.columns", in: it) == .list(["name", "note", "x", "ok"].map { .string($0) }))
        #expect(strings(try value("r[\"name\"]", in: it)) == ["a,b", "two\nlines", "3"])
        #expect(strings(try value("r[\"note\"]", in: it)) == ["say \"hi\"", "", "true"])
        #expect(try value("r[\"x\"]", in: it) == Self.numbers([0.1, nil, -2]))
        #expect(try value("r[\"ok\"]", in: it) == .list([.bool(true), .bool(false), .none]))
    }

    @Test func csvNumbersRoundTripExactly() throws {
        let dir = TempDir()
        let it = interpreter()
        let path = dir.file("n.csv")
        let xs: [Double] = [1.0 / 3, 0.1 + 0.2, 1e-300, 5e-324, 123456789012345678, 9007199254740993, -1.5e22, 2.5, .infinity, -.infinity]
        let rows = xs.map { "{x: \(CSVText.literal($0))}" }.joined(separator: ", ")
        _ = try value("n = table [\(rows)]\nsave_csv n \(renderString(path))\nm = load_csv \(renderString(path))", in: it)
        let back = try value("m[\"x\"]", in: it).list ?? []
        #expect(back.count == xs.count)
        for (x, y) in zip(xs, back) { #expect(y.number.map { $0.bitPattern } == x.bitPattern, "\(x) read back as \(y)") }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("x\n0.3333333333333333\n0.30000000000000004\n1e-300\n5e-324\n"))
    }

    @Test func csvReaderAcceptsOtherWritersAndRefusesBrokenFiles() throws {
        let dir = TempDir()
        let it = interpreter()
        // A byte order mark, CRLF line ends, a quoted CRLF, a blank line, a repeated and an empty header.
        let other = dir.write(Array("\u{FEFF}a,a,,d\r\n1,\"x\r\ny\",nan,\r\n\r\n-0.5e1,,inf,\"\"\r\n".utf8), "other.csv")
        _ = try value("o = load_csv \(renderString(other))", in: it)
        #expect(try value("o.columns", in: it) == .list(["a", "a_2", "column3", "d"].map { .string($0) }))
        #expect(try value("o[\"a\"]", in: it) == Self.numbers([1, -5]))
        #expect(try value("o[\"a_2\"]", in: it) == .list([.string("x\r\ny"), .none]))
        #expect(try value("o[\"column3\"][1]", in: it) == .number(.infinity))
        #expect(try value("o[\"d\"]", in: it) == .list([.none, .string("")]))
        // Not numbers: hexadecimal, spaces, underscores.
        let words = dir.write(Array("v\n0x10\n 1\n1_000\n1e\n".utf8), "words.csv")
        #expect(try value("(load_csv \(renderString(words)))[\"v\"]", in: it) == .list(["0x10", " 1", "1_000", "1e"].map { .string($0) }))

        for (name, bytes, wanted) in [("open.csv", "a,b\n1,\"never closed\n", "line 2: a quoted cell is not closed"),
                                      ("ragged.csv", "a,b\n1,2\n3\n", "line 3: 1 cell, but the header has 2 columns"),
                                      ("after.csv", "a\n\"x\"y\n", "line 2: text after the closing quote"),
                                      ("empty.csv", "", "the file is empty")] {
            let p = dir.write(Array(bytes.utf8), name)
            let f = try #require(failure("bad = load_csv \(renderString(p))", in: it), "\(name) loaded")
            #expect(f.message.contains(p) && f.message.contains(wanted), "\(f.message)")
            #expect(f.caret == renderString(p))
        }
        let bad = dir.write([0x61, 0x0A, 0xFF, 0xFE, 0x0A], "latin.csv")
        #expect(failure("load_csv \(renderString(bad))", in: it)?.message.contains("line 2: not valid UTF-8") == true)
        #expect(it.globals["bad"] == nil && it.globals["t"] != nil)
    }

    // MARK: .npy

    /// A .npy file written by hand: magic, version, header length, header, data.
    static func npy(_ header: String, version: UInt8 = 1, headerLength: Int? = nil, data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        let n = headerLength ?? h.count
        let len: [UInt8] = version == 1 ? [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF)] : (0..<4).map { UInt8((n >> (8 * $0)) & 0xFF) }
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + len + h + data
    }

    static func littleEndian<T: FixedWidthInteger>(_ xs: [T]) -> [UInt8] {
        xs.flatMap { x in (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: x.littleEndian >> (8 * $0)) } }
    }

    @Test func npyWritesVersion1Float32AndReadsItBack() throws {
        let dir = TempDir()
        let it = interpreter()
        let path = dir.file("w.npy")
        _ = try value("w = tensor [[1, -2.5, 3], [0.1, 5, 6]]\nsave_npy w \(renderString(path))\nv = load_npy \(renderString(path))", in: it)
        #expect(try value("v == w", in: it) == .bool(true))
        #expect(try value("v.shape", in: it) == Self.numbers([2, 3]))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let hlen = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + hlen) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + hlen)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix(" \n"))
        let values: [Float] = [1, -2.5, 3, 0.1, 5, 6]
        #expect(Array(bytes[(10 + hlen)...]) == Self.littleEndian(values.map(\.bitPattern)))
    }

    @Test func npyReadsOtherTypesAndShapes() throws {
        let dir = TempDir()
        let it = interpreter()
        let f8 = dir.write(Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n",
                                    data: Self.littleEndian([0.25, -1, 1e3].map { (x: Double) in x.bitPattern })), "f8.npy")
        #expect(try value("load_npy \(renderString(f8))", in: it) == value("tensor [0.25, -1, 1000]"))
        // float16 1.0 is 0x3C00, -2.0 is 0xC000; version 2 has a 4-byte header length.
        let f2 = dir.write(Self.npy("{\"descr\":\"<f2\",\"shape\":(1, 2),\"fortran_order\":False}\n", version: 2,
                                    data: Self.littleEndian([UInt16(0x3C00), 0xC000])), "f2.npy")
        #expect(try value("load_npy \(renderString(f2))", in: it) == value("tensor [[1, -2]]"))
        let i4 = dir.write(Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }\n",
                                    data: Self.littleEndian([Int32(7), -3, 0, 40000])), "i4.npy")
        #expect(try value("load_npy \(renderString(i4))", in: it) == value("tensor [[7, -3], [0, 40000]]"))
        let scalar = dir.write(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n",
                                        data: Self.littleEndian([Float(1.5).bitPattern])), "scalar.npy")
        #expect(try value("load_npy \(renderString(scalar))", in: it) == .number(1.5))
        let empty = dir.write(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }\n", data: []), "empty.npy")
        #expect(try value("(load_npy \(renderString(empty))).shape", in: it) == Self.numbers([0, 4]))
    }

    @Test func hostileNpyFilesGiveErrorsNotTraps() throws {
        let dir = TempDir()
        let it = interpreter()
        let ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n"
        let data = Self.littleEndian([UInt32](repeating: Float(1).bitPattern, count: 4))
        let cases: [(String, [UInt8], String)] = [
            ("truncated", Self.npy(ok, data: Array(data[0..<10])), "truncated: shape [2, 2] of f4 needs 16 bytes of data, the file has 10"),
            ("extra", Self.npy(ok, data: data + [0]), "1 byte after the data"),
            ("huge", Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }\n", data: data), "too large"),
            ("overflow", Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }\n", data: data), "too large"),
            ("bigdim", Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n", data: data), "a dimension too large"),
            ("negative", Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }\n", data: data), "header"),
            ("magic", Array("PK\u{3}\u{4}not numpy at all".utf8), "not a .npy file"),
            ("short", [0x93, 0x4E, 0x55], "not a .npy file"),
            ("headerlen", Self.npy(ok, headerLength: 60000, data: data), "header length 60000 runs past the end of the file"),
            ("headerlen2", Self.npy(ok, version: 2, headerLength: Int(UInt32.max), data: data), "runs past the end of the file"),
            ("nolen", [0x93] + Array("NUMPY".utf8) + [2, 0, 5], "ends inside the header length"),
            ("version", Self.npy(ok, version: 9, data: data), "unsupported .npy version 9.0"),
            ("bigendian", Self.npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }\n", data: data), "big-endian"),
            ("fortran", Self.npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", data: data), "Fortran-order"),
            ("object", Self.npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }\n", data: data), "unsupported dtype '|O'"),
            ("structured", Self.npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }\n", data: data), "structured"),
            ("noshape", Self.npy("{'descr': '<f4', 'fortran_order': False}\n", data: data), "no 'shape'"),
            ("garbage", Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)\n", data: data), "expected '}'"),
            ("nested", Self.npy("{'descr': '<f4', 'x': " + String(repeating: "[", count: 5000) + "}\n", data: data), "nested too deeply"),
            ("binary", Self.npy("", headerLength: 4, data: [0xFF, 0xFE, 0xFD, 0xFC]), "the header is not text"),
        ]
        _ = try value("keep = 42", in: it)
        for (name, bytes, wanted) in cases {
            let p = dir.write(bytes, name + ".npy")
            let f = try #require(failure("x = load_npy \(renderString(p))", in: it), "\(name) loaded")
            #expect(f.message.contains(p) && f.message.contains(wanted), "\(name): \(f.message)")
            #expect(!f.message.contains("\n"), "\(name): \(f.message)")
            #expect(f.caret == renderString(p))
        }
        #expect(it.globals["x"] == nil && it.globals["keep"] == .number(42))
    }
}

/// Numbers as ada source literals (the language has no literal for infinity).
enum CSVText {
    static func literal(_ x: Double) -> String {
        if x == .infinity { return "(1e308 * 10)" }
        if x == -.infinity { return "(-1e308 * 10)" }
        return "\(x)"
    }
}
