#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a model file: names the file and the field being read.
public struct ModelFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let field: String
    public let message: String

    public init(file: String, field: String, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}

/// A read-only memory mapping of a whole file. Pages are touched only when read.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelFileError(file: path, field: "", "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ModelFileError(file: path, field: "", "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw ModelFileError(file: path, field: "", "not a regular file")
        }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelFileError(file: path, field: "", "cannot map: \(String(cString: strerror(errno)))")
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base { munmap(base, size) }
    }

    /// Lets the kernel drop the pages read so far (they are re-read from the file if touched
    /// again): after a model's tensors are dequantized the mapping no longer counts in RSS.
    public func dropResidentPages() {
        if let base { _ = madvise(base, size, Int32(MADV_DONTNEED)) }
    }
}

/// A bounds-checked little-endian cursor over a byte buffer. Every read names its field so
/// that a malformed file produces an error saying where it broke.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset: Int = 0

    var remaining: Int { bytes.count - offset }

    func fail(_ field: String, _ message: String) -> ModelFileError {
        ModelFileError(file: file, field: field, message)
    }

    mutating func need(_ n: Int, _ field: String) throws {
        guard n >= 0, n <= remaining else {
            throw fail(field, "unexpected end of file at byte \(offset) (needs \(n) bytes, \(remaining) left)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: String) throws -> T {
        try need(MemoryLayout<T>.size, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ field: String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, field))
    }

    mutating func readDouble(_ field: String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, field))
    }

    mutating func readBytes(_ n: Int, _ field: String) throws -> UnsafeRawBufferPointer {
        try need(n, field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        offset += n
        return slice
    }

    /// A UTF-8 string of `n` bytes; invalid UTF-8 is an error.
    mutating func readString(count n: Int, _ field: String) throws -> String {
        let raw = try readBytes(n, field)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw fail(field, "string is not valid UTF-8")
        }
        return s
    }
}
