import AdaLang
import AdaTensor
import Foundation

/// A tensor value (dense Float32, row-major).
public final class TensorValue: EngineValue {
    public let tensor: Tensor
    public init(_ t: Tensor) { tensor = t }

    public var typeName: String { "tensor" }
    public var summary: String { "<tensor \(tensor.shape)>" }
    public var fieldNames: [String] { ["shape", "rank", "size", "rows", "cols"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "shape": return .list(tensor.shape.map { .int($0) })
        case "rank": return .int(tensor.rank)
        case "size": return .int(tensor.count)
        case "rows": return .int(tensor.rows)
        case "cols": return .int(tensor.cols)
        default: return nil
        }
    }
    public var length: Int? { tensor.shape.first }
    public func isEqual(to other: any EngineValue) -> Bool { (other as? TensorValue)?.tensor == tensor }
    public func elements() -> [Value]? {
        guard let n = tensor.shape.first else { return nil }
        return (0..<n).compactMap { i in (try? index([.value(.int(i))])) ?? nil }
    }

    /// `t[i]`, `t[i, j]`, `t[0:4, :]`: integers drop a dimension, slices keep it; missing
    /// trailing items take the whole dimension. A result with no dimensions is a number.
    public func index(_ items: [IndexKey]) throws -> Value? {
        let shape = tensor.shape
        guard items.count <= shape.count else {
            throw BuiltinError("too many indices: \(items.count) for a tensor of rank \(shape.count)")
        }
        var ranges: [Range<Int>] = []
        var keep: [Bool] = []
        for (d, n) in shape.enumerated() {
            let item: IndexKey = d < items.count ? items[d] : .slice(nil, nil)
            switch item {
            case .value(let v):
                guard let i = v.integer else { throw BuiltinError("a tensor index is an integer or a slice a:b, not \(v.typeWithArticle)") }
                let j = i < 0 ? i + n : i
                guard j >= 0 && j < n else { throw BuiltinError("index \(i) out of range for dimension \(d) of size \(n)") }
                ranges.append(j..<(j + 1))
                keep.append(false)
            case .slice(let a, let b):
                ranges.append(clampSlice(a, b, count: n))
                keep.append(true)
            }
        }
        let outShape = zip(ranges, keep).filter { $0.1 }.map { $0.0.count }
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        var out: [Float] = []
        out.reserveCapacity(ranges.reduce(1) { $0 * $1.count })
        let src = tensor.data
        func copy(_ d: Int, _ base: Int) {
            if d == shape.count { out.append(src[base]); return }
            if d == shape.count - 1 {
                let r = ranges[d]
                out.append(contentsOf: src[(base + r.lowerBound)..<(base + r.upperBound)])
                return
            }
            for i in ranges[d] { copy(d + 1, base + i * strides[d]) }
        }
        if ranges.allSatisfy({ !$0.isEmpty }) { copy(0, 0) }
        if outShape.isEmpty { return .number(Double(out.first ?? .nan)) }
        return .object(TensorValue(Tensor(shape: outShape, data: out)))
    }

    /// numpy-like: shape, dtype, min/max/mean/std, then the values of a rank 1 or 2 tensor
    /// with the middle of long dimensions elided to fit `style.width`.
    public func outputs(_ style: DisplayStyle) -> [RichOutput] { [.text(text(style))] }

    /// The view as text.
    public func text(_ style: DisplayStyle) -> String {
        var head = "tensor \(tensor.shape) float32"
        if tensor.count > 0 {
            var lo = Float.infinity, hi = -Float.infinity
            var sum = 0.0, sq = 0.0
            for x in tensor.data {
                lo = Swift.min(lo, x); hi = Swift.max(hi, x)
                sum += Double(x); sq += Double(x) * Double(x)
            }
            let n = Double(tensor.count)
            let mean = sum / n
            let std = Swift.max(0, sq / n - mean * mean).squareRoot()
            let stats = "min \(short(Double(lo)))  max \(short(Double(hi)))  mean \(short(mean))  std \(short(std))"
            head += textWidth(head) + 2 + textWidth(stats) <= style.width ? "  " + stats : "\n  " + stats
        }
        let body = TensorValue.renderValues(tensor, style)
        return body.isEmpty ? head : head + "\n" + body
    }

    /// numpy-like text of the values of a rank 1 or 2 tensor, in one number format, eliding
    /// the middle of long dimensions (beyond 64 values, or all of them with print up to
    /// 10,000) and columns that would not fit in `style.width`.
    static func renderValues(_ t: Tensor, _ style: DisplayStyle) -> String {
        guard t.rank == 1 || t.rank == 2, t.count > 0 else { return "" }
        let limit = style.maxRows == nil ? 10_000 : 64
        let edge = 3
        let rows = t.rank == 1 ? 1 : t.shape[0]
        let cols = t.shape[t.rank - 1]
        let elide = t.count > limit
        let rowIdx: [Int?] = elide && rows > 2 * edge ? Array(0..<edge) + [nil] + Array((rows - edge)..<rows) : Array(0..<rows)
        func colIndices(_ e: Int) -> [Int?] { cols > 2 * e ? Array(0..<e) + [nil] + Array((cols - e)..<cols) : Array(0..<cols) }
        var colIdx: [Int?] = elide ? colIndices(edge) : Array(0..<cols)
        let ell = style.ellipsis
        func cellsFor(_ ci: [Int?]) -> (NumberFormat, Int) {
            var vals: [Double] = []
            for r in rowIdx.compactMap({ $0 }) { for c in ci.compactMap({ $0 }) { vals.append(Double(t.data[r * cols + c])) } }
            let f = NumberFormat.choose(vals)
            return (f, vals.map { textWidth(f.format($0)) }.max() ?? 1)
        }
        var (fmt, w) = cellsFor(colIdx)
        // Fit the width: "[[" + cells joined by ", " + "]],".
        func lineWidth(_ n: Int) -> Int { 4 + n * w + 2 * max(0, n - 1) }
        if lineWidth(colIdx.count) > style.width {
            var e = edge
            while e > 1 && lineWidth(2 * e + 1) > style.width { e -= 1 }
            colIdx = colIndices(e)
            (fmt, w) = cellsFor(colIdx)
        }
        let cw = Swift.max(w, textWidth(ell))
        func line(_ r: Int) -> String {
            colIdx.map { c in padLeft(c.map { fmt.format(Double(t.data[r * cols + $0])) } ?? ell, cw) }.joined(separator: ", ")
        }
        if t.rank == 1 { return "[" + line(0) + "]" }
        var out: [String] = []
        for (k, r) in rowIdx.enumerated() {
            let open = k == 0 ? "[[" : " ["
            let close = k == rowIdx.count - 1 ? "]]" : "],"
            out.append(r.map { open + line($0) + close } ?? " " + ell)
        }
        return out.joined(separator: "\n")
    }

    // MARK: Operators

    public func negated() throws -> Value? { .object(TensorValue(tensor.map { -$0 })) }

    /// Element-wise `+ - * / %` with a tensor of the same shape or a number (either side).
    public func arithmetic(_ op: BinaryOp, _ other: Value, swapped: Bool) throws -> Value? {
        let f: (Float, Float) -> Float
        switch op {
        case .add: f = { $0 + $1 }
        case .sub: f = { $0 - $1 }
        case .mul: f = { $0 * $1 }
        case .div: f = { $0 / $1 }
        case .mod: f = { $0.truncatingRemainder(dividingBy: $1) }
        default: return nil
        }
        switch other {
        case .object(let y as TensorValue):
            let (a, b) = swapped ? (y.tensor, tensor) : (tensor, y.tensor)
            guard a.shape == b.shape else { throw BuiltinError("shape mismatch: \(a.shape) \(op.rawValue) \(b.shape)") }
            var out = a
            for i in 0..<out.data.count { out.data[i] = f(out.data[i], b.data[i]) }
            return .object(TensorValue(out))
        case .number(let y):
            let s = Float(y)
            return .object(TensorValue(swapped ? tensor.map { f(s, $0) } : tensor.map { f($0, s) }))
        default:
            return nil
        }
    }
}
