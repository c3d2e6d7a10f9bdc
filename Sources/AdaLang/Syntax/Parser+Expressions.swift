import Foundation

extension Parser {
    // MARK: Expressions

    public mutating func parseExpr() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        return try parseOr()
    }

    mutating func parseOr() throws -> Expr {
        var l = try parseAnd()
        while isKeyword(tok, .or) {
            advance()
            let r = try parseAnd()
            l = try bounded(Expr(.binary(.or, l, r), l.range.through(r.range)))
        }
        return l
    }

    mutating func parseAnd() throws -> Expr {
        var l = try parseNot()
        while isKeyword(tok, .and) {
            advance()
            let r = try parseNot()
            l = try bounded(Expr(.binary(.and, l, r), l.range.through(r.range)))
        }
        return l
    }

    mutating func parseNot() throws -> Expr {
        if isKeyword(tok, .not) {
            let start = advance().range
            try enter()
            defer { depth -= 1 }
            let e = try parseNot()
            return Expr(.unary(.not, e), start.through(e.range))
        }
        return try parseComparison()
    }

    static let comparisons: [Punct: BinaryOp] = [.eq: .eq, .ne: .ne, .lt: .lt, .le: .le, .gt: .gt, .ge: .ge]

    mutating func parseComparison() throws -> Expr {
        let l = try parseAdditive()
        guard case .punct(let p) = tok.kind, let op = Parser.comparisons[p] else { return l }
        advance()
        let r = try parseAdditive()
        if case .punct(let p2) = tok.kind, Parser.comparisons[p2] != nil {
            throw fail("comparisons do not chain", tok, notes: ["write a < b and b < c"])
        }
        return Expr(.binary(op, l, r), l.range.through(r.range))
    }

    mutating func parseAdditive() throws -> Expr {
        var l = try parseTerm()
        while case .punct(let p) = tok.kind, p == .plus || p == .minus {
            advance()
            let r = try parseTerm()
            l = try bounded(Expr(.binary(p == .plus ? .add : .sub, l, r), l.range.through(r.range)))
        }
        return l
    }

    mutating func parseTerm() throws -> Expr {
        var l = try parseUnary()
        while case .punct(let p) = tok.kind, p == .star || p == .slash || p == .percent {
            advance()
            let r = try parseUnary()
            let op: BinaryOp = p == .star ? .mul : (p == .slash ? .div : .mod)
            l = try bounded(Expr(.binary(op, l, r), l.range.through(r.range)))
        }
        return l
    }

    mutating func parseUnary() throws -> Expr {
        if isPunct(tok, .minus) {
            let start = advance().range
            try enter()
            defer { depth -= 1 }
            let e = try parseUnary()
            if case .number(let n) = e.kind { return Expr(.number(-n), start.through(e.range)) }
            return Expr(.unary(.neg, e), start.through(e.range))
        }
        if isPunct(tok, .plus) {
            throw fail("unexpected '+'", tok, notes: ["numbers have no leading '+'"])
        }
        return try parsePostfix()
    }

    mutating func parsePostfix() throws -> Expr {
        var e = try parsePrimary()
        while true {
            let t = tok
            if isPunct(t, .lparen) && !t.spaceBefore {
                guard case .name(let name) = e.kind else {
                    throw fail("only commands can be called", t, notes: ["a call is written name(args) or name args"])
                }
                let lp = advance()
                nesting += 1
                open += 1
                var args: [Argument] = []
                while !isPunct(tok, .rparen) {
                    if case .identifier(let label) = tok.kind, isPunct(peek(1), .assign) {
                        let lr = advance().range
                        advance()
                        args.append(Argument(label: label, labelRange: lr, value: try parseExpr()))
                    } else {
                        args.append(Argument(label: nil, labelRange: nil, value: try parseExpr()))
                    }
                    if isPunct(tok, .comma) { advance() } else { break }
                }
                _ = try expect(.rparen, "to close the argument list of '\(name)'", opening: lp)
                nesting -= 1
                open -= 1
                e = try bounded(Expr(.call(name: name, nameRange: e.range, args: args, style: .parenthesized), span(from: e.range)))
            } else if isPunct(t, .lbracket) && !t.spaceBefore {
                let lb = advance()
                nesting += 1
                open += 1
                var items: [IndexItem] = []
                repeat {
                    if isPunct(tok, .comma) { advance() }
                    items.append(try indexItem())
                } while isPunct(tok, .comma)
                _ = try expect(.rbracket, "to close the index", opening: lb)
                nesting -= 1
                open -= 1
                e = try bounded(Expr(.index(e, items), span(from: e.range)))
            } else if isPunct(t, .dot) && !t.spaceBefore {
                advance()
                guard case .identifier(let f) = tok.kind, !tok.spaceBefore else {
                    throw fail("expected a field name after '.', found \(tok.described)", tok)
                }
                let fr = advance().range
                e = try bounded(Expr(.field(e, f, fr), span(from: e.range)))
            } else {
                return e
            }
        }
    }

    mutating func indexItem() throws -> IndexItem {
        let start = tok.range
        var lo: Expr?
        if !isPunct(tok, .colon) {
            let e = try parseExpr()
            guard isPunct(tok, .colon) else { return .single(e) }
            lo = e
        }
        advance()  // ':'
        var hi: Expr?
        if !isPunct(tok, .comma) && !isPunct(tok, .rbracket) { hi = try parseExpr() }
        return .slice(lo, hi, span(from: start))
    }

    mutating func parsePrimary() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        let t = tok
        switch t.kind {
        case .number(let n): advance(); return Expr(.number(n), t.range)
        case .string(let s): advance(); return Expr(.string(s), t.range)
        case .keyword(.true): advance(); return Expr(.bool(true), t.range)
        case .keyword(.false): advance(); return Expr(.bool(false), t.range)
        case .keyword(.none): advance(); return Expr(.none, t.range)
        case .identifier(let name): advance(); return Expr(.name(name), t.range)
        case .punct(.lparen):
            advance()
            nesting += 1
            open += 1
            let e = try commandOrExpr()
            _ = try expect(.rparen, "to close the parenthesis", opening: t)
            nesting -= 1
            open -= 1
            var inner = e
            inner.range = span(from: t.range)
            // Keep the inner node's own range for calls, so errors point at the command name.
            if case .call = e.kind { return e }
            return inner
        case .punct(.lbracket):
            advance()
            nesting += 1
            open += 1
            var items: [Expr] = []
            while !isPunct(tok, .rbracket) {
                items.append(try parseExpr())
                if isPunct(tok, .comma) { advance() } else { break }
            }
            _ = try expect(.rbracket, "to close the list", opening: t)
            nesting -= 1
            open -= 1
            return Expr(.list(items), span(from: t.range))
        case .punct(.lbrace):
            advance()
            nesting += 1
            open += 1
            var fields: [(key: String, keyRange: SourceRange, value: Expr)] = []
            while !isPunct(tok, .rbrace) {
                let kt = tok
                let key: String
                switch kt.kind {
                case .identifier(let s), .string(let s): key = s
                case .keyword(let k): key = k.rawValue
                default: throw fail("expected a field name in the record, found \(kt.described)", kt)
                }
                advance()
                if fields.contains(where: { $0.key == key }) {
                    throw AdaError(.syntax, "duplicate field '\(key)' in record", file: file, range: kt.range)
                }
                _ = try expect(.colon, "after the field name '\(key)'", notes: ["records are written {name: value, …}"])
                fields.append((key, kt.range, try parseExpr()))
                if isPunct(tok, .comma) { advance() } else { break }
            }
            _ = try expect(.rbrace, "to close the record", opening: t)
            nesting -= 1
            open -= 1
            return Expr(.record(fields), span(from: t.range))
        default:
            var notes: [String] = []
            if case .keyword(let k) = t.kind, ![.true, .false, .none, .not].contains(k) {
                notes.append("'\(k.rawValue)' is a reserved word")
            }
            throw fail("expected an expression, found \(t.described)", t, notes: notes)
        }
    }
}
