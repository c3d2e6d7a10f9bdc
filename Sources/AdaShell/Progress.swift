import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress bar on one terminal line: label, bar, step counts, rate and ETA. Drawn only
/// after `delay` seconds (quick commands never show one), at most ten times a second, and
/// erased when the work is done or before any other output. The shell installs it only
/// when standard error is a terminal and --quiet is not given; notebooks never see it (it
/// is written to standard error, outside the interpreter's output).
public final class ProgressBar {
    let write: (String) -> Void
    let clock: () -> Double
    public var width: Int
    public var unicode: Bool
    public var delay: Double
    public private(set) var isShown = false

    var command = -1.0
    var label = ""
    var phaseStart = 0.0
    var lastUpdate = 0.0
    var lastDraw = -1.0

    public init(width: Int = 80, unicode: Bool = true, delay: Double = 0.5,
                clock: @escaping () -> Double = ProgressBar.monotonic, write: @escaping (String) -> Void) {
        self.width = width
        self.unicode = unicode
        self.delay = delay
        self.clock = clock
        self.write = write
    }

    public static func monotonic() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Reports `done` of `total` steps of `label`, for the command that started at
    /// `commandStart` (a new command or a new label restarts the rate).
    public func update(_ label: String, _ done: Int, _ total: Int, commandStart: Double) {
        let now = clock()
        if commandStart != command {
            command = commandStart
            self.label = label
            phaseStart = commandStart
        } else if label != self.label {
            self.label = label
            phaseStart = lastUpdate
        }
        lastUpdate = now
        if done >= total {
            clear()
            return
        }
        guard now - commandStart >= delay, now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let line = ProgressBar.render(label: label, done: done, total: total, elapsed: now - phaseStart, width: width, unicode: unicode)
        write("\r" + line + "\u{1B}[K")
        isShown = true
    }

    /// Erases the bar if one is on the screen.
    public func clear() {
        if isShown {
            write("\r\u{1B}[K")
            isShown = false
        }
    }

    /// `quantize: block  [████████░░░░░░░░]  12/30  1.9/s  ETA 0:09`, at most `width - 1`
    /// characters.
    public static func render(label: String, done: Int, total: Int, elapsed: Double, width: Int, unicode: Bool) -> String {
        let counts = "\(done)/\(total)"
        var rate = ""
        var eta = "ETA --"
        if done > 0 && elapsed > 0 {
            let r = Double(done) / elapsed
            rate = r >= 1 ? String(format: "%.1f/s", r) : String(format: "%.1f s/step", 1 / r)
            eta = "ETA " + clockTime(Double(total - done) / r)
        }
        let tail = "  " + counts + (rate.isEmpty ? "" : "  " + rate) + "  " + eta
        let name = label.count > 24 ? String(label.prefix(23)) + (unicode ? "…" : ".") : label
        let room = max(0, width - 1 - name.count - 4 - tail.count)
        let barW = min(30, room)
        var bar = ""
        if barW >= 5 {
            let frac = total > 0 ? Double(done) / Double(total) : 0
            let filled = Int((frac * Double(barW)).rounded(.down))
            bar = "  [" + String(repeating: unicode ? "█" : "#", count: filled) + String(repeating: unicode ? "░" : ".", count: barW - filled) + "]"
        }
        let line = name + bar + tail
        return line.count > width - 1 ? String(line.prefix(max(0, width - 1))) : line
    }

    /// `0:09`, `12:05`, `1:02:03`.
    static func clockTime(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--" }
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) }
        return String(format: "%d:%02d", t / 60, t % 60)
    }
}
