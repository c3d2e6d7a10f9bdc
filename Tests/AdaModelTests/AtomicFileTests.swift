import AdaModel
import AdaTestSupport
import Foundation
import Testing

@Suite("Atomic file writes")
struct AtomicFileTests {
    /// Names in the folder other than the target: a leftover temporary file would show here.
    func others(_ dir: TempDir, besides names: Set<String>) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { !names.contains($0) }
    }

    @Test func writesAndReplaces() throws {
        let dir = TempDir()
        let p = dir.file("a.txt")
        try AtomicFile.write(Data("one".utf8), to: p)
        #expect(FileManager.default.contents(atPath: p) == Data("one".utf8))
        try AtomicFile.write("two", to: p)
        #expect(FileManager.default.contents(atPath: p) == Data("two".utf8))
        #expect(others(dir, besides: ["a.txt"]).isEmpty)
    }

    @Test func refusesToReplaceWhenAsked() throws {
        let dir = TempDir()
        let p = dir.file("keep.txt")
        try AtomicFile.write(Data("original".utf8), to: p, overwrite: false)
        #expect(FileManager.default.contents(atPath: p) == Data("original".utf8))
        #expect(throws: AtomicFile.existsError(p)) { try AtomicFile.write(Data("new".utf8), to: p, overwrite: false) }
        #expect(FileManager.default.contents(atPath: p) == Data("original".utf8))
        #expect(AtomicFile.existsError(p).description.contains("exists"))
        #expect(others(dir, besides: ["keep.txt"]).isEmpty, "the temporary file is removed")
    }

    @Test func failuresNameThePathAndLeaveNothing() throws {
        let dir = TempDir()
        // No such folder.
        let missing = dir.file("nope/x.bin")
        do {
            try AtomicFile.write(Data([1]), to: missing)
            Issue.record("wrote into a missing folder")
        } catch let e as ModelFileError {
            #expect(e.file == missing && e.message.contains("no such folder"))
        }
        // A folder in the way, with and without overwrite.
        let sub = dir.file("sub")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        for overwrite in [true, false] {
            do {
                try AtomicFile.write(Data([1]), to: sub, overwrite: overwrite)
                Issue.record("replaced a folder")
            } catch let e as ModelFileError {
                #expect(e.message.contains("folder"), "\(e)")
            }
        }
        #expect(others(dir, besides: ["sub"]).isEmpty)
    }
}
