import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic file writes: the bytes go to a temporary file in the target's folder, which then
/// takes the target's name (a rename, or a hard link when replacing is refused), so a reader
/// never sees a half-written file and a failed write leaves the target as it was. The
/// temporary file is removed whatever happens.
///
/// Errors are `ModelFileError`s naming the path (field empty): the folder does not exist, the
/// path is a folder, the file exists and `overwrite` is false (`existsError(path)`), or the
/// system's reason for a failed write.
public enum AtomicFile {
    /// Writes `data` to `path`. With `overwrite: false` an existing file is left untouched and
    /// the call throws `existsError(path)`; the check and the write are one atomic step.
    public static func write(_ data: Data, to path: String, overwrite: Bool = true) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ModelFileError(file: path, field: "", "no such folder '\(dir)'")
        }
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ModelFileError(file: path, field: "", "is a folder") }
            if !overwrite { throw existsError(path) }
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(tmp) }
        do {
            try data.write(to: URL(fileURLWithPath: tmp))
        } catch {
            throw ModelFileError(file: path, field: "", "cannot write: \(error.localizedDescription)")
        }
        if overwrite {
            guard rename(tmp, path) == 0 else { throw systemError(path) }
        } else {
            // link(2) fails with EEXIST instead of replacing a file created since the check.
            guard link(tmp, path) == 0 else {
                if errno == EEXIST { throw existsError(path) }
                throw systemError(path)
            }
        }
    }

    /// Writes `text` as UTF-8 (see `write(_:to:overwrite:)`).
    public static func write(_ text: String, to path: String, overwrite: Bool = true) throws {
        try write(Data(text.utf8), to: path, overwrite: overwrite)
    }

    /// The error a write with `overwrite: false` throws when `path` exists.
    public static func existsError(_ path: String) -> ModelFileError {
        ModelFileError(file: path, field: "", "exists; not overwriting it")
    }

    private static func systemError(_ path: String) -> ModelFileError {
        ModelFileError(file: path, field: "", "cannot write: \(String(cString: strerror(errno)))")
    }
}
