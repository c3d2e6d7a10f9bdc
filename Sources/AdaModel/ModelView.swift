import Foundation
import AdaTensor

/// A replacement for one linear layer of a model view: a dense tensor, or a compact stored
/// form (packed integer codes with their scales and zeros) turned into Float32 on use.
public protocol LayerOverlay: Sendable {
    /// `[out, in]`.
    var shape: [Int] { get }
    /// Bytes the layer keeps in memory.
    var storedBytes: Int { get }
    /// The layer's Float32 weights `[out, in]` (computed each time for compact forms).
    func materialize() -> Tensor
}

extension Tensor: LayerOverlay {
    public var storedBytes: Int { count * MemoryLayout<Float>.size }
    public func materialize() -> Tensor { self }
}

/// A model as a view: a *base* model plus an *overlay* of per-layer replacements. The view
/// is a value: replacing a layer makes a new view that shares the base and every other
/// layer, so N quantized variants of one model cost N times their packed layers, not N
/// copies of the network. Weights of a block are materialized only while it runs
/// (`block(_:)`), so a forward pass holds one block's Float32 replacements at a time.
public struct ModelView: Sendable {
    /// The model the view starts from (shared by every view of it).
    public let base: LlamaModel
    /// Replaced linear layers.
    public private(set) var overlay: [LinearID: any LayerOverlay]

    public init(base: LlamaModel, overlay: [LinearID: any LayerOverlay] = [:]) {
        self.base = base
        self.overlay = overlay
    }

    public var config: LlamaConfig { base.config }
    public var blockCount: Int { base.blocks.count }
    public var linearIDs: [LinearID] { base.linearIDs }

    /// Replaces layer `id` (its shape must be the base layer's; checked by the caller).
    public mutating func set(_ id: LinearID, _ layer: any LayerOverlay) {
        overlay[id] = layer
    }

    /// A new view with layer `id` replaced.
    public func replacing(_ id: LinearID, with layer: any LayerOverlay) -> ModelView {
        var v = self
        v.set(id, layer)
        return v
    }

    /// The stored form of layer `id`: its overlay entry or the base's dense weight.
    public func layer(_ id: LinearID) -> any LayerOverlay { overlay[id] ?? base[id] }

    /// The Float32 weights of layer `id`.
    public func weight(_ id: LinearID) -> Tensor { overlay[id]?.materialize() ?? base[id] }

    /// Block `b` with its replaced layers materialized (the base's own block when none is).
    public func block(_ b: Int) -> LlamaBlock {
        var blk = base.blocks[b]
        for k in LinearKind.allCases {
            if let l = overlay[LinearID(block: b, kind: k)] { blk[k] = l.materialize() }
        }
        return blk
    }

    /// The whole model with every replacement materialized: a full Float32 copy of the
    /// replaced layers. Block-streamed consumers use `block(_:)` instead.
    public func materialized() -> LlamaModel {
        guard !overlay.isEmpty else { return base }
        var m = base
        for (id, l) in overlay { m[id] = l.materialize() }
        return m
    }

    /// Bytes held by the overlay (the base is shared and not counted).
    public var overlayBytes: Int { overlay.values.reduce(0) { $0 + $1.storedBytes } }
}

extension ModelView {
    /// Final hidden states (before the final norm) of `windows`, computed block by block: all
    /// windows through block `l` before block `l+1` is materialized. Per window, the same
    /// operations as `LlamaModel.finalHidden` in the same order, so the results are
    /// bit-identical to the materialized model's. `progress(done, blocks)` after each block.
    public func finalHiddens(_ windows: [[Int32]], progress: ((Int, Int) -> Void)? = nil,
                             shouldStop: (() -> Bool)? = nil) throws -> [Tensor] {
        let stream = BlockStream(model: base, windows: windows)
        for b in 0..<blockCount {
            if shouldStop?() == true { throw CancellationError() }
            stream.advance(weights: overlay.isEmpty ? nil : block(b))
            progress?(b + 1, blockCount)
        }
        return stream.hidden
    }
}

/// How many bytes of materialized blocks one operation may keep: the process-wide setting
/// (`override`, the language's `memory`), else `ADA_MEMORY` (bytes, or with a K, M or G
/// suffix), else a quarter of physical memory.
public enum MemoryBudget {
    /// Where the budget in force comes from.
    public enum Source: String, Sendable {
        case setting, environment = "ADA_MEMORY", physical = "default"
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var setting: Int?

    /// The process-wide budget that takes precedence over `ADA_MEMORY` (nil: none).
    public static var override: Int? {
        get { lock.withLock { setting } }
        set { lock.withLock { setting = newValue.map { max($0, 0) } } }
    }

    /// The budget in force and where it comes from.
    public static var current: (bytes: Int, source: Source) {
        if let b = override { return (b, .setting) }
        if let s = ProcessInfo.processInfo.environment["ADA_MEMORY"], let b = parse(s) { return (b, .environment) }
        return (Int(min(ProcessInfo.processInfo.physicalMemory / 4, UInt64(Int.max))), .physical)
    }

    public static var bytes: Int { current.bytes }

    /// `123`, `512M`, `4G`, `64k` → bytes; nil when malformed or not positive.
    public static func parse(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).uppercased()
        guard let last = t.last else { return nil }
        let shift: Int
        switch last {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        default: shift = 0
        }
        let digits = shift == 0 ? t : String(t.dropLast())
        guard let n = Int(digits), n > 0 else { return nil }
        let (v, o) = n.multipliedReportingOverflow(by: 1 << shift)
        return o ? nil : v
    }
}

/// The materialized blocks of a view for one long operation that runs the blocks many times
/// (the batched passes of `evaluate`): each block's replaced layers are dequantized once and
/// kept while they fit in `budget` bytes; past it, the least recently used block is dropped
/// and materialized again when needed. A block without replaced layers is the base's own and
/// costs nothing. The cache lives as long as the operation: nothing stays behind in the view.
public final class BlockCache: @unchecked Sendable {
    public let view: ModelView
    public let budget: Int
    private var kept: [Int: (block: LlamaBlock, bytes: Int)] = [:]
    private var recent: [Int] = []
    private var held = 0
    private let lock = NSLock()

    public init(_ view: ModelView, budget: Int = MemoryBudget.bytes) {
        self.view = view
        self.budget = budget
    }

    /// Bytes of materialized layers held now.
    public var heldBytes: Int { lock.withLock { held } }

    public func block(_ b: Int) -> LlamaBlock {
        let ids = LinearKind.allCases.map { LinearID(block: b, kind: $0) }
        guard ids.contains(where: { view.overlay[$0] != nil }) else { return view.base.blocks[b] }
        if let hit = lock.withLock({ () -> LlamaBlock? in
            guard let k = kept[b] else { return nil }
            recent.removeAll { $0 == b }
            recent.append(b)
            return k.block
        }) { return hit }
        let blk = view.block(b)
        let bytes = ids.reduce(0) { $0 + (view.overlay[$1] == nil ? 0 : blk[$1.kind].count * 4) }
        lock.withLock {
            while held + bytes > budget, let old = recent.first {
                recent.removeFirst()
                held -= kept.removeValue(forKey: old)?.bytes ?? 0
            }
            if held + bytes <= budget {
                kept[b] = (blk, bytes)
                recent.append(b)
                held += bytes
            }
        }
        return blk
    }
}
