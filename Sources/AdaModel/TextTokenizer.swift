/// What the model, the data sets and the evaluation need from a tokenizer: text to token ids
/// and back. `BPETokenizer` (GPT-2 byte-level BPE, SmolLM2) and `SentencePieceTokenizer`
/// (score-ordered BPE on a SentencePiece vocabulary, Gemma 3) conform.
///
/// Tokenizers are classes and immutable once built, so they can be shared between threads and
/// compared by identity (`===`) to tell whether two token sequences share a vocabulary.
public protocol TextTokenizer: AnyObject, Sendable {
    /// The token ids of `text`, starting with `bosID` when the tokenizer adds one.
    func encode(_ text: String) -> [Int32]
    /// The text that `ids` spell. Ids outside the vocabulary are skipped; how special tokens
    /// (BOS, EOS, control tokens) show is each tokenizer's own rule, given in its documentation.
    func decode(_ ids: [Int32]) -> String
    /// One token's text for display; `<id>` for an id outside the vocabulary.
    func token(_ id: Int32) -> String
    /// The number of token ids (every id `encode` produces is below it).
    var vocabularySize: Int { get }
    /// The beginning-of-sequence id that `encode` puts first, or nil when it adds none.
    var bosID: Int32? { get }
    /// The ids that end a generated text (`generate` stops at the first): the file's EOS,
    /// and its end-of-turn token when it names one (Gemma's `<end_of_turn>`). May be empty.
    var endIDs: Set<Int32> { get }
}

extension BPETokenizer: TextTokenizer {
    /// Byte-level BPE as SmolLM2 uses it adds no BOS (its perplexity protocol has none).
    public var bosID: Int32? { nil }
}
