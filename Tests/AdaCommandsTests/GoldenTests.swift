import Foundation
import Testing

/// The golden transcripts (Tests/golden/*.ada and *.cmd, compared with their .expected
/// output and .status) run from `swift test` too: this test runs Tests/golden/run.sh on
/// the `ada` binary built beside the test bundle. `scripts/test` runs them this way.
@Suite("Golden transcripts")
struct GoldenTests {
    @Test func everyTranscriptMatches() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ada").path
        let script = repo.appendingPathComponent("Tests/golden/run.sh").path
        try #require(FileManager.default.isExecutableFile(atPath: bin), "no ada binary beside the tests at \(bin)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script]
        var env = ProcessInfo.processInfo.environment
        env["ADA"] = bin
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        FileHandle.standardError.write(Data(text.utf8))
        #expect(p.terminationStatus == 0, "golden transcripts failed:\n\(text.suffix(4000))")
    }
}
