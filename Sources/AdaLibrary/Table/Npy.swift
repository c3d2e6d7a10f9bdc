import AdaModel
import AdaTensor
import Foundation

/// NumPy's `.npy` format: the magic `\x93NUMPY`, a version, a header length, a header
/// that is a Python dict literal (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`)
/// padded with spaces to a multiple of 64 bytes and ending in a newline, then the data.
///
/// Writes version 1.0, little-endian float32 (`<f4`), C order. Reads versions 1, 2 and 3,
/// C order, little-endian (or byte-order-free) floats of 2, 4 and 8 bytes and integers of
/// 1, 2, 4 and 8 bytes, converted to float32. Every size in the file is checked against
/// the file's length before it is used; errors are `ModelFileError`s naming the file.
enum Npy {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    // MARK: Writing

    static func encode(_ t: Tensor) -> Data {
        let shape: String
        switch t.shape.count {
        case 0: shape = "()"
        case 1: shape = "(\(t.shape[0]),)"
        default: shape = "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let used = magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - used % 64) % 64) + "\n"
        var out = Data(magic + [1, 0])
        let n = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        let bits = t.data.map { $0.bitPattern.littleEndian }
        bits.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    // MARK: Reading

    /// The element types read: the dtype code after the byte-order character, and its size.
    enum Element: String {
        case f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8
        var size: Int { Int(rawValue.dropFirst())! }
    }

    /// The array in `bytes`: its shape and its values as float32. A 0-d array has shape [].
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, maxElements: Int) throws -> Tensor {
        func fail(_ field: String, _ message: String) -> ModelFileError { ModelFileError(file: file, field: field, message) }
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw fail("", "not a .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("version", "unsupported .npy version \(major).\(bytes[7]) (ada reads 1, 2 and 3)") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("header", "the file ends inside the header length") }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= bytes.count - headerStart else {
            throw fail("header", "the header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
        }
        guard let header = String(validating: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self) else {
            throw fail("header", "the header is not text")
        }
        var parser = HeaderParser(text: header, file: file)
        let dict = try parser.dictionary()
        let (element, shape) = try describe(dict, fail)
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= maxElements else {
                throw fail("shape", "shape \(shape) is too large (limit \(maxElements) elements)")
            }
            count = p
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        let needed = count * element.size
        guard needed == available else {
            throw fail("data", needed > available
                ? "the file is truncated: shape \(shape) of \(element.rawValue) needs \(needed) bytes of data, the file has \(available)"
                : "\(available - needed) byte\(available - needed == 1 ? "" : "s") after the data of shape \(shape) (\(needed) bytes)")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        return Tensor(shape: shape, data: values(data, element, count))
    }

    /// The element type and shape a header dict gives, checked.
    static func describe(_ dict: [String: HeaderParser.Item], _ fail: (String, String) -> ModelFileError) throws -> (Element, [Int]) {
        guard case .string(let descr)? = dict["descr"] else {
            throw fail("descr", dict["descr"] == nil ? "the header has no 'descr'" : "a structured dtype is not supported (ada reads plain numbers)")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw fail("fortran_order", "the header has no 'fortran_order' True or False") }
        guard !fortran else { throw fail("fortran_order", "Fortran-order arrays are not supported; save numpy.ascontiguousarray(a)") }
        guard case .tuple(let shape)? = dict["shape"] else { throw fail("shape", "the header has no 'shape' tuple") }
        guard let order = descr.first, let element = Element(rawValue: String(descr.dropFirst())),
              order == "<" || order == "|" || order == "=" || (order == ">" && element.size == 1) else {
            if descr.first == ">" { throw fail("descr", "big-endian data ('\(descr)') is not supported; save a.astype('<\(descr.dropFirst())')") }
            throw fail("descr", "unsupported dtype '\(descr)' (ada reads float16, float32, float64 and integers: '<f4', '<f8', '<f2', '<i4', …)")
        }
        guard shape.count <= 32 else { throw fail("shape", "\(shape.count) dimensions (at most 32)") }
        return (element, shape)
    }

    /// The `count` values of `data` (little-endian) as float32.
    static func values(_ data: UnsafeRawBufferPointer, _ e: Element, _ count: Int) -> [Float] {
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            T(littleEndian: data.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        return (0..<count).map { i -> Float in
            switch e {
            case .f2: return HalfPrecision.float(fromHalfBits: load(UInt16.self, i))
            case .f4: return Float(bitPattern: load(UInt32.self, i))
            case .f8: return Float(Double(bitPattern: load(UInt64.self, i)))
            case .i1: return Float(Int8(bitPattern: data[i]))
            case .u1: return Float(data[i])
            case .i2: return Float(load(Int16.self, i))
            case .u2: return Float(load(UInt16.self, i))
            case .i4: return Float(load(Int32.self, i))
            case .u4: return Float(load(UInt32.self, i))
            case .i8: return Float(load(Int64.self, i))
            case .u8: return Float(load(UInt64.self, i))
            }
        }
    }

    /// The header: a Python dict literal whose keys are strings and whose values are
    /// strings, `True` / `False`, tuples of non-negative integers, or (skipped) anything else
    /// numpy writes (a list of fields for a structured dtype).
    struct HeaderParser {
        enum Item: Equatable {
            case string(String)
            case bool(Bool)
            case tuple([Int])
            case other
        }

        let chars: [Character]
        let file: String
        var i = 0

        init(text: String, file: String) {
            chars = Array(text)
            self.file = file
        }

        func fail(_ message: String) -> ModelFileError {
            ModelFileError(file: file, field: "header", message + " at character \(i + 1)")
        }

        mutating func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

        mutating func expect(_ c: Character) throws {
            skipSpace()
            guard i < chars.count, chars[i] == c else { throw fail("expected '\(c)'") }
            i += 1
        }

        mutating func dictionary() throws -> [String: Item] {
            var out: [String: Item] = [:]
            try expect("{")
            while true {
                skipSpace()
                if i < chars.count, chars[i] == "}" { i += 1; return out }
                guard case .string(let k) = try item(depth: 0) else { throw fail("a key that is not a string") }
                try expect(":")
                out[k] = try item(depth: 0)
                skipSpace()
                if i < chars.count, chars[i] == "," { i += 1; continue }
                try expect("}")
                return out
            }
        }

        mutating func item(depth: Int) throws -> Item {
            skipSpace()
            guard i < chars.count else { throw fail("the header ends early") }
            guard depth < 8 else { throw fail("values nested too deeply") }
            let c = chars[i]
            if c == "'" || c == "\"" {
                i += 1
                let s = i
                while i < chars.count, chars[i] != c { i += 1 }
                guard i < chars.count else { throw fail("a string is not closed") }
                i += 1
                return .string(String(chars[s..<(i - 1)]))
            }
            if c == "(" || c == "[" { return try sequence(close: c == "(" ? ")" : "]", depth: depth) }
            let s = i
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "-" { i += 1 }
            let word = String(chars[s..<i])
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "": throw fail("unexpected '\(c)'")
            default: throw fail("unexpected '\(word.prefix(20))'")
            }
        }

        /// A tuple of integers (a shape), or another sequence (`.other`).
        mutating func sequence(close: Character, depth: Int) throws -> Item {
            i += 1
            var ints: [Int] = []
            var onlyInts = close == ")"
            while true {
                skipSpace()
                if i < chars.count, chars[i] == close { i += 1; return onlyInts ? .tuple(ints) : .other }
                skipSpace()
                let s = i
                while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                if i > s {
                    guard i - s <= 18, let n = Int(String(chars[s..<i])) else { throw fail("a dimension too large") }
                    ints.append(n)
                } else {
                    _ = try item(depth: depth + 1)
                    onlyInts = false
                }
                skipSpace()
                if i < chars.count, chars[i] == "," { i += 1; continue }
                try expect(close)
                return onlyInts ? .tuple(ints) : .other
            }
        }
    }
}
