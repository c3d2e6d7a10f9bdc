import Foundation

// Number formatting shared by tables, tensors and plots: a column (or a tensor's shown
// values) gets one format, chosen from its magnitudes, so digits line up.

/// `1.5e-07` → `1.5e-7`, `1e+08` → `1e+8`.
public func tidyExponent(_ s: String) -> String {
    guard s.contains("e") else { return s }
    return s.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e+")
}

/// One way of writing every number of a column.
public enum NumberFormat: Equatable {
    /// Integers, exactly.
    case integer
    /// Fixed decimals.
    case fixed(Int)
    /// Scientific with this many decimals in the mantissa.
    case scientific(Int)
    /// Each value with this many significant digits (`%g`).
    case general(Int)

    /// The format that shows `values` (NaN and infinities ignored) with about four
    /// significant digits and the same number of decimals on every row.
    public static func choose(_ values: [Double]) -> NumberFormat {
        let finite = values.filter(\.isFinite)
        if finite.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) { return .integer }
        let mags = finite.map { abs($0) }.filter { $0 > 0 }
        guard let hi = mags.max(), let lo = mags.min() else { return .integer }
        if hi >= 1e7 || hi < 1e-3 { return .scientific(3) }
        // 4 significant digits on the largest value, at least 3 on the smallest, at most 6
        // decimals; a column that needs more (a wide range of magnitudes) goes scientific
        // when it has small numbers, else 4 significant digits each.
        let big = 3 - Int(floor(log10(hi)))
        let small = 2 - Int(floor(log10(lo)))
        if hi / lo > 1e4 || max(big, small) > 6 { return lo < 1e-3 && hi < 1 ? .scientific(3) : .general(4) }
        let d = max(0, max(big, small))
        // Fewer decimals when every value has fewer (1.5 and 2 → 1.5, 2.0).
        for e in 1..<max(d, 1) {
            let p = pow(10.0, Double(e))
            if finite.allSatisfy({ v in let y = v * p; return abs(y - y.rounded()) <= 1e-6 * max(1, abs(y)) }) { return .fixed(e) }
        }
        return .fixed(d)
    }

    public func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        switch self {
        case .integer:
            return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : tidyExponent(String(format: "%.4g", x))
        case .fixed(let d): return String(format: "%.\(d)f", x)
        case .scientific(let d): return x == 0 ? "0" : tidyExponent(String(format: "%.\(d)e", x))
        case .general(let d): return tidyExponent(String(format: "%.\(d)g", x))
        }
    }
}

/// A number in about `digits` significant digits, for labels and statistics lines.
public func short(_ x: Double, _ digits: Int = 4) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if x == x.rounded() && abs(x) < 1e9 { return String(Int64(x)) }
    return tidyExponent(String(format: "%.\(digits)g", x))
}

/// Characters a string takes on a terminal (one per Character; the text here is
/// Latin, box drawing and block characters, all one column wide).
public func textWidth(_ s: String) -> Int { s.count }

/// `s` cut to `width` columns, with an ellipsis when it was longer.
public func truncate(_ s: String, _ width: Int, ellipsis: String = "…") -> String {
    guard textWidth(s) > width else { return s }
    let keep = max(0, width - ellipsis.count)
    return String(s.prefix(keep)) + ellipsis
}

public func padRight(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - textWidth(s))) }
public func padLeft(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - textWidth(s))) + s }

/// Text lines wrapped at `width` columns on spaces (words longer than a line are cut).
public func wrapWords(_ text: String, width: Int, indent: String = "") -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        let w = String(word)
        if line.isEmpty {
            line = indent + w
        } else if textWidth(line) + 1 + textWidth(w) <= width {
            line += " " + w
        } else {
            lines.append(line)
            line = indent + w
        }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}

/// Text whose lines longer than `width` are wrapped on spaces, continuation lines indented
/// two more than the line's own indent.
public func wrapLines(_ text: String, width: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        let l = String(line)
        guard textWidth(l) > width else { return l }
        let lead = String(l.prefix { $0 == " " })
        let body = String(l.dropFirst(lead.count))
        var out: [String] = []
        for (i, w) in wrapWords(body, width: width - lead.count - 2).enumerated() {
            out.append((i == 0 ? lead : lead + "  ") + w)
        }
        // The first line may take the two columns the others are indented by.
        return out.joined(separator: "\n")
    }.joined(separator: "\n")
}
