import AdaLang
import Foundation

/// Parses, returning the syntax error if any.
func syntaxError(_ source: String) -> AdaError? {
    do { _ = try Parser.parse(SourceFile(name: "t.ada", text: source)); return nil } catch let e as AdaError { return e } catch { return nil }
}

/// Runs `body` on a thread with a large stack (deep recursion in the parser).
func onBigStack(_ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let t = Thread {
        body()
        done.signal()
    }
    t.stackSize = 64 << 20
    t.start()
    done.wait()
}
