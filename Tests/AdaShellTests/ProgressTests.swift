import AdaLang
import AdaLibrary
import AdaRender
import AdaShell
import Foundation
import Testing

@Suite("Progress")
struct ProgressTests {
    @Test func lineHasLabelBarCountsRateAndETA() {
        let line = ProgressBar.render(label: "quantize: block", done: 12, total: 30, elapsed: 6, width: 80, unicode: false)
        #expect(line == "quantize: block  [############..................]  12/30  2.0/s  ETA 0:09")
        let slow = ProgressBar.render(label: "capture", done: 1, total: 4, elapsed: 50, width: 80, unicode: true)
        #expect(slow.hasPrefix("capture  [███████░░░░░░░"))
        #expect(slow.hasSuffix("1/4  50.0 s/step  ETA 2:30"))
        let first = ProgressBar.render(label: "perplexity", done: 0, total: 8, elapsed: 0.2, width: 40, unicode: false)
        #expect(first.count <= 39 && first.contains("0/8") && first.hasSuffix("ETA --"))
    }

    @Test func drawsOnlyAfterTheDelayAndErasesWhenDone() {
        final class Sink: @unchecked Sendable { var text = ""; var t = 100.0 }
        let s = Sink()
        let bar = ProgressBar(width: 60, unicode: false, delay: 0.5, clock: { s.t }) { s.text += $0 }
        bar.update("gptq", 1, 10, commandStart: 100)      // at once: quick commands show nothing
        #expect(s.text.isEmpty)
        s.t = 100.8
        bar.update("gptq", 2, 10, commandStart: 100)
        #expect(s.text.hasPrefix("\r") && s.text.contains("2/10") && s.text.hasSuffix("\u{1B}[K"))
        #expect(bar.isShown)
        s.t = 100.85
        let before = s.text
        bar.update("gptq", 3, 10, commandStart: 100)      // at most ten redraws a second
        #expect(s.text == before)
        s.t = 101.0
        bar.update("gptq", 10, 10, commandStart: 100)     // done: erased
        #expect(s.text.hasSuffix("\r\u{1B}[K") && !bar.isShown)
        bar.clear()                                        // nothing more to erase
        #expect(s.text.hasSuffix("\r\u{1B}[K"))
    }

    @Test func noProgressWhenStandardErrorIsNotATerminal() throws {
        // The shell installs a progress bar only on a terminal; in tests standard error is
        // usually a pipe or a file.
        guard isatty(STDERR_FILENO) == 0 else { return }
        let it = Shell.makeInterpreter()
        #expect((it.host as? StandardHost)?.progressHandler == nil)
        // And through the binary: a long command with ADA_PROGRESS_DELAY=0 writes nothing to a
        // file-backed standard error (the golden test progress.cmd checks the terminal case
        // and notebooks).
        guard let ada = adaBinary() else { return }
        let dir = NSTemporaryDirectory() + "ada-progress-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "r = quantize (load) bits=3 group=64\nprint \"done\"\n".write(toFile: dir + "/p.ada", atomically: true, encoding: .utf8)
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("datasets/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: model) else { return }
        let r = sh(ada, ["run", "p.ada"], cwd: dir, env: ["ADA_PROGRESS_DELAY": "0"])
        #expect(r.status == 0)
        #expect(r.out == "done\n")
    }
}
