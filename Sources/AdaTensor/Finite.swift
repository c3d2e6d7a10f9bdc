/// Finding NaN and ±∞ in float buffers (weights read from files, quantizer inputs).
public enum Finite {
    /// The index of the first NaN or ±∞ in `p`, or nil when every value is finite. Scans in
    /// chunks with a branch-free test on the exponent bits (all ones: not finite), so a whole
    /// model's weights are checked in a fraction of the time it takes to decode them.
    public static func firstNonFinite(_ p: UnsafeBufferPointer<Float>) -> Int? {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { return nil }
        let chunk = 4096
        var start = 0
        while start < n {
            let end = Swift.min(start + chunk, n)
            var flag: UInt32 = 0
            base.withMemoryRebound(to: UInt32.self, capacity: n) { u in
                for i in start..<end { flag |= ((u[i] & 0x7F80_0000) &+ 0x0080_0000) & 0x8000_0000 }
            }
            if flag != 0 {
                for i in start..<end where !base[i].isFinite { return i }
            }
            start = end
        }
        return nil
    }

    public static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { firstNonFinite($0) }
    }

    public static func firstNonFinite(_ values: [Double]) -> Int? {
        values.firstIndex { !$0.isFinite }
    }

    /// `[r, c]` (or `[i]`, or the full multi-index) of flat index `i` in a row-major `shape`.
    public static func position(_ i: Int, shape: [Int]) -> String {
        guard shape.count > 1, shape.allSatisfy({ $0 > 0 }) else { return "[\(i)]" }
        var rest = i
        var idx = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            idx[d] = rest % shape[d]
            rest /= shape[d]
        }
        return "[" + idx.map(String.init).joined(separator: ", ") + "]"
    }

    /// "nan at [3, 7]" for the first non-finite value of a tensor, nil when all are finite.
    public static func describeFirstNonFinite(_ t: Tensor) -> String? {
        guard let i = firstNonFinite(t.data) else { return nil }
        let v = t.data[i]
        return "\(v.isNaN ? "nan" : (v > 0 ? "+inf" : "-inf")) at \(position(i, shape: t.shape))"
    }
}
