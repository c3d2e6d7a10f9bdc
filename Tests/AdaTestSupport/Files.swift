import Foundation

/// A fresh temporary directory, removed when the value is deinitialized.
public final class TempDir: @unchecked Sendable {
    public let path: String
    public init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/ada-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    public func write(_ bytes: [UInt8], _ name: String) -> String {
        let p = file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A new temporary folder's path (not removed: for files a test leaves for inspection).
public func tempDir() -> String {
    let p = NSTemporaryDirectory() + "ada-tests-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

/// Runs `body` on a thread with a large stack (deep recursion in the parser and interpreter).
public func onBigStack(_ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let t = Thread {
        body()
        done.signal()
    }
    t.stackSize = 64 << 20
    t.start()
    done.wait()
}
