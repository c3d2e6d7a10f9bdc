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
