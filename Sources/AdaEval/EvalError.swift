/// A problem with an evaluation request or its data. `origin` says what the error concerns,
/// so a caller can point at the argument that set it.
public struct EvalError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What the error concerns.
    public enum Origin: String, Sendable, Equatable {
        /// The number of evaluation windows (below 1).
        case windows
        /// The context length (below 2 tokens).
        case ctx
        /// The text: too few tokens for the windows asked.
        case text
        /// An evaluation data file that cannot be read or is not JSON lines.
        case file
        /// A row of an evaluation file: a missing or malformed field, a label out of range.
        case data
        /// The task: no examples, or a task that needs another entry point (MMLU).
        case task
        /// The example limit (below 1, so nothing is left to score).
        case limit
        /// A scoring request: empty context or continuation, too long, or not matching its prefix.
        case request
        /// The model: a quantized model compared with a reference of another shape.
        case model
        /// Generation: the prompt (no tokens, or ids outside the vocabulary).
        case prompt
        /// Generation: the number of new tokens (below 1, or past the context length).
        case tokens
        /// Sampling: the temperature (negative or not finite).
        case temperature
        /// Sampling: top-k (negative).
        case topK
        /// Sampling: top-p (outside (0, 1]).
        case topP
    }

    public let message: String
    public let origin: Origin?

    public init(_ m: String, origin: Origin? = nil) {
        message = m
        self.origin = origin
    }

    public var description: String { message }
}
