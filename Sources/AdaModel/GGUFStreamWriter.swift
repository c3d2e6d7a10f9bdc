import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a GGUF v3 file tensor by tensor, for files too large to hold in memory (a
/// 13.5 GB F16 7B model). The metadata and every tensor's name, type and shape are declared
/// first (the header holds each tensor's offset); `write` then asks for each tensor's data in
/// declaration order and streams it to a temporary file in the target's folder, which takes
/// the target's name when complete (as `AtomicFile`: a reader never sees a half-written file,
/// and a failed write leaves the target as it was).
///
/// Metadata is encoded by `GGUFWriter` (the same bytes `GGUFWriter.bytes()` would give).
public struct GGUFStreamWriter {
    public struct TensorSpec: Sendable, Equatable {
        public let name: String
        public let type: GGMLType
        /// Row-major (`[out, in]`); the file lists it reversed.
        public let shape: [Int]
        public var elementCount: Int { shape.reduce(1, *) }
        public var byteCount: Int { elementCount / type.blockSize * type.bytesPerBlock }
    }

    /// Receives one tensor's data, in order, in any number of pieces.
    public final class Sink {
        fileprivate let fd: Int32
        fileprivate let path: String
        fileprivate var remaining = 0
        fileprivate init(fd: Int32, path: String) { self.fd = fd; self.path = path }

        /// Appends raw little-endian bytes (F32 or F16 elements, or encoded blocks).
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard bytes.count <= remaining else {
                throw ModelFileError(file: path, field: "", "a tensor was given \(bytes.count - remaining) bytes more than its shape holds")
            }
            try writeAll(fd, bytes, path: path)
            remaining -= bytes.count
        }

        public func write(halfBits: UnsafeBufferPointer<UInt16>) throws { try write(UnsafeRawBufferPointer(halfBits)) }
        public func write(floats: UnsafeBufferPointer<Float>) throws { try write(UnsafeRawBufferPointer(floats)) }
    }

    public static let alignment = 32
    private var meta = GGUFWriter()
    public private(set) var tensors: [TensorSpec] = []
    private var names = Set<String>()

    public init() { meta.alignment = 1 }

    public mutating func set(_ key: String, _ value: GGUFValue) { meta.set(key, value) }

    /// Copies every metadata entry of `file` in its order.
    public mutating func copyMetadata(from file: GGUFFile) { meta.copyMetadata(from: file) }

    /// Declares the next tensor (every dimension at least 1; for a block type the rows — the
    /// last dimension — are whole blocks; its byte count must fit in an `Int`).
    public mutating func declare(_ name: String, type: GGMLType, shape: [Int]) throws {
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 1 }) else {
            throw ModelFileError(file: "", field: "tensor '\(name)'", "shape \(shape) needs dimensions of at least 1")
        }
        guard shape[shape.count - 1] % type.blockSize == 0 else {
            throw ModelFileError(file: "", field: "tensor '\(name)'", "rows of \(shape[shape.count - 1]) are not whole \(type) blocks of \(type.blockSize)")
        }
        var n = type.bytesPerBlock
        for (i, d) in shape.enumerated() {
            let (p, o) = n.multipliedReportingOverflow(by: i == shape.count - 1 ? d / type.blockSize : d)
            guard !o else { throw ModelFileError(file: "", field: "tensor '\(name)'", "shape \(shape) is too large") }
            n = p
        }
        guard names.insert(name).inserted else {
            throw ModelFileError(file: "", field: "tensor '\(name)'", "declared twice")
        }
        tensors.append(TensorSpec(name: name, type: type, shape: shape))
    }

    private static func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// The header: metadata, tensor infos and padding to the first tensor's data.
    private func header() -> [UInt8] {
        var out = meta.bytes()
        // GGUFWriter wrote a tensor count of 0 at bytes 8..<16 (after magic and version).
        withUnsafeBytes(of: UInt64(tensors.count).littleEndian) { for i in 0..<8 { out[8 + i] = $0[i] } }
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        var offset = 0
        for t in tensors {
            let name = Array(t.name.utf8)
            put(UInt64(name.count))
            out.append(contentsOf: name)
            put(UInt32(t.shape.count))
            for d in t.shape.reversed() { put(UInt64(d)) }
            put(t.type.rawValue)
            put(UInt64(offset))
            offset += Self.padded(t.byteCount)
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: Self.padded(out.count) - out.count))
        return out
    }

    /// The size of the file `write` produces, in bytes (nil if it overflows).
    public var fileSize: Int? {
        var n = header().count
        for t in tensors {
            let (s, o) = n.addingReportingOverflow(Self.padded(t.byteCount))
            guard !o else { return nil }
            n = s
        }
        return n
    }

    /// Writes the file: `fill(index, spec, sink)` is called for each declared tensor in order
    /// and must give exactly `spec.byteCount` bytes. Errors are `ModelFileError`s naming
    /// `path` (or whatever `fill` throws); the temporary file is removed whatever happens.
    public func write(to path: String, overwrite: Bool = true,
                      fill: (Int, TensorSpec, Sink) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ModelFileError(file: path, field: "", "no such folder '\(dir)'")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ModelFileError(file: path, field: "", "is a folder") }
            if !overwrite { throw AtomicFile.existsError(path) }
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw Self.systemError(path) }
        var closed = false
        defer {
            if !closed { close(fd) }
            unlink(tmp)
        }
        let sink = Sink(fd: fd, path: path)
        try header().withUnsafeBytes { try writeAll(fd, $0, path: path) }
        let zeros = [UInt8](repeating: 0, count: Self.alignment)
        for (i, t) in tensors.enumerated() {
            sink.remaining = t.byteCount
            try fill(i, t, sink)
            guard sink.remaining == 0 else {
                throw ModelFileError(file: path, field: "tensor '\(t.name)'", "given \(t.byteCount - sink.remaining) of its \(t.byteCount) bytes")
            }
            try zeros.withUnsafeBytes { try writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<(Self.padded(t.byteCount) - t.byteCount)]), path: path) }
        }
        closed = true
        guard close(fd) == 0 else { throw Self.systemError(path) }
        if overwrite {
            guard rename(tmp, path) == 0 else { throw Self.systemError(path) }
        } else {
            guard link(tmp, path) == 0 else {
                if errno == EEXIST { throw AtomicFile.existsError(path) }
                throw Self.systemError(path)
            }
        }
    }

    fileprivate static func systemError(_ path: String) -> ModelFileError {
        ModelFileError(file: path, field: "", "cannot write: \(String(cString: strerror(errno)))")
    }
}

/// write(2) until every byte is written (retrying short writes and EINTR).
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            throw GGUFStreamWriter.systemError(path)
        }
        done += n
    }
}
