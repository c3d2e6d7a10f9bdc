import AdaTensor
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The decoder blocks of a model: each either held in memory (set by an edit, or built in
/// memory) or read on demand from the model's mapped file, where the weights stay in their
/// stored type (F32, F16, BF16 or a GGML block type) until a block is needed.
///
/// Reading a block dequantizes its nine tensors to Float32. The file's `BlockSource` keeps
/// decoded blocks while they fit in the memory budget (`MemoryBudget`), least recently used
/// first out, so a small model stays decoded after its first pass and runs as fast as a
/// model held in memory, while a model larger than the budget holds only the blocks it is
/// running. Values stay values: setting a block keeps it in this store only, and copies of
/// the store share the source.
public struct BlockStore: RandomAccessCollection, MutableCollection, Sendable {
    public let count: Int
    /// Blocks held in memory, by index; the others come from `source`.
    private var held: [Int: LlamaBlock]
    private let source: BlockSource?

    /// Blocks built in memory.
    public init(_ blocks: [LlamaBlock]) {
        count = blocks.count
        held = Dictionary(uniqueKeysWithValues: blocks.enumerated().map { i, b in
            var blk = b
            blk.index = i
            return (i, blk)
        })
        source = nil
    }

    /// Every block read on demand from `source`.
    public init(source: BlockSource) {
        count = source.count
        held = [:]
        self.source = source
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(b: Int) -> LlamaBlock {
        get {
            if let blk = held[b] { return blk }
            guard let source else { preconditionFailure("block \(b) of \(count) is neither held nor in a file") }
            return source.block(b)
        }
        set {
            var blk = newValue
            blk.index = b
            held[b] = blk
        }
    }

    /// One linear layer, dequantized alone when its block is not decoded already.
    public func linear(_ id: LinearID) -> Tensor {
        if let blk = held[id.block] { return blk[id.kind] }
        guard let source else { preconditionFailure("block \(id.block) of \(count) is neither held nor in a file") }
        return source.linear(id)
    }

    /// Whether block `b` is read from a file whose weights were all checked finite at load
    /// (not loaded with `allowNonFinite`), rather than held in memory.
    public func isCheckedFinite(_ b: Int) -> Bool { held[b] == nil && source?.checkedFinite == true }

    /// Whether block `b` is read from the model's file as stored (not held in memory, so no
    /// edit has replaced it).
    public func isFromFile(_ b: Int) -> Bool { held[b] == nil && source != nil }

    /// The file the blocks not held in memory are read from.
    public var fileSource: BlockSource? { source }

    /// Bytes of Float32 blocks held by this store (not counting the source's cache).
    public var heldBytes: Int { held.values.reduce(0) { $0 + $1.byteCount } }
}

extension LlamaBlock {
    /// Bytes of its Float32 weights.
    public var byteCount: Int {
        let norms = [qNorm, kNorm, postAttnNorm, postFFNNorm].reduce(attnNorm.count + ffnNorm.count) { $0 + ($1?.count ?? 0) }
        return 4 * (norms + LinearKind.allCases.reduce(0) { $0 + self[$1].count })
    }

    /// Sets norm `bw` (one of the optional norms, or attn/ffn).
    mutating func setNorm(_ bw: BlockWeight, _ v: [Float]) {
        switch bw {
        case .attnNorm: attnNorm = v
        case .ffnNorm: ffnNorm = v
        case .qNorm: qNorm = v
        case .kNorm: kNorm = v
        case .postAttnNorm: postAttnNorm = v
        case .postFFNNorm: postFFNNorm = v
        case .linear(let k): self[k] = Tensor(shape: self[k].shape, data: v)
        }
    }
}

/// The blocks of a mapped GGUF file, decoded on demand, with a cache of decoded blocks
/// bounded by the memory budget. Shared by every model value loaded from the file and every
/// view of them; thread-safe.
public final class BlockSource: @unchecked Sendable {
    public let file: GGUFFile
    public let count: Int
    /// Whether the weights were checked finite at load (false with `allowNonFinite`).
    public let checkedFinite: Bool
    /// The cache's budget in bytes (nil: `MemoryBudget.bytes` at each decode).
    public let budget: Int?
    /// The family's norms besides `attn_norm` and `ffn_norm`.
    let extraNorms: [BlockWeight]
    private let name: (Int, BlockWeight) -> String
    private let transform: (Int, BlockWeight, Tensor) -> Tensor
    private var kept: [Int: LlamaBlock] = [:]
    private var recent: [Int] = []
    private var keptBytes = 0
    private let lock = NSLock()
    /// Blocks decoded from the file since it was opened (cache misses), for benchmarks.
    public private(set) var decodes = 0

    init(file: GGUFFile, count: Int, checkedFinite: Bool, budget: Int? = nil, extraNorms: [BlockWeight] = [],
         name: @escaping (Int, BlockWeight) -> String,
         transform: @escaping (Int, BlockWeight, Tensor) -> Tensor = { _, _, t in t }) {
        self.file = file
        self.count = count
        self.checkedFinite = checkedFinite
        self.budget = budget
        self.extraNorms = extraNorms
        self.name = name
        self.transform = transform
    }

    /// Bytes of decoded blocks kept now.
    public var cachedBytes: Int { lock.withLock { keptBytes } }

    /// Block `b`, from the cache or decoded from the file.
    public func block(_ b: Int) -> LlamaBlock {
        if let hit = lock.withLock({ () -> LlamaBlock? in
            guard let blk = kept[b] else { return nil }
            recent.removeAll { $0 == b }
            recent.append(b)
            return blk
        }) { return hit }
        let blk = decode(b)
        offer(b, blk)
        return blk
    }

    /// One linear layer: from a cached block, else dequantized alone (not cached).
    public func linear(_ id: LinearID) -> Tensor {
        if let blk = lock.withLock({ kept[id.block] }) { return blk[id.kind] }
        return weight(id.block, .linear(id.kind))
    }

    /// Keeps a decoded block while the budget allows, dropping the least recently used.
    func offer(_ b: Int, _ blk: LlamaBlock) {
        let bytes = blk.byteCount, budget = self.budget ?? MemoryBudget.bytes
        lock.withLock {
            guard kept[b] == nil else { return }
            while keptBytes + bytes > budget, let old = recent.first {
                recent.removeFirst()
                keptBytes -= kept.removeValue(forKey: old)?.byteCount ?? 0
            }
            guard keptBytes + bytes <= budget else { return }
            kept[b] = blk
            recent.append(b)
            keptBytes += bytes
        }
    }

    /// Decodes block `b` (its tensors' shapes and types were checked at load).
    func decode(_ b: Int) -> LlamaBlock {
        lock.withLock { decodes += 1 }
        let w = { (bw: BlockWeight) in self.weight(b, bw) }
        var blk = LlamaBlock(attnNorm: w(.attnNorm).data, ffnNorm: w(.ffnNorm).data, q: w(.linear(.q)), k: w(.linear(.k)),
                             v: w(.linear(.v)), o: w(.linear(.o)), gate: w(.linear(.gate)), up: w(.linear(.up)),
                             down: w(.linear(.down)), index: b)
        for bw in extraNorms { blk.setNorm(bw, w(bw).data) }
        return blk
    }

    /// One tensor of block `b`, dequantized; the pages of the file it was read from are
    /// released, so the mapping does not stay in the resident set.
    func weight(_ b: Int, _ bw: BlockWeight) -> Tensor {
        let n = name(b, bw)
        guard let info = file.info(n) else { preconditionFailure("tensor '\(n)' was checked at load") }
        var out = [Float](repeating: 0, count: info.elementCount)
        let raw = file.rawBytes(info)
        out.withUnsafeMutableBufferPointer { Dequantize.run(info.type, raw, into: $0) }
        Self.release(raw)
        return transform(b, bw, Tensor(shape: info.shape, data: out))
    }

    /// Lets the kernel drop the whole pages inside `raw` (re-read from the file if touched).
    static func release(_ raw: UnsafeRawBufferPointer) {
        guard let p = raw.baseAddress, raw.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: p) + page - 1) / page * page
        let end = (Int(bitPattern: p) + raw.count) / page * page
        guard end > start, let ptr = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(ptr, end - start, Int32(MADV_DONTNEED))
    }
}

extension BlockSource {
    /// Decodes every block once at load, refusing a non-finite weight (unless `options`
    /// allow it), and keeps the decoded blocks the budget allows.
    func checkBlocks(options: LoadOptions) throws {
        for b in 0..<count {
            let blk = decode(b)
            if !options.allowNonFinite {
                for bw in [.attnNorm, .ffnNorm] + extraNorms + LinearKind.allCases.map({ BlockWeight.linear($0) }) {
                    guard let t = blk.tensor(bw) else { continue }
                    try checkFinite(t, file: file.path, name: name(b, bw), options: options)
                }
            }
            offer(b, blk)
        }
    }
}
