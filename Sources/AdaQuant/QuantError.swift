/// A problem with a quantization request or its inputs. `origin` says what the error
/// concerns, so a caller can point at the argument that set it.
public struct QuantError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What the error concerns, so a caller can point at the argument that set it.
    public enum Origin: String, Sendable, Equatable {
        /// The bit width (outside 2…8).
        case bits
        /// The group size (negative, or larger than the grouped dimension).
        case group
        /// The grouping dimension.
        case dim
        /// The grid kind.
        case grid
        /// A tensor argument (wrong rank, or a weight that does not match its Hessian).
        case tensor
        /// A Hessian that cannot be factored or inverted.
        case hessian
        /// Calibration data: missing windows, no tokens, or Hessians of the wrong size.
        case calibration
        /// A layer or module selection.
        case layer
        /// A file or the model it came from (e.g. GGUF export of a model not loaded from GGUF).
        case file
        /// Other options (dimension choices, statistics axis).
        case options
    }

    public let message: String
    public let origin: Origin?

    public init(_ m: String, origin: Origin? = nil) {
        message = m
        self.origin = origin
    }

    public var description: String { message }
}
