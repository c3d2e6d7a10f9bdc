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
