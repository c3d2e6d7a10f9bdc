import AdaLang
import AdaQuant

// The clip-search arguments shared by `rtn` and `quantize`: clip=, clip_grid=, clip_min=,
// clip_norm=, each checked here so a bad value's caret sits under its own argument.

/// The parameters of the clip search.
var clipParams: [Param] { [
    Param("clip", choice: ClipMode.self, default: .none,
          doc: "range search per group: none (min/max), mse (shrink [min, max] by the ratio minimising Σ|w − ŵ|^clip_norm), weighted (each error times its input channel's second moment)"),
    Param("clip_grid", .int, default: .int(100), doc: "clip search steps per unit ratio (ratios 1, 1 − 1/clip_grid, …)"),
    Param("clip_min", .number, default: .number(0.2), doc: "smallest ratio the clip search tries, in (0, 1]"),
    Param("clip_norm", .number, default: .number(2.4), doc: "exponent of the clip search's error, in (0, 16]"),
] }

/// The help paragraph on clipping.
let clipHelp = """
    Clipping: clip=mse tries, for every group, the ranges [p·min, p·max] for p = 1, 1 − 1/clip_grid, … down to clip_min, rounds the group on each and keeps the range whose error Σ|w − ŵ|^clip_norm is smallest (the largest p on ties; GPTQ's reference search is clip_grid=100, clip_norm=2.4, down to 0.21). clip=weighted multiplies each element's error by its input channel's second moment (the diagonal of the input Hessian, what llama.cpp calls the importance matrix): in a per-OC group the elements read different input channels, so the weights differ; a per-IC group lies in one input column, so all its weights are equal and it chooses as clip=mse does.
    """

extension Arguments {
    /// The clip search the arguments ask for.
    func clipArg() throws -> ClipSearch {
        let mode = try choice("clip", as: ClipMode.self)
        let grid = try int("clip_grid", min: 1, max: 100_000)
        let lo = try number("clip_min")
        guard lo > 0 && lo <= 1 else { throw error("clip_min", "'clip_min' must be in (0, 1], got \(lo)") }
        let norm = try number("clip_norm")
        guard norm > 0 && norm <= 16 else { throw error("clip_norm", "'clip_norm' must be in (0, 16], got \(norm)") }
        return ClipSearch(mode: mode, grid: grid, minRatio: lo, norm: norm)
    }
}

/// `rtn`'s importance= for clip=weighted: required then (one finite non-negative number per
/// input column), refused with any other search.
func importanceArg(_ a: Arguments, spec: QuantSpec, cols: Int) throws -> [Float]? {
    let v = a["importance"]
    if spec.clip.mode != .weighted {
        if v != .none { throw a.error("importance", "importance= only weights clip=weighted (this call has clip=\(spec.clip.mode.rawValue))") }
        return nil
    }
    let xs: [Float]
    switch v {
    case .none:
        throw a.error("clip", "clip=weighted needs importance= (the input's second moment per input column)",
                      notes: ["without data, clip=mse weighs every element alike"])
    case .list(let l): xs = l.map { Float($0.number ?? .nan) }
    default: xs = try a.tensorArg("importance").data
    }
    guard xs.count == cols else { throw a.error("importance", "importance= needs one number per input column (\(cols)), got \(xs.count)") }
    guard xs.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw a.error("importance", "importance= needs finite, non-negative numbers") }
    return xs
}
