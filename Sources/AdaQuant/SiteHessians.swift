import AdaModel
import AdaTensor

/// The four distinct input streams of a block's linear modules: q, k and v share the
/// RMS-normed block input, o reads the attention context, gate and up share the RMS-normed
/// residual, down reads the SwiGLU activation.
public enum InputSite: Int, Sendable, CaseIterable {
    case attnIn, attnContext, mlpIn, mlpAct

    /// The site whose activations are the inputs of `kind`.
    public init(_ kind: LinearKind) {
        switch kind {
        case .q, .k, .v: self = .attnIn
        case .o: self = .attnContext
        case .gate, .up: self = .mlpIn
        case .down: self = .mlpAct
        }
    }

    /// Number of input features at this site.
    public func size(_ c: LlamaConfig) -> Int {
        switch self {
        case .attnIn, .mlpIn: return c.hiddenSize
        case .attnContext: return c.numHeads * c.headDim
        case .mlpAct: return c.intermediateSize
        }
    }

    /// This site's activations in a block trace.
    public func input(in trace: BlockTrace) -> Tensor {
        switch self {
        case .attnIn: return trace.attnIn
        case .attnContext: return trace.attnContext
        case .mlpIn: return trace.mlpIn
        case .mlpAct: return trace.mlpAct
        }
    }
}

/// The Hessian sums `Σ x xᵀ` of one block's four input sites, fed one trace (window) at a time.
public struct SiteHessians: Sendable {
    /// One Hessian per site, indexed by `InputSite.rawValue`.
    public private(set) var sites: [Hessian]

    public init(config: LlamaConfig) {
        sites = InputSite.allCases.map { Hessian(size: $0.size(config)) }
    }

    /// Adds the inputs of every site of one window's trace.
    public mutating func add(_ trace: BlockTrace) {
        for site in InputSite.allCases { sites[site.rawValue].add(site.input(in: trace)) }
    }

    public subscript(site: InputSite) -> Hessian { sites[site.rawValue] }

    /// The Hessian of the inputs of a module of kind `kind`.
    public subscript(kind: LinearKind) -> Hessian { sites[InputSite(kind).rawValue] }
}

/// Hessian sums of the four input sites (`q/k/v`, `o`, `gate/up`, `down`) of every block, from
/// the full-precision model on `calibration`: what GPTQ needs, computed once and reusable
/// across GPTQ runs that take their inputs from the full-precision model.
public struct CalibrationHessians: Sendable {
    /// One entry per block.
    public let blocks: [SiteHessians]
    public let seconds: Double

    /// `sites[block][site]` with sites in the order attnIn, attnContext, mlpIn, mlpAct.
    public var sites: [[Hessian]] { blocks.map(\.sites) }

    public func hessian(_ id: LinearID) -> Hessian { blocks[id.block][id.kind] }

    public init(model: LlamaModel, calibration: [[Int32]], progress: ((Int, Int) -> Void)? = nil,
                shouldStop: (() -> Bool)? = nil) throws {
        let t0 = now()
        let stream = BlockStream(model: model, windows: calibration)
        var all: [SiteHessians] = []
        for b in 0..<model.blocks.count {
            if shouldStop?() == true { throw CancellationError() }
            var hs = SiteHessians(config: model.config)
            stream.traceAndAdvance { _, tr in hs.add(tr) }
            all.append(hs)
            progress?(b + 1, model.blocks.count)
        }
        blocks = all
        seconds = now() - t0
    }
}
