/// A problem with a model file: names the file and the field being read.
public struct ModelFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let field: String
    public let message: String

    /// Field and message are kept to one printable line: names read from a hostile file may
    /// hold newlines, control characters or megabytes of text.
    public init(file: String, field: String, _ message: String) {
        self.file = file
        self.field = ModelFileError.oneLine(field, limit: 200)
        self.message = ModelFileError.oneLine(message, limit: 400)
    }

    /// `s` with control characters escaped (`\n`, `\u{1b}`) and cut to `limit` characters.
    static func oneLine(_ s: String, limit: Int) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if out.unicodeScalars.count >= limit { out += "…"; break }
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 {
                    out += "\\u{\(String(u.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}
