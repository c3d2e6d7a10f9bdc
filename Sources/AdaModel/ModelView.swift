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
