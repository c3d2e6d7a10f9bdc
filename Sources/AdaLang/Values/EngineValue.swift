import Foundation

/// An engine value: a tensor, a model, a dataset, a table, activations, a quantized model…
/// Engine values are immutable objects (operations return new ones), so a value can be
/// shared between variables and a failed statement can be rolled back by restoring names.
///
/// To add a type: write a final class conforming to `EngineValue`, give it a `typeName`, a
/// one-line `summary` and optionally its view as parts (`outputs`: text, tables, graphics),
/// fields (`x.name`), indexing (`x[key]`) and operators; then return it from a builtin as
/// `.object(…)`. The language never draws a value itself: its host renders the parts.
public protocol EngineValue: AnyObject {
    /// The type's name as users see it: "tensor", "model", "quantized model".
    var typeName: String { get }
    /// Type names this value also satisfies in argument checks (a quantized model is also a
    /// "model"). Defaults to `[typeName]`.
    var kinds: [String] { get }
    /// One line, used inside lists, records and tables and by `print` when short.
    var summary: String { get }
    /// Fields readable with `value.name`.
    var fieldNames: [String] { get }
    func field(_ name: String) -> Value?
    /// `value[key]`; nil when this type cannot be indexed.
    func index(_ items: [IndexKey]) throws -> Value?
    /// `len value`; nil when it has no length.
    var length: Int? { get }
    /// Elements when iterated by `for x in value`; nil when not iterable.
    func elements() -> [Value]?
    /// `==` between two engine values that are not the same object (default: false).
    func isEqual(to other: any EngineValue) -> Bool
    /// The view shown when an expression statement evaluates to this value, as parts: text,
    /// tables (aligned in the terminal, Markdown in notebooks) and graphics (characters in
    /// the terminal, SVG in notebooks). Default: the summary as text.
    func outputs(_ style: DisplayStyle) -> [RichOutput]
    /// `-x`; nil when this type has no negation.
    func negated() throws -> Value?
    /// `self op other` (or `other op self` when `swapped`), for `+ - * /` with a number or
    /// another engine value; nil when this type does not take the operator.
    func arithmetic(_ op: BinaryOp, _ other: Value, swapped: Bool) throws -> Value?
}

extension EngineValue {
    public var kinds: [String] { [typeName] }
    public var fieldNames: [String] { [] }
    public func field(_ name: String) -> Value? { nil }
    public func index(_ items: [IndexKey]) throws -> Value? { nil }
    public var length: Int? { nil }
    public func elements() -> [Value]? { nil }
    public func isEqual(to other: any EngineValue) -> Bool { false }
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.text(summary)] }
    public func negated() throws -> Value? { nil }
    public func arithmetic(_ op: BinaryOp, _ other: Value, swapped: Bool) throws -> Value? { nil }
    /// Whether this value satisfies the named type (its own or one of `kinds`).
    public func isKind(_ name: String) -> Bool { typeName == name || kinds.contains(name) }
}

/// An evaluated index item: a single position/key or a slice with optional bounds.
public enum IndexKey {
    case value(Value)
    case slice(Int?, Int?)
}

/// How values are shown: colour (only on a terminal with NO_COLOR unset), row limits, the
/// width to fit (80 columns unless the terminal says otherwise) and whether the terminal can
/// show Unicode (block and braille characters in plots) or only ASCII.
public struct DisplayStyle: Sendable {
    public var color: Bool
    /// Rows of a table or tensor shown before eliding the rest (nil: all).
    public var maxRows: Int?
    /// Columns of text to fit (tables wrap their columns, tensors elide, plots size to it).
    public var width: Int
    /// Unicode block/braille characters in plots (false: ASCII only).
    public var unicode: Bool
    public init(color: Bool = false, maxRows: Int? = 20, width: Int = 80, unicode: Bool = true) {
        self.color = color
        self.maxRows = maxRows
        self.width = width
        self.unicode = unicode
    }
    public static let plain = DisplayStyle(color: false, maxRows: 20)
    public static let full = DisplayStyle(color: false, maxRows: nil)

    /// The same style without the row limit (what `print` uses).
    public var unlimited: DisplayStyle {
        var s = self
        s.maxRows = nil
        return s
    }

    /// "…" or "..." as the terminal allows.
    public var ellipsis: String { unicode ? "…" : "..." }
}

/// One part of a value's notebook view.
public enum RichOutput {
    /// Preformatted text.
    case text(String)
    /// A table: aligned text in the terminal, a Markdown table in notebooks.
    case table(Table)
    /// A graphic (a plot): drawn with characters in the terminal, an SVG image in notebooks.
    case graphic(any Graphic)
}

