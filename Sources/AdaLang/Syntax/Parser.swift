/// Recursive-descent parser for ada. The grammar (EBNF) is in docs/language.md; the rules that
/// make command syntax unambiguous are:
/// - a *command call* `name arg …` starts where a statement, an assignment's right-hand side,
///   a parenthesized expression, a `for` iterable, an `if` condition or a `return` value
///   starts with a name followed on the same line by an argument;
/// - `(` and `[` right after a name (no space) call or index it; with a space before, they
///   start a new argument; `.` for field access never has a space before it;
/// - a command call extends to the end of its line (or its closing parenthesis); an operator
///   after a command's arguments is an error (write `(len xs) > 3`).
public struct Parser {
    let file: SourceFile
    var toks: [Token]
    var pos = 0
    /// > 0 inside parentheses, brackets or a record literal: newlines are skipped there.
    var nesting = 0
    /// Open brackets and blocks: an error at the end of input inside one is "incomplete".
    var open = 0
    var depth = 0
    var blockDepth = 0
    var inFunction = false
    var loopDepth = 0
    var lastEnd = 0

    static let maxDepth = 120
    /// The tallest expression tree accepted (long operator chains and postfix chains build
    /// tall trees without nesting brackets); evaluation recurses once per level.
    static let maxHeight = 1000

    public init(file: SourceFile) throws {
        self.file = file
        var lx = Lexer(file)
        toks = try lx.tokenize()
    }

    /// Parses a whole source.
    public static func parse(_ file: SourceFile) throws -> Program {
        var p = try Parser(file: file)
        return Program(file: file, statements: try p.parseProgram())
    }

    /// Parses a single expression (for `--set NAME=VALUE` and tests).
    public static func parseExpression(_ file: SourceFile) throws -> Expr {
        var p = try Parser(file: file)
        let e = try p.commandOrExpr()
        while case .newline = p.tok.kind { p.advance() }
        guard case .eof = p.tok.kind else { throw p.fail("expected end of expression, found \(p.tok.described)", p.tok) }
        return e
    }

    // MARK: Token access

    func index(_ k: Int) -> Int {
        var j = pos, n = 0
        while true {
            if nesting > 0 { while toks[j].kind == .newline { j += 1 } }
            if n == k || toks[j].kind == .eof { return j }
            j += 1
            n += 1
        }
    }

    var tok: Token { toks[index(0)] }
    func peek(_ k: Int) -> Token { toks[index(k)] }

    @discardableResult
    mutating func advance() -> Token {
        let j = index(0)
        let t = toks[j]
        if t.kind != .eof { pos = j + 1 }
        lastEnd = t.range.end
        return t
    }

    func isPunct(_ t: Token, _ p: Punct) -> Bool { t.kind == .punct(p) }
    func isKeyword(_ t: Token, _ k: Keyword) -> Bool { t.kind == .keyword(k) }

    func fail(_ msg: String, _ t: Token, notes: [String] = []) -> AdaError {
        let incomplete = t.kind == .eof && open > 0
        var r = t.range
        if t.kind == .eof || t.kind == .newline { r.length = 1 }
        return AdaError(.syntax, msg, file: file, range: r, notes: notes, incomplete: incomplete)
    }

    mutating func expect(_ p: Punct, _ what: String, opening: Token? = nil, notes: [String] = []) throws -> Token {
        guard isPunct(tok, p) else {
            if tok.kind == .eof, let o = opening { throw unclosed(o, nil) }
            throw fail("expected '\(p.rawValue)' \(what), found \(tok.described)", tok, notes: notes)
        }
        return advance()
    }

    /// The input ended inside a bracket or block: point at where it was opened.
    func unclosed(_ o: Token, _ what: String?) -> AdaError {
        let closing: [Punct: String] = [.lparen: ")", .lbracket: "]", .lbrace: "}"]
        let c = closing[{ if case .punct(let p) = o.kind { return p } else { return .lparen } }()] ?? "?"
        let msg = "'\(o.text)' is never closed: expected '\(c)'" + (what.map { " to end \($0)" } ?? "") + " before the end of input"
        return AdaError(.syntax, msg, file: file, range: o.range, incomplete: true)
    }

    func span(from start: SourceRange) -> SourceRange {
        SourceRange(offset: start.offset, length: max(0, lastEnd - start.offset), line: start.line, column: start.column)
    }

    mutating func enter(_ what: String = "expression") throws {
        depth += 1
        if depth > Parser.maxDepth { throw fail("\(what) nested too deeply (more than \(Parser.maxDepth) levels)", tok) }
    }

    /// `e`, unless its tree is taller than `maxHeight` (an error at the current token).
    func bounded(_ e: Expr) throws -> Expr {
        guard e.height <= Parser.maxHeight else {
            throw fail("expression too long: more than \(Parser.maxHeight) operators or indexes in a row", tok,
                       notes: ["split it over several statements"])
        }
        return e
    }

    // MARK: Statements

    public mutating func parseProgram() throws -> [Stmt] {
        let stmts = try parseStatements()
        guard case .eof = tok.kind else { throw fail("unexpected \(tok.described)", tok) }
        return stmts
    }

    mutating func parseStatements() throws -> [Stmt] {
        var out: [Stmt] = []
        while true {
            while tok.kind == .newline || isPunct(tok, .semicolon) { advance() }
            if tok.kind == .eof { return out }
            if isPunct(tok, .rbrace) {
                if blockDepth > 0 { return out }
                throw fail("unexpected '}' with no open block", tok)
            }
            let s = try parseStatement()
            out.append(s)
            let t = tok
            switch t.kind {
            case .newline, .eof: break
            case .punct(.semicolon): advance()
            case .punct(.rbrace) where blockDepth > 0: break
            default:
                var notes: [String] = []
                if case .identifier = t.kind { notes.append("to pass arguments to a command, start the statement with its name: name arg1 key=value") }
                if case .keyword(.else) = t.kind { notes.append("'else' follows the '}' of an 'if' block on the same line") }
                throw fail("expected end of statement, found \(t.described)", t, notes: notes)
            }
        }
    }

    mutating func parseStatement() throws -> Stmt {
        let start = tok.range
        switch tok.kind {
        case .keyword(.fn): return try parseFunction()
        case .keyword(.if): return try parseIf()
        case .keyword(.for): return try parseFor()
        case .keyword(.return):
            let t = advance()
            guard inFunction else { throw fail("'return' outside a function", t) }
            if endsStatement(tok) { return Stmt(.returnValue(nil), span(from: start)) }
            let e = try commandOrExpr()
            return Stmt(.returnValue(e), span(from: start))
        case .keyword(.break), .keyword(.continue):
            let t = advance()
            guard loopDepth > 0 else { throw fail("'\(t.text)' outside a loop", t) }
            return Stmt(isKeyword(t, .break) ? .breakLoop : .continueLoop, span(from: start))
        case .keyword(.else):
            throw fail("'else' without 'if'", tok, notes: ["'else' follows the '}' of an 'if' block on the same line: } else {"])
        case .identifier(let name):
            let next = peek(1)
            let ops: [Punct: BinaryOp?] = [.assign: nil, .plusAssign: .add, .minusAssign: .sub,
                                            .starAssign: .mul, .slashAssign: .div]
            if case .punct(let p) = next.kind, let op = ops[p] {
                let nameTok = advance()
                advance()
                if endsStatement(tok) { throw fail("expected a value after '\(p.rawValue)', found \(tok.described)", tok) }
                let value = try commandOrExpr()
                return Stmt(.assign(name: name, nameRange: nameTok.range, op: op, value: value), span(from: start))
            }
        default: break
        }
        let e = try commandOrExpr()
        return Stmt(.expr(e), span(from: start))
    }

    func endsStatement(_ t: Token) -> Bool {
        switch t.kind {
        case .newline, .eof, .punct(.semicolon), .punct(.rbrace): return true
        default: return false
        }
    }

    mutating func parseBlock(_ what: String) throws -> [Stmt] {
        guard isPunct(tok, .lbrace) else {
            var t = tok
            var notes = ["a block's '{' is on the same line as its header"]
            if case .identifier = t.kind {
                notes = ["to use a command's result in an expression, put the call in parentheses: (len xs) > 0"]
            }
            if t.kind == .punct(.colon) { notes = ["blocks are written in braces: \(what) { … }"] }
            if t.kind == .newline { t.range.length = 1 }
            throw fail("expected '{' to start the body of '\(what)', found \(t.described)", t, notes: notes)
        }
        try enter("blocks and expressions")
        defer { depth -= 1 }
        let savedNesting = nesting
        nesting = 0
        let brace = advance()
        open += 1
        blockDepth += 1
        let body = try parseStatements()
        guard isPunct(tok, .rbrace) else {
            if tok.kind == .eof { throw unclosed(brace, "the body of '\(what)'") }
            throw fail("expected '}' to close the body of '\(what)', found \(tok.described)", tok)
        }
        advance()
        open -= 1
        blockDepth -= 1
        nesting = savedNesting
        return body
    }

    mutating func parseFunction() throws -> Stmt {
        let start = advance().range
        guard blockDepth == 0, !inFunction else {
            throw fail("functions are defined at the top level only", toks[max(0, pos - 1)])
        }
        guard case .identifier(let name) = tok.kind else { throw fail("expected a function name after 'fn', found \(tok.described)", tok) }
        let nameRange = advance().range
        let lp = try expect(.lparen, "after the function name")
        nesting += 1
        open += 1
        var params: [FunctionParam] = []
        var seen = Set<String>()
        while !isPunct(tok, .rparen) {
            guard case .identifier(let p) = tok.kind else { throw fail("expected a parameter name, found \(tok.described)", tok) }
            let r = advance().range
            guard seen.insert(p).inserted else { throw AdaError(.syntax, "duplicate parameter '\(p)'", file: file, range: r) }
            var def: Expr?
            if isPunct(tok, .assign) {
                advance()
                def = try parseExpr()
            } else if params.contains(where: { $0.defaultValue != nil }) {
                throw AdaError(.syntax, "parameter '\(p)' needs a default value: it follows one that has one", file: file, range: r)
            }
            params.append(FunctionParam(name: p, range: r, defaultValue: def))
            if isPunct(tok, .comma) { advance() } else { break }
        }
        _ = try expect(.rparen, "to close the parameter list", opening: lp)
        nesting -= 1
        open -= 1
        inFunction = true
        let savedLoop = loopDepth
        loopDepth = 0
        defer { inFunction = false; loopDepth = savedLoop }
        let body = try parseBlock("fn \(name)")
        return Stmt(.function(name: name, nameRange: nameRange, params: params, body: body), span(from: start))
    }

    mutating func parseIf() throws -> Stmt {
        let start = tok.range
        var branches: [(condition: Expr, body: [Stmt])] = []
        var elseBody: [Stmt]?
        advance()
        while true {
            let cond = try commandOrExpr()
            let body = try parseBlock("if")
            branches.append((cond, body))
            guard isKeyword(tok, .else) else { break }
            advance()
            if isKeyword(tok, .if) { advance(); continue }
            elseBody = try parseBlock("else")
            break
        }
        return Stmt(.ifElse(branches: branches, elseBody: elseBody), span(from: start))
    }

    mutating func parseFor() throws -> Stmt {
        let start = advance().range
        guard case .identifier(let name) = tok.kind else { throw fail("expected a loop variable after 'for', found \(tok.described)", tok) }
        let nameRange = advance().range
        guard isKeyword(tok, .in) else { throw fail("expected 'in' after the loop variable, found \(tok.described)", tok) }
        advance()
        let iterable = try commandOrExpr()
        loopDepth += 1
        defer { loopDepth -= 1 }
        let body = try parseBlock("for")
        return Stmt(.forIn(name: name, nameRange: nameRange, iterable: iterable, body: body), span(from: start))
    }

    // MARK: Command calls

    /// Can `t` (followed by `next`) start an argument of a command call?
    func isArgStart(_ t: Token, _ next: Token, afterComma: Bool = false) -> Bool {
        switch t.kind {
        case .identifier, .number, .string: return true
        case .keyword(let k): return k == .true || k == .false || k == .none
        case .punct(.lparen), .punct(.lbracket): return t.spaceBefore || afterComma
        case .punct(.minus):
            guard t.spaceBefore || afterComma, !next.spaceBefore else { return false }
            switch next.kind {
            case .identifier, .number, .punct(.lparen), .punct(.lbracket): return true
            default: return false
            }
        default: return false
        }
    }

    /// A command call (`name arg … key=value …`) or an ordinary expression.
    mutating func commandOrExpr() throws -> Expr {
        // `help for`, `help if`: the one place a keyword is an argument (a help topic).
        if case .identifier("help") = tok.kind, case .keyword(let k) = peek(1).kind, endsStatement(peek(2)) || isPunct(peek(2), .rparen) {
            let nameTok = advance()
            let kt = advance()
            let arg = Argument(label: nil, labelRange: nil, value: Expr(.name(k.rawValue), kt.range))
            return Expr(.call(name: "help", nameRange: nameTok.range, args: [arg], style: .command), span(from: nameTok.range))
        }
        if case .identifier(let name) = tok.kind, isArgStart(peek(1), peek(2)) {
            let nameTok = advance()
            var args: [Argument] = []
            while true {
                var afterComma = false
                if isPunct(tok, .comma), !args.isEmpty {
                    advance()
                    afterComma = true
                    guard isArgStart(tok, peek(1), afterComma: true) else {
                        throw fail("expected an argument after ',', found \(tok.described)", tok)
                    }
                }
                guard isArgStart(tok, peek(1), afterComma: afterComma) else { break }
                if case .identifier(let label) = tok.kind, isPunct(peek(1), .assign) {
                    let lr = advance().range
                    advance()
                    guard !endsStatement(tok), tok.kind != .newline else {
                        throw fail("expected a value after '\(label)=', found \(tok.described)", tok)
                    }
                    let v = try argumentValue()
                    args.append(Argument(label: label, labelRange: lr, value: v))
                } else {
                    args.append(Argument(label: nil, labelRange: nil, value: try argumentValue()))
                }
            }
            let call = Expr(.call(name: name, nameRange: nameTok.range, args: args, style: .command), span(from: nameTok.range))
            if let op = binaryOperator(tok) {
                let shown = file.slice(nameTok.range.offset, lastEnd)
                throw fail("unexpected '\(op)' after the arguments of '\(name)'", tok,
                           notes: ["a command's arguments are arithmetic expressions; put a comparison in parentheses, f (a \(op) b), or the whole call: (\(shown)) \(op) …"])
            }
            if isPunct(tok, .dot) || isPunct(tok, .lbracket) || isPunct(tok, .lparen) {
                let shown = file.slice(nameTok.range.offset, lastEnd)
                throw fail("unexpected \(tok.described) after the arguments of '\(name)'", tok,
                           notes: ["put the call in parentheses: (\(shown))\(isPunct(tok, .dot) ? ".field" : "[…]")"])
            }
            return call
        }
        return try parseExpr()
    }

    func binaryOperator(_ t: Token) -> String? {
        switch t.kind {
        case .punct(let p):
            switch p {
            case .plus, .minus, .star, .slash, .percent, .eq, .ne, .lt, .le, .gt, .ge: return p.rawValue
            default: return nil
            }
        case .keyword(.and): return "and"
        case .keyword(.or): return "or"
        default: return nil
        }
    }

    /// Is `t` a `-` that starts a new, negative argument (`f a -1`: space before, none after)?
    func startsNegativeArgument(_ t: Token) -> Bool {
        isPunct(t, .minus) && t.spaceBefore && !peek(1).spaceBefore
    }

    /// One command argument: an arithmetic expression (`+ - * / %`, unary minus, postfix
    /// operations). Comparisons and `and`/`or` need parentheses inside command arguments.
    mutating func argumentValue() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        var l = try argumentTerm()
        while case .punct(let p) = tok.kind, p == .plus || (p == .minus && !startsNegativeArgument(tok)) {
            advance()
            let r = try argumentTerm()
            l = try bounded(Expr(.binary(p == .plus ? .add : .sub, l, r), l.range.through(r.range)))
        }
        return l
    }

    mutating func argumentTerm() throws -> Expr {
        var l = try argumentUnary()
        while case .punct(let p) = tok.kind, p == .star || p == .slash || p == .percent {
            advance()
            let r = try argumentUnary()
            let op: BinaryOp = p == .star ? .mul : (p == .slash ? .div : .mod)
            l = try bounded(Expr(.binary(op, l, r), l.range.through(r.range)))
        }
        return l
    }

    mutating func argumentUnary() throws -> Expr {
        if isPunct(tok, .minus) {
            let start = advance().range
            try enter()
            defer { depth -= 1 }
            let e = try argumentUnary()
            if case .number(let n) = e.kind { return Expr(.number(-n), start.through(e.range)) }
            return Expr(.unary(.neg, e), start.through(e.range))
        }
        return try parsePostfix()
    }

}
