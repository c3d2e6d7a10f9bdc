import AdaLang
import AdaLibrary
import AdaRender
import AdaTensor
import AdaTestSupport
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// What an interpreter shows for an expression, in a given style.
func shown(_ source: String, style: DisplayStyle = DisplayStyle(color: false, maxRows: 20, width: 80, unicode: false)) throws -> String {
    let (it, c) = makeInterpreter()
    it.style = style
    let e = it.run(SourceFile(name: "t.ada", text: source))
    if let e = e { throw e }
    return c.out
}

/// Counts elements (by tag and class) of an SVG document, checking it is well-formed XML.
final class SVGCounter: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var texts: [String: [String]] = [:]
    var currentClass: String?
    var root: String?

    static func parse(_ svg: String) -> SVGCounter? {
        let c = SVGCounter()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = c
        return p.parse() ? c : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        let cls = attributes["class"]
        for c in (cls ?? "").split(separator: " ") { elements["\(name).\(c)", default: 0] += 1 }
        elements[name, default: 0] += 1
        currentClass = name == "text" ? cls : nil
        if name == "polyline", cls == "series" {
            elements["points", default: 0] += (attributes["points"] ?? "").split(separator: " ").count
        }
    }

    var currentText = ""

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if currentClass != nil { currentText += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if let c = currentClass { texts[c, default: []].append(currentText) }
        currentClass = nil
        currentText = ""
    }
}

@Suite("Display")
struct DisplayTests {
    @Test func tablesAlignNumbersInOneFormatPerColumn() throws {
        let out = try shown("table [{name: \"a\", x: 1.5, n: 3, e: 0.00012}, {name: \"bb\", x: 22.25, n: 40, e: 0.000031}]")
        #expect(out == """
        name      x   n         e
        ----  -----  --  --------
        a      1.50   3  1.200e-4
        bb    22.25  40  3.100e-5

        """)
    }

    @Test func wideTablesSplitIntoPanelsWithinTheWidth() throws {
        let cols = (0..<12).map { "column_\($0): \($0 * 1000 + 7).25" }.joined(separator: ", ")
        let out = try shown("table [{key: \"row\", \(cols)}]")
        #expect(out.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(out.contains("panel 1 of"))
        #expect(out.split(separator: "\n").filter { $0.hasPrefix("row") }.count >= 2)  // the key column repeats
    }

    @Test func longTablesShowHeadAndTail() throws {
        let out = try shown("rows = []\nfor i in range 50 { rows = append(rows, {i: i}) }\ntable rows")
        #expect(out.contains("... 30 more rows (50 in all; print shows every row)"))
        #expect(out.hasSuffix("47\n48\n49\n"))
    }

    @Test func tensorsAreSummarisedLikeNumpyAndFit() throws {
        let out = try shown("rand 200 300 seed=2")
        let lines = out.split(separator: "\n")
        #expect(lines[0].hasPrefix("tensor [200, 300] float32  min "))
        #expect(lines[0].contains(" std "))
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines.count == 8)  // summary, 3 rows, elision, 3 rows
        let narrow = try shown("rand 4 30 seed=1", style: DisplayStyle(color: false, maxRows: 20, width: 50, unicode: false))
        #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= 50 })
        #expect(try shown("tensor [1.5, 2]") == "tensor [2] float32  min 1.5  max 2  mean 1.75  std 0.25\n[1.5, 2.0]\n")
    }

    @Test func longListsAndRecordsWrap() throws {
        let list = try shown("range 100")
        #expect(list.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(list.hasSuffix("99]\n"))
        let rec = try shown("{name: \"a long record that does not fit on one line at all\", values: range(30), ok: true}")
        #expect(rec.split(separator: "\n").count == 3)
        #expect(rec.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(try shown("{a: 1, b: [1, 2]}") == "{a: 1, b: [1, 2]}\n")
    }

    @Test func asciiPlotsUseOnlyASCII() throws {
        let sources = [
            "plot (tensor [1, 4, 9, 16, 9, 4, 1])",
            "plot (rand 300 seed=1) kind=hist bins=12 levels=[-1, 0, 1]",
            "plot (table [{m: \"rtn\", p: 84.8}, {m: \"gptq\", p: 38.2}]) x=\"m\" y=\"p\"",
            "plot [rand(8, 16, seed=1), rand(8, 16, seed=2)]",
            "plot (table [{b: 2, p: 800, d: \"oc\"}, {b: 3, p: 80, d: \"oc\"}, {b: 2, p: 900, d: \"ic\"}, {b: 3, p: 200, d: \"ic\"}]) x=\"b\" y=\"p\" by=\"d\" log=true",
        ]
        for s in sources {
            let ascii = try shown(s)
            #expect(ascii.unicodeScalars.allSatisfy { $0.isASCII }, "\(s)\n\(ascii)")
            #expect(ascii.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(s)")
            let uni = try shown(s, style: DisplayStyle(color: false, maxRows: 20, width: 80, unicode: true))
            #expect(!uni.unicodeScalars.allSatisfy { $0.isASCII }, "\(s)")
            // ascii=true forces ASCII whatever the terminal.
            let forced = try shown(s + " ascii=true", style: DisplayStyle(color: false, maxRows: 20, width: 80, unicode: true))
            #expect(forced.unicodeScalars.allSatisfy { $0.isASCII }, "\(s)")
        }
    }

    @Test func histogramMarksLevelsAndCountsAllValues() throws {
        let v = try value("plot (rand 500 seed=3) kind=hist bins=20 levels=[-0.5, 0.5]")
        guard case .object(let p as PlotValue) = v else { Issue.record("not a plot"); return }
        #expect(p.kind == .hist)
        #expect(p.counts.count == 20 && p.counts.reduce(0, +) == 500)
        #expect(p.binEdges.count == 21)
        #expect(p.levels == [-0.5, 0.5])
        let text = p.render(DisplayStyle(color: false, maxRows: 20, width: 80, unicode: false))
        #expect(text.contains("^ 2 quantization levels: -0.5 0.5"))
    }

    @Test func svgIsWellFormedWithLabelsAndTheRightCounts() throws {
        let cases: [(String, (SVGCounter) -> Bool)] = [
            ("plot (rand 400 seed=1) kind=hist bins=25 levels=[-1, 0, 1] title=\"a & b <c>\" xlabel=\"weight\"",
             { $0.elements["rect.bar"] == 25 && $0.elements["line.level"] == 3 && $0.texts["title"] == ["a & b <c>"] && $0.texts["xlabel"] == ["weight"] && $0.texts["ylabel"] == ["count"] }),
            ("plot (table [{b: 2, p: 800, d: \"oc\"}, {b: 3, p: 80, d: \"oc\"}, {b: 4, p: 30, d: \"oc\"}, {b: 2, p: 900, d: \"ic\"}, {b: 3, p: 200, d: \"ic\"}, {b: 4, p: 40, d: \"ic\"}]) x=\"b\" y=\"p\" by=\"d\" log=true",
             { $0.elements["polyline.series"] == 2 && $0.elements["points"] == 6 && $0.elements["circle.point"] == 6 && $0.texts["xlabel"] == ["b"] && $0.texts["ylabel"] == ["p (log scale)"] && ($0.texts["legend-label"] ?? []) == ["oc", "ic"] }),
            ("plot (table [{m: \"rtn\", p: 84.8}, {m: \"gptq\", p: 38.2}, {m: \"ada\", p: 35.6}]) x=\"m\" y=\"p\"",
             { $0.elements["rect.bar"] == 3 && $0.texts["xlabel"] == ["p"] }),
            ("plot [abs(rand(40, 70, seed=1)), abs(rand(40, 70, seed=2)), abs(rand(40, 70, seed=3))] titles=[\"a\", \"b\", \"c\"]",
             { $0.elements["g.panel"] == 3 && ($0.texts["panel-title"] ?? []) == ["a", "b", "c"] && $0.elements["g.colorbar"] == 1 }),
            ("plot (rand 700 seed=5)", { $0.elements["points"] == 700 && $0.elements["circle.point"] == nil }),
        ]
        for (src, check) in cases {
            guard case .object(let p as PlotValue) = try value(src) else { Issue.record("not a plot: \(src)"); continue }
            let svg = p.svg()
            guard let c = SVGCounter.parse(svg) else { Issue.record("not well-formed XML: \(src)"); continue }
            #expect(c.root == "svg")
            #expect((c.elements["text.tick"] ?? 0) >= 2, "\(src): ticks")
            #expect(check(c), "\(src): \(c.elements) \(c.texts)")
        }
    }

    @Test func plotWritesSVGFilesAndRefusesOtherNames() throws {
        let dir = tempDir()
        let (it, _) = makeInterpreter()
        let r = run("p = plot (tensor [1, 2, 3]) to=\"\(dir)/a.svg\"\np.file", in: it)
        #expect(r.error == nil)
        #expect(SVGCounter.parse(try String(contentsOfFile: dir + "/a.svg", encoding: .utf8)) != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.svg"])  // no temporary left
        let bad = run("plot (tensor [1, 2, 3]) to=\"\(dir)/a.png\"", in: it)
        #expect(bad.error?.message.contains("should end in .svg") == true)
        let noTable = run("plot (tensor [1, 2]) y=\"a\"", in: it)
        #expect(noTable.error?.message.contains("names a table column") == true)
        let badCol = run("plot (table [{a: 1, b: 2}]) y=\"c\"", in: it)
        #expect(badCol.error?.message.contains("no column 'c'") == true)
    }

    @Test func plotsNeverTrapOnExtremeData() throws {
        for src in ["plot (tensor [3e38, -3e38, 0])", "plot (tensor [3e38, -3e38]) kind=hist", "plot (tensor [3e38, -3e38]) kind=bar",
                    "plot (log (tensor [-1, 0, 1, 2]))", "plot (tensor [0, 0, 0]) log=true kind=hist",
                    "plot (table [{x: \"a very long category name that goes on\", y: 1}, {x: \"b\", y: 1e300}]) x=\"x\" y=\"y\" kind=line",
                    "plot [tensor([[3e38, -3e38]]), tensor([[0, 1]])]", "plot (tensor [1e308, 0])", "plot (tensor [5]) kind=bar log=true", "plot [1]"] {
            guard case .object(let p as PlotValue) = try value(src) else { Issue.record("not a plot: \(src)"); continue }
            _ = p.render(DisplayStyle(color: true, maxRows: 20, width: 80, unicode: true))
            _ = p.render(DisplayStyle(color: false, maxRows: 20, width: 80, unicode: false))
            #expect(SVGCounter.parse(p.svg()) != nil, "\(src)")
        }
    }

    @Test func explainComputesEveryStep() throws {
        let (it, _) = makeInterpreter()
        _ = try value("e = explain (tensor [0.5, -1.2, 0.3, 2.0, -0.7]) bits=2", in: it)
        func n(_ f: String) throws -> Double { try value("e.\(f)", in: it).number ?? .nan }
        #expect(try n("min") == Double(Float(-1.2)))
        #expect(abs(try n("scale") - 3.2 / 3) < 1e-6)
        #expect(try n("zero") == 1)
        #expect(try value("e.codes", in: it) == .list([.int(1), .int(0), .int(1), .int(3), .int(0)]))
        #expect(try value("len e.levels", in: it) == .int(4))
        #expect(abs(try n("mse") - 0.102) < 1e-3)
        guard case .object(let p as PlotValue) = try value("e.plot", in: it) else { Issue.record("no plot"); return }
        #expect(p.kind == .hist && p.levels.count == 4)
        // The reference grid clamps the zero point of an all-positive group.
        let out = try shown("explain (tensor [[0.5, 0.6, 0.7, 1.0]]) bits=2 grid=reference")
        #expect(out.contains("clamped to 0…3: 0"))
        #expect(out.contains("3 values clipped"))
        #expect(try value("(explain (tensor [[0.5, 0.6, 0.7, 1.0]]) bits=2).dequantized") == .list([0.5, 0.6666667, 0.6666667, 1].map { .number(Double(Float($0))) }))
    }

    @Test func explainContrastsGroupingsAroundAChannel() throws {
        // A weight whose column 5 is large: per-IC isolates it, per-OC spreads its range.
        let (it, c) = makeInterpreter()
        let setup = """
        rows = []
        for i in range 16 {
          r = []
          for j in range 32 {
            if j == 5 { r = append(r, 20) } else { r = append(r, 0) }
          }
          rows = append(rows, r)
        }
        w = (rand 16 32 seed=3) + (tensor rows)
        x = explain w bits=3 group=8 channel=5
        x
        """
        if let e = it.run(SourceFile(name: "t.ada", text: setup)) { throw e }
        let text = c.out
        #expect(text.contains("around input channel 5"))
        #expect(text.contains("column 5: max|w| = "))
        #expect(text.contains("per-OC: channel 5 shares each row's group with columns 0…7"))
        #expect(try value("x.channel", in: it) == .int(5))
        // Per-IC keeps the other channels' groups free of the large column.
        let oc = try value("x.mse_oc", in: it).number!, ic = try value("x.mse_ic", in: it).number!
        #expect(ic < oc)
        guard case .object(let p as PlotValue) = try value("x.plot", in: it) else { Issue.record("no plot"); return }
        #expect(p.kind == .heatmap && p.panels.map(\.title) == ["per-OC", "per-IC"])
        let nan = run("explain (log (tensor [-1, 1]))", in: it)
        #expect(nan.error?.message.contains("finite values") == true)
    }
}

@Suite("Notebooks")
struct NotebookTests {
    static let script = """
    # Intro paragraph.
    #
    # Second paragraph.
    x = 6   # trailing
    print "x is", x
    # A table.
    table [{a: 1, b: 2.5}]
    plot (tensor [1, 2, 3]) title="three"
    help round
    y = x + "s"
    """

    func session() -> Interpreter {
        let (it, _) = makeInterpreter()
        _ = it.run(SourceFile(name: "nb.ada", text: NotebookTests.script))
        return it
    }

    @Test func cellsCarryCommentsSourcesAndOutputs() {
        let it = session()
        let cells = it.standardHost.notebook.cells
        #expect(cells.map(\.source) == ["x = 6   # trailing", "print \"x is\", x", "table [{a: 1, b: 2.5}]", "plot (tensor [1, 2, 3]) title=\"three\""])
        #expect(cells[0].markdown == "Intro paragraph.\n\nSecond paragraph.")
        #expect(cells[1].markdown == nil)
        #expect(cells[2].markdown == "A table.")
        if case .stdout(let s) = cells[1].outputs.first { #expect(s == "x is 6\n") } else { Issue.record("no stdout") }
        if case .value(let parts) = cells[2].outputs.first, case .table = parts.first {} else { Issue.record("no table") }
        if case .value(let parts) = cells[3].outputs.first, case .graphic = parts.first {} else { Issue.record("no plot") }
        // help is not recorded; the failed statement is kept apart, with its error.
        #expect(it.standardHost.notebook.failed?.source == "y = x + \"s\"")
        #expect(it.standardHost.notebook.allCells(includeFailure: true).count == 5)
    }

    @Test func markdownNotebookLinksItsPlots() throws {
        let it = session()
        let dir = tempDir()
        let path = dir + "/nb.md"
        let files = try NotebookWriter.write(it.standardHost.notebook.cells, to: path, title: "nb.ada", command: "ada run nb.ada --notebook nb.md", overwrite: false)
        #expect(files == [dir + "/nb_files/plot-01.svg", path])
        let md = try String(contentsOfFile: path, encoding: .utf8)
        #expect(md.hasPrefix("# nb.ada\n"))
        #expect(md.contains("```ada\nx = 6   # trailing\n```"))
        #expect(md.contains("| a | b |\n|---:|---:|\n| 1 | 2.5 |"))
        #expect(md.contains("![three](nb_files/plot-01.svg)"))
        #expect(SVGCounter.parse(try String(contentsOfFile: dir + "/nb_files/plot-01.svg", encoding: .utf8)) != nil)
        // Never clobbered silently; no temporary files left behind.
        #expect(throws: BuiltinError.self) { try NotebookWriter.write(it.standardHost.notebook.cells, to: path, title: "t", command: nil, overwrite: false) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["nb.md", "nb_files"])
        // Rewritten without plots: the stale SVG folder goes.
        try NotebookWriter.write(Array(it.standardHost.notebook.cells.prefix(2)), to: path, title: "t", command: nil, overwrite: true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/nb_files"))
    }

    @Test func jupyterNotebookIsNbformat4() throws {
        let it = session()
        let text = NotebookWriter.ipynb(it.standardHost.notebook.allCells(includeFailure: true), title: "nb.ada", command: nil)
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(json["nbformat"] as? Int == 4)
        #expect(json["nbformat_minor"] as? Int == 5)
        let meta = json["metadata"] as! [String: Any]
        #expect((meta["kernelspec"] as? [String: Any])?["name"] as? String == "ada")
        let cells = json["cells"] as! [[String: Any]]
        let ids = cells.compactMap { $0["id"] as? String }
        #expect(ids.count == cells.count && Set(ids).count == ids.count)
        #expect(cells.map { $0["cell_type"] as! String } == ["markdown", "markdown", "code", "code", "markdown", "code", "code", "code"])
        var mimes = Set<String>()
        var streams: [String] = []
        for c in cells where c["cell_type"] as? String == "code" {
            #expect(c["execution_count"] is Int)
            for o in c["outputs"] as! [[String: Any]] {
                if let d = o["data"] as? [String: Any] { mimes.formUnion(d.keys) }
                if o["output_type"] as? String == "stream" { streams.append(o["name"] as! String) }
            }
        }
        #expect(mimes == ["text/plain", "text/markdown", "image/svg+xml"])
        #expect(streams == ["stdout", "stderr"])  // print, then the error of the failed statement
    }

    @Test func saveNotebookFromASession() throws {
        let dir = tempDir()
        let (it, c) = makeInterpreter()
        _ = it.run(SourceFile(name: "<repl>", text: "x = 2\nx * 21"))
        _ = it.run(SourceFile(name: "<repl>", text: "save notebook \"\(dir)/s.ipynb\""))
        #expect(c.out.contains("saved 2 cells to \(dir)/s.ipynb"))
        let again = run("save notebook \"\(dir)/s.ipynb\"", in: it)
        #expect(again.error?.message.contains("exists; not overwriting it") == true)
        #expect(run("save notebook \"\(dir)/s.ipynb\" overwrite=true", in: it).error == nil)
        #expect(run("save notebook \"\(dir)/s.txt\"", in: it).error?.message.contains(".md (Markdown) or .ipynb") == true)
        #expect(run("save notebook", in: it).error?.message.contains("needs the notebook's file name") == true)
        // The session's saved scripts are unaffected by notebooks.
        #expect(it.state.history == ["x = 2", "x * 21"])
    }
}
