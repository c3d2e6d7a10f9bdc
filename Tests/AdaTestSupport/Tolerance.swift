import AdaTensor
import Foundation
import Testing

// Comparisons with explicit tolerances.

public func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

public func relClose(_ a: Double, _ b: Double, _ rel: Double, abs floor: Double = 0) -> Bool {
    Swift.abs(a - b) <= rel * Swift.max(Swift.abs(a), Swift.abs(b)) + floor
}

public func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
    return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Expects `a` within `rel` (relative) or `abs` (absolute) of the independent value `b`.
public func expectClose(_ a: Double, _ b: Double, rel: Double, abs floor: Double = 0, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(relClose(a, b, rel, abs: floor), "\(what) \(a) vs \(b) (rel \(rel), abs \(floor))", sourceLocation: sourceLocation)
}
