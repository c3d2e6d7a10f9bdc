import Foundation
import _CKernels

/// How a group's range is chosen before its grid is fitted.
public enum ClipMode: String, Sendable, CaseIterable, Codable {
    /// The group's own min and max (no search).
    case none
    /// Shrink `[min, max]` by the ratio that minimises `Σ |w − ŵ|^norm` over the group.
    case mse
    /// As `mse`, each element's error weighted by its input channel's second moment
    /// (the diagonal of the input Hessian). per-IC groups share one input channel, so their
    /// weights are one constant per group and the search picks what `mse` picks.
    case weighted
}

/// The clip (range-shrinking) search of a group: ratios `p = 1 − i/grid` for
/// `i = 0 … ⌊(1 − minRatio)·grid⌋` scale the group's min and max (`[p·min, p·max]`), the grid is
/// fitted to the shrunk range, the group is rounded on it and its error
/// `Σ wᵢ·|xᵢ − x̂ᵢ|^norm` measured (`wᵢ = 1` for `mse`); the ratio with the smallest error wins
/// (the largest ratio on ties, so `p = 1`, no clipping, unless a smaller one is strictly better).
/// GPTQ's reference `mse` search is this with grid 100, norm 2.4, ratios down to 0.21.
public struct ClipSearch: Sendable, Equatable, Codable, CustomStringConvertible {
    public var mode: ClipMode
    /// Steps per unit ratio (100: ratios 1, 0.99, 0.98, …).
    public var grid: Int
    /// The smallest ratio tried.
    public var minRatio: Double
    /// The error's exponent.
    public var norm: Double

    public init(mode: ClipMode = .none, grid: Int = 100, minRatio: Double = 0.2, norm: Double = 2.4) {
        self.mode = mode
        self.grid = grid
        self.minRatio = minRatio
        self.norm = norm
    }

    public static let none = ClipSearch()

    public var isOn: Bool { mode != .none }

    /// The ratios tried, largest first.
    public var ratios: [Float] {
        guard isOn else { return [1] }
        let steps = Int(((1 - minRatio) * Double(grid) + 1e-9).rounded(.down))
        return (0...max(0, steps)).map { Float(1 - Double($0) / Double(grid)) }
    }

    public var description: String {
        guard isOn else { return "" }
        let d = ClipSearch(mode: mode)
        return "clip=\(mode.rawValue)" + (grid != d.grid ? " clip_grid=\(grid)" : "")
            + (minRatio != d.minRatio ? " clip_min=\(fmt(minRatio))" : "") + (norm != d.norm ? " clip_norm=\(fmt(norm))" : "")
    }

    private func fmt(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    /// Checks the settings, throwing a `QuantError` with origin `.options`.
    public func validate() throws {
        guard isOn else { return }
        guard (1...100_000).contains(grid) else { throw QuantError("clip_grid must be 1…100000, got \(grid)", origin: .options) }
        guard minRatio > 0 && minRatio <= 1 else { throw QuantError("clip_min must be in (0, 1], got \(minRatio)", origin: .options) }
        guard norm > 0 && norm <= 16 && norm.isFinite else { throw QuantError("clip_norm must be in (0, 16], got \(norm)", origin: .options) }
    }

    /// The group parameters for `values` (contiguous), with per-element error weights
    /// `weights` (nil: all 1). Without a search: the plain fit to min and max.
    public func fit(_ values: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>?, bits: Int,
                    grid kind: GridKind) -> GroupParams {
        var mn = Float.infinity, mx = -Float.infinity
        for v in values { mn = Swift.min(mn, v); mx = Swift.max(mx, v) }
        let plain = GroupParams.fit(min: mn, max: mx, bits: bits, grid: kind)
        guard isOn, values.count > 0 else { return plain }
        let maxq = Float((1 << bits) - 1)
        let useW = mode == .weighted ? weights : nil
        var best = plain, bestErr = Double.infinity
        for p in ratios {
            let gp = GroupParams.fit(min: p * mn, max: p * mx, bits: bits, grid: kind)
            let e = groupError(values, useW, gp, maxq: maxq, norm: Float(norm), bound: bestErr)
            if e < bestErr { bestErr = e; best = gp }
        }
        return best
    }
}

/// `Σ wᵢ·|xᵢ − x̂ᵢ|^norm` of a group rounded with `gp`; stops early (returning a value ≥ `bound`)
/// once the partial sum reaches `bound`. In C (`ada_clip_error`, vectorized; `|d|^norm` from
/// polynomial log and exp where `powf` is a scalar call per element).
@inline(__always)
func groupError(_ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>?, _ gp: GroupParams, maxq: Float, norm: Float,
                bound: Double) -> Double {
    ada_clip_error(x.baseAddress, w?.baseAddress, Int32(x.count), gp.scale, gp.zero, gp.integerZero ? 1 : 0, maxq, norm, bound)
}
