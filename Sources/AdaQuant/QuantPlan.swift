import AdaModel
import Foundation

/// How one linear module is quantized: its bit width, group size and dimension choice
/// (fixed, or AdaDim's pick by a criterion). The grid and method are the run's.
public struct ModulePlan: Sendable, Equatable, CustomStringConvertible {
    public var bits: Int
    /// Group size; 0: per-channel.
    public var group: Int
    public var dim: DimChoice

    public init(bits: Int, group: Int, dim: DimChoice) {
        self.bits = bits
        self.group = group
        self.dim = dim
    }

    /// The recipe in dimension `d` with the run's grid and clip search.
    public func spec(_ d: QuantDim, grid: GridKind, clip: ClipSearch = .none) -> QuantSpec {
        QuantSpec(bits: bits, group: group, dim: d, grid: grid, clip: clip)
    }

    /// The dimensions the module may end up in (both when AdaDim chooses).
    public var candidateDims: [QuantDim] {
        if case .fixed(let d) = dim { return [d] }
        return QuantDim.allCases
    }

    public var description: String { "w\(bits) \(group == 0 ? "per-channel" : "g\(group)") \(dim)" }
}

/// A module-level quantization plan: each module's bits, group and dimension; a module the
/// plan does not list stays at full precision (it is not quantized and gets no report).
public struct QuantPlan: Sendable, Equatable {
    public var modules: [LinearID: ModulePlan]

    public init(modules: [LinearID: ModulePlan]) { self.modules = modules }

    /// One plan entry per module of `ids` for which `entry` gives one (nil: kept).
    public init(_ ids: [LinearID], _ entry: (LinearID) throws -> ModulePlan?) rethrows {
        var m: [LinearID: ModulePlan] = [:]
        for id in ids { if let e = try entry(id) { m[id] = e } }
        modules = m
    }

    /// The same spec for every module of `ids` (equivalent to options without a plan).
    public static func uniform(_ ids: [LinearID], bits: Int, group: Int, dim: DimChoice) -> QuantPlan {
        QuantPlan(ids) { _ in ModulePlan(bits: bits, group: group, dim: dim) }
    }

    public subscript(id: LinearID) -> ModulePlan? { modules[id] }

    /// Whether some module's dimension is chosen by AdaDim.
    public var hasAdaptive: Bool {
        modules.values.contains { if case .ada = $0.dim { return true } else { return false } }
    }

    /// `w3` or `w3/4`, `g128` or `g64/128` (`per-channel` for 0, `g128/per-channel` for both),
    /// `oc`, `ic/oc` or `ada`:
    /// the distinct values over the planned modules, for a run's name.
    public var summary: String {
        let bits = Set(modules.values.map(\.bits)).sorted().map(String.init).joined(separator: "/")
        let groups = Set(modules.values.map(\.group)).sorted()
        let sized = groups.filter { $0 > 0 }.map(String.init).joined(separator: "/")
        let g = sized.isEmpty ? "per-channel" : "g" + sized + (groups.contains(0) ? "/per-channel" : "")
        let dims = Set(modules.values.map(\.dim.description)).sorted().joined(separator: "/")
        return "w\(bits) \(g) \(dims)"
    }
}

/// A pattern naming linear modules, as `quantize … only=`/`skip=` take it:
/// - a kind: `v`, `down` (or its GGUF name, `attn_v`, `ffn_down`): that module in every block;
/// - `blk.B.K`: blocks `B` (`*`, `N`, or an inclusive range `N-M`) and kind `K` (`*` or a kind),
///   e.g. `blk.*.attn_v`, `blk.0-3.*`, `blk.12.ffn_down` (the `blk.` prefix may be left out).
public struct LayerPattern: Sendable, Equatable, CustomStringConvertible {
    /// Blocks matched (nil: every block).
    public let blocks: ClosedRange<Int>?
    /// Kind matched (nil: every kind).
    public let kind: LinearKind?
    public let text: String

    /// Parses a pattern; a malformed one throws a `QuantError` (origin `.layer`) saying why.
    public init(_ text: String) throws {
        self.text = text
        let t = text.trimmingCharacters(in: .whitespaces)
        func bad(_ why: String) -> QuantError {
            QuantError("malformed layer pattern '\(text)': \(why)", origin: .layer)
        }
        if let k = LinearKind(name: t) {
            (blocks, kind) = (nil, k)
            return
        }
        var parts = t.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "blk" { parts.removeFirst() }
        if parts.last == "weight" { parts.removeLast() }
        guard parts.count == 2 else {
            throw bad("expected a kind (q k v o gate up down) or blk.BLOCKS.KIND, e.g. blk.*.attn_v or blk.0-3.*")
        }
        let (b, k) = (parts[0], parts[1])
        if k == "*" { kind = nil } else if let kk = LinearKind(name: k) { kind = kk } else {
            throw bad("'\(k)' is not a kind (q k v o gate up down, or attn_q … ffn_down, or *)")
        }
        if b == "*" {
            blocks = nil
        } else if let n = Int(b), n >= 0 {
            blocks = n...n
        } else {
            let r = b.split(separator: "-", omittingEmptySubsequences: false)
            guard r.count == 2, let lo = Int(r[0]), let hi = Int(r[1]), lo >= 0 else {
                throw bad("'\(b)' is not a block number, a range N-M or *")
            }
            guard lo <= hi else { throw bad("the range \(lo)-\(hi) runs backwards") }
            blocks = lo...hi
        }
    }

    public func matches(_ id: LinearID) -> Bool {
        (kind == nil || kind == id.kind) && (blocks?.contains(id.block) ?? true)
    }

    public var description: String { text }
}

/// The modules of `ids` that `only` (nil: all) selects and `skip` does not. A pattern that
/// matches no module of `ids` throws (origin `.layer`), naming the pattern.
public func selectModules(_ ids: [LinearID], only: [LayerPattern]?, skip: [LayerPattern]) throws -> [LinearID] {
    let blocks = (ids.map(\.block).max() ?? -1) + 1
    for p in (only ?? []) + skip where !ids.contains(where: p.matches) {
        throw QuantError("layer pattern '\(p.text)' matches no module (the model has blocks 0…\(blocks - 1), kinds q k v o gate up down)",
                         origin: .layer)
    }
    return ids.filter { id in (only?.contains { $0.matches(id) } ?? true) && !skip.contains { $0.matches(id) } }
}

/// Average bits per weight of quantized modules: each module's codes (`bits` per weight)
/// plus a 16-bit scale and a 16-bit zero point per group, over its weights; modules kept at
/// full precision (`keptWeights` weights) count `keptBits` per weight.
public func bitsPerWeight(_ reports: [ModuleReport], keptWeights: Int = 0, keptBits: Double = 16) -> Double {
    var bits = Double(keptWeights) * keptBits, n = Double(keptWeights)
    for r in reports {
        bits += Double(r.bits * r.weights + 32 * r.groups)
        n += Double(r.weights)
    }
    return n > 0 ? bits / n : .nan
}
