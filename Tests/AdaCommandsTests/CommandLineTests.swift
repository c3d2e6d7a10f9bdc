import AdaCommands
import Foundation
import Testing

/// The command line as a library: usage errors are found before anything runs, and name
/// the option and its valid values.
@Suite("Command line")
struct CommandLineTests {
    @Test func optionEnumsAreParsedOnceWithTheirValidValues() throws {
        let e = try #require(AdaCLI.usageError(["bench", "quant", "--dim", "sideways"]))
        #expect(e.contains("'sideways' is invalid for '--dim <dim>'"))
        #expect(e.contains("'oc', 'ic', 'ada' or 'ada-module'"))
        let m = try #require(AdaCLI.usageError(["bench", "quantize", "--method", "awq"]))
        #expect(m.contains("'awq' is invalid for '--method <method>'") && m.contains("'rtn'") && m.contains("'gptq'"))
        let g = try #require(AdaCLI.usageError(["bench", "quantize", "--grid", "fancy"]))
        #expect(g.contains("--grid") && g.contains("float-zero"))
        #expect(AdaCLI.usageError(["bench", "quant", "--dim", "ada-module", "--method", "rtn"]) == nil)
    }

    @Test func subcommandsAndArgumentsAreChecked() throws {
        #expect(AdaCLI.usageError(["run"])?.contains("Missing expected argument '<file>'") == true)
        #expect(AdaCLI.usageError(["frobnicate"]) != nil)
        #expect(AdaCLI.usageError(["run", "x.ada", "--set", "bits=3"]) == nil)
        #expect(AdaCLI.usageError(["ppl", "--windows", "many"])?.contains("--windows") == true)
    }

    @Test func exitStatusesOfCheck() throws {
        let dir = NSTemporaryDirectory() + "ada-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x = 1\nprint x + 1\n".write(toFile: dir + "/ok.ada", atomically: true, encoding: .utf8)
        try "x = (1\n".write(toFile: dir + "/syntax.ada", atomically: true, encoding: .utf8)
        try "print y\n".write(toFile: dir + "/name.ada", atomically: true, encoding: .utf8)
        #expect(AdaCLI.main(["check", dir + "/ok.ada"]) == 0)
        #expect(AdaCLI.main(["check", dir + "/syntax.ada"]) == 2)
        #expect(AdaCLI.main(["check", dir + "/name.ada"]) == 1)
        #expect(AdaCLI.main(["check", dir + "/missing.ada"]) == 2)
        #expect(AdaCLI.main(["bench", "quant", "--dim", "sideways"]) == 2)
    }
}
