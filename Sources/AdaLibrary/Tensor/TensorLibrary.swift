import AdaLang
import AdaTensor
import Foundation

func shapeArgument(_ a: Arguments, _ ctx: Context) throws -> [Int] {
    var shape: [Int] = []
    for (i, v) in a.rest.enumerated() {
        if let n = v.integer { shape.append(n) } else if let l = v.list, l.allSatisfy({ $0.integer != nil }) {
            shape += l.map { $0.integer! }
        } else {
            throw BuiltinError("a shape is made of integers, not \(v.typeWithArticle)", argument: "#\(i)")
        }
    }
    guard !shape.isEmpty else { throw BuiltinError("give a shape, e.g. \(a.builtin.name) 4 8", notes: ["usage: \(a.builtin.usage)"]) }
    if let bad = shape.firstIndex(where: { $0 < 0 }) { throw BuiltinError("negative dimension \(shape[bad])", argument: "#\(bad)") }
    var n = 1
    for d in shape {
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard !o, p <= ctx.interpreter.limits.maxElements else {
            throw BuiltinError("a tensor of shape \(shape) is too large (limit \(ctx.interpreter.limits.maxElements) elements)")
        }
        n = p
    }
    return shape
}

func numbers(_ v: Value) -> [Double]? {
    guard let l = v.list else { return nil }
    var out: [Double] = []
    for x in l { guard let n = x.number else { return nil }; out.append(n) }
    return out
}

/// Tensors: literals, zeros and ones, random tensors, shape, transpose, matmul, reshape.
public enum TensorLibrary: NativeLibrary {
    public static func register(in r: Registry) {
        r.register(tensorCommand)

        for (name, fill) in [("zeros", Float(0)), ("ones", Float(1))] {
            r.register(Builtin(
                name: name, category: "tensor", summary: "A tensor of \(name) with the given shape.",
                examples: ["\(name) 2 3", "\(name) [4, 4]"],
                rest: Param("shape", .oneOf([.int, .list(.int)]), doc: "the dimensions"),
                returns: "a tensor",
                run: { a, ctx in .object(TensorValue(Tensor(repeating: fill, shape: try shapeArgument(a, ctx)))) }))
        }

        r.register(randCommand)
        r.register(shapeCommand)

        let reductions: [(String, String, Reduction)] = [
            ("sum", "The sum of a tensor's or a list's values, or along an axis of a 2-D tensor.", .sum),
            ("mean", "The mean of a tensor's or a list's values, or along an axis of a 2-D tensor.", .mean),
            ("absmax", "The largest absolute value, overall or along an axis of a 2-D tensor.", .absmax),
            ("min", "The smallest value of a tensor or a list, overall or along an axis.", .min),
            ("max", "The largest value of a tensor or a list, overall or along an axis.", .max),
        ]
        for (name, summary, red) in reductions {
            r.register(Builtin(
                name: name, category: "tensor", summary: summary,
                help: "axis=0 reduces over rows (one value per column); axis=1 over columns (one value per row). Lists of numbers are reduced as a whole.",
                examples: ["\(name) (rand 4 8 seed=1)", "\(name) (rand 4 8 seed=1) axis=1", "\(name) [3, 1, 2]"],
                params: [Param("value", .oneOf([.tensor, .list(.number)]), doc: "a tensor or a list of numbers"),
                         Param("axis", .int, default: .none, doc: "0 or 1 for a 2-D tensor; none: all values")],
                returns: "a number, or a tensor with axis=",
                run: { a, _ in
                    if let xs = numbers(a["value"]) {
                        if a.isGiven("axis") { throw a.error("axis", "axis= applies to tensors") }
                        guard !xs.isEmpty || red == .sum else { throw a.error("value", "the list is empty") }
                        switch red {
                        case .sum: return .number(xs.reduce(0, +))
                        case .mean: return .number(xs.reduce(0, +) / Double(xs.count))
                        case .absmax: return .number(xs.map { Swift.abs($0) }.max()!)
                        case .min: return .number(xs.min()!)
                        case .max: return .number(xs.max()!)
                        }
                    }
                    let t = try a.object("value", as: TensorValue.self).tensor
                    if let axis = try a.optionalInt("axis") {
                        do { return .object(TensorValue(try t.reduce(red, axis: axis))) } catch let e as TensorError {
                            throw a.error("axis", e.message)
                        }
                    }
                    guard t.count > 0 || red == .sum else { throw a.error("value", "the tensor is empty") }
                    switch red {
                    case .sum: return .number(t.sum())
                    case .mean: return .number(t.mean())
                    case .absmax: return .float(t.absmax())
                    case .min: return .float(t.min())
                    case .max: return .float(t.max())
                    }
                }))
        }

        r.register(transposeCommand)
        r.register(matmulCommand)
        r.register(reshapeCommand)
    }

    static var tensorCommand: Builtin {
        Builtin(
            name: "tensor", category: "tensor", summary: "A tensor from a (nested) list of numbers.",
            examples: ["tensor [1, 2, 3]", "tensor [[1, 2], [3, 4]]"],
            params: [Param("values", .list(.any), doc: "numbers, or equal-length lists of numbers (nested)")],
            returns: "a tensor",
            run: { a, _ in
                func shapeOf(_ v: Value) throws -> [Int] {
                    switch v {
                    case .number: return []
                    case .list(let l):
                        guard let first = l.first else { return [0] }
                        let inner = try shapeOf(first)
                        for x in l.dropFirst() where try shapeOf(x) != inner {
                            throw a.error("values", "the lists have different lengths: not rectangular")
                        }
                        return [l.count] + inner
                    default: throw a.error("values", "a tensor holds numbers, not \(v.typeWithArticle)")
                    }
                }
                let shape = try shapeOf(a["values"])
                var data: [Float] = []
                func flat(_ v: Value) { if case .list(let l) = v { l.forEach(flat) } else if let n = v.number { data.append(Float(n)) } }
                flat(a["values"])
                return .object(TensorValue(Tensor(shape: shape, data: data)))
            })
    }

    static var randCommand: Builtin {
        Builtin(
            name: "rand", category: "tensor", summary: "A tensor of pseudo-random numbers, the same for the same seed.",
            help: "Normal values (mean 0, standard deviation 1) by default, or uniform in [0, 1). The generator (SplitMix64, Box–Muller) gives the same values on every machine for a seed.",
            examples: ["rand 4 8 seed=1", "rand 3 3 seed=7 dist=uniform"],
            params: [Param("seed", .int, default: .int(0), doc: "the seed", keywordOnly: true),
                     Param("dist", .choice(["normal", "uniform"]), default: .string("normal"), doc: "the distribution", keywordOnly: true)],
            rest: Param("shape", .oneOf([.int, .list(.int)]), doc: "the dimensions"),
            returns: "a tensor",
            run: { a, ctx in
                let shape = try shapeArgument(a, ctx)
                var g = SplitMix64(state: UInt64(bitPattern: Int64(try a.int("seed"))))
                let n = shape.reduce(1, *)
                var data = [Float](repeating: 0, count: n)
                if try a.string("dist") == "uniform" {
                    for i in 0..<n { data[i] = Float(g.uniform()) }
                } else {
                    var i = 0
                    while i < n {
                        let u1 = max(g.uniform(), 1e-300), u2 = g.uniform()
                        let rad = (-2 * log(u1)).squareRoot()
                        data[i] = Float(rad * cos(2 * .pi * u2))
                        if i + 1 < n { data[i + 1] = Float(rad * sin(2 * .pi * u2)) }
                        i += 2
                    }
                }
                return .object(TensorValue(Tensor(shape: shape, data: data)))
            })
    }

    static var shapeCommand: Builtin {
        Builtin(
            name: "shape", category: "tensor", summary: "The dimensions of a tensor.",
            examples: ["shape m[\"blk.0.ffn_down\"]", "shape (rand 2 3)"],
            params: [Param("tensor", .tensor, doc: "the tensor")], returns: "a list of integers",
            run: { a, _ in .list(try a.object("tensor", as: TensorValue.self).tensor.shape.map { .int($0) }) })
    }

    static var transposeCommand: Builtin {
        Builtin(
            name: "transpose", category: "tensor", summary: "The transpose of a 2-D tensor.",
            examples: ["transpose (rand 2 3 seed=1)"],
            params: [Param("tensor", .tensor, doc: "a 2-D tensor")], returns: "a tensor",
            run: { a, _ in
                let t = try a.object("tensor", as: TensorValue.self).tensor
                guard t.rank == 2 else { throw a.error("tensor", "transpose needs a 2-D tensor, got shape \(t.shape)") }
                return .object(TensorValue(t.transposed()))
            })
    }

    static var matmulCommand: Builtin {
        Builtin(
            name: "matmul", category: "tensor", summary: "The matrix product of two 2-D tensors.",
            examples: ["matmul (rand 2 3 seed=1) (rand 3 4 seed=2)", "x = rand 8 576 seed=1\ny = matmul x (transpose m[\"blk.0.attn_q\"])"],
            params: [Param("a", .tensor, doc: "the left matrix [m, k]"), Param("b", .tensor, doc: "the right matrix [k, n]")],
            returns: "a tensor [m, n]",
            run: { a, _ in
                let x = try a.object("a", as: TensorValue.self).tensor, y = try a.object("b", as: TensorValue.self).tensor
                guard x.rank == 2 else { throw a.error("a", "matmul needs 2-D tensors, got shape \(x.shape)") }
                guard y.rank == 2 else { throw a.error("b", "matmul needs 2-D tensors, got shape \(y.shape)") }
                guard x.shape[1] == y.shape[0] else {
                    throw a.error("b", "inner dimensions differ: \(x.shape) · \(y.shape)")
                }
                return .object(TensorValue(try Tensor.matmul(x, y)))
            })
    }

    static var reshapeCommand: Builtin {
        Builtin(
            name: "reshape", category: "tensor", summary: "The same values with another shape (one dimension may be -1).",
            examples: ["reshape (rand 4 8 seed=1) 8 4", "reshape t -1 32"],
            params: [Param("tensor", .tensor, doc: "the tensor")],
            rest: Param("shape", .oneOf([.int, .list(.int)]), doc: "the new dimensions"),
            returns: "a tensor",
            run: { a, _ in
                let t = try a.object("tensor", as: TensorValue.self).tensor
                var shape: [Int] = []
                for v in a.rest { if let n = v.integer { shape.append(n) } else { shape += (v.list ?? []).compactMap(\.integer) } }
                guard !shape.isEmpty else { throw BuiltinError("give the new shape, e.g. reshape t 8 4") }
                guard shape.filter({ $0 == -1 }).count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
                    throw BuiltinError("bad shape \(shape): dimensions are non-negative, with at most one -1")
                }
                do { return .object(TensorValue(try t.reshaped(shape))) } catch let e as TensorError { throw BuiltinError(e.message) }
            })
    }
}
