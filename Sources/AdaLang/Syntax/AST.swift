/// Binary operators, by the token that spells them.
public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case and, or
}

public enum UnaryOp: String, Sendable {
    case neg = "-", not
}

/// One argument of a call: positional (`x`) or named (`windows=8`).
public struct Argument: Sendable {
    public var label: String?
    public var labelRange: SourceRange?
    public var value: Expr
    /// The whole argument, label included.
    public var range: SourceRange { labelRange.map { $0.through(value.range) } ?? value.range }
}

/// One item between the brackets of an index: `i` or a slice `a:b`.
public enum IndexItem: Sendable {
    case single(Expr)
    case slice(Expr?, Expr?, SourceRange)
}

extension Expr {
    /// The dotted word this expression spells when it is a name followed by field names
    /// (`llama.cpp`), with its first name; nil for anything else. A parameter whose choices
    /// include such a word takes it literally when the first name is not a variable.
    public var dottedWord: (word: String, head: String)? {
        switch kind {
        case .name(let n) where !n.hasPrefix(" "): return (n, n)
        case .field(let base, let f, _):
            guard let (w, h) = base.dottedWord else { return nil }
            return (w + "." + f, h)
        default: return nil
        }
    }
}

/// How a call was written: `name(a, b)` or command style `name a b`.
public enum CallStyle: Sendable { case parenthesized, command }

public struct Expr: Sendable {
    public indirect enum Kind: Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case none
        /// A name: a variable, a constant, or a command called with no arguments.
        case name(String)
        case list([Expr])
        case record([(key: String, keyRange: SourceRange, value: Expr)])
        case unary(UnaryOp, Expr)
        case binary(BinaryOp, Expr, Expr)
        case call(name: String, nameRange: SourceRange, args: [Argument], style: CallStyle)
        case index(Expr, [IndexItem])
        case field(Expr, String, SourceRange)
    }

    public var kind: Kind
    public var range: SourceRange
    /// Levels of nesting below and including this node (a literal is 1): what evaluating,
    /// checking and freeing the tree recurse through. The parser bounds it.
    public let height: Int

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
        height = 1 + Expr.childHeight(kind)
    }

    static func childHeight(_ kind: Kind) -> Int {
        switch kind {
        case .number, .string, .bool, .none, .name: return 0
        case .list(let xs): return xs.reduce(0) { max($0, $1.height) }
        case .record(let fs): return fs.reduce(0) { max($0, $1.value.height) }
        case .unary(_, let x): return x.height
        case .binary(_, let a, let b): return max(a.height, b.height)
        case .call(_, _, let args, _): return args.reduce(0) { max($0, $1.value.height) }
        case .index(let b, let items):
            return items.reduce(b.height) { h, it in
                switch it {
                case .single(let x): return max(h, x.height)
                case .slice(let lo, let hi, _): return max(h, lo?.height ?? 0, hi?.height ?? 0)
                }
            }
        case .field(let b, _, _): return b.height
        }
    }
}

public struct FunctionParam: Sendable {
    public var name: String
    public var range: SourceRange
    public var defaultValue: Expr?
}

public struct Stmt: Sendable {
    public indirect enum Kind: Sendable {
        case expr(Expr)
        /// `name = value`, or `name op= value` when `op` is set.
        case assign(name: String, nameRange: SourceRange, op: BinaryOp?, value: Expr)
        case forIn(name: String, nameRange: SourceRange, iterable: Expr, body: [Stmt])
        case ifElse(branches: [(condition: Expr, body: [Stmt])], elseBody: [Stmt]?)
        case function(name: String, nameRange: SourceRange, params: [FunctionParam], body: [Stmt])
        case returnValue(Expr?)
        case breakLoop
        case continueLoop
    }

    public var kind: Kind
    /// The whole statement, from its first token to its last (a block's closing brace).
    public var range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// A parsed source: its statements and the file they came from.
public struct Program: Sendable {
    public var file: SourceFile
    public var statements: [Stmt]

    /// The exact source text of a statement (what a session records and `save` writes).
    public func text(of stmt: Stmt) -> String {
        file.slice(stmt.range.offset, stmt.range.end)
    }
}
