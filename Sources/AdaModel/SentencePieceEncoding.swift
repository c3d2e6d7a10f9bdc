// The machinery behind `SentencePieceTokenizer.encode`: a table of token ids by their bytes
// (looked up without building strings), the split of the text around user-defined tokens, and
// the score-ordered merging of adjacent symbols with a priority queue.

/// Token ids by their UTF-8 bytes: open addressing over FNV-1a hashes, so that a byte range of
/// the text is looked up without making a `String` of it. Empty tokens are not entered.
struct TokenByteTable: Sendable {
    /// Every token's bytes, one after another; token `i` is `bytes[starts[i]..<starts[i + 1]]`.
    let bytes: [UInt8]
    let starts: [Int]
    /// Token id + 1 in each slot, 0 for an empty slot.
    private let slots: [Int32]
    private let mask: Int

    /// The table of `tokens`; `duplicate(first, second)` is called for a text given twice
    /// (the first id is kept).
    init(_ tokens: [String], duplicate: (Int, Int) throws -> Void) rethrows {
        var all: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(tokens.count + 1)
        for t in tokens {
            all.append(contentsOf: t.utf8)
            starts.append(all.count)
        }
        var size = 16
        while size < 2 * tokens.count { size *= 2 }
        var slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        try all.withUnsafeBufferPointer { b in
            for i in 0..<tokens.count where starts[i + 1] > starts[i] {
                var s = Self.hash(b, starts[i], starts[i + 1] - starts[i]) & mask
                while slots[s] != 0 {
                    let j = Int(slots[s] - 1)
                    if Self.equal(b, starts[i], starts[i + 1] - starts[i], b, starts[j], starts[j + 1] - starts[j]) {
                        try duplicate(j, i)
                        break
                    }
                    s = (s + 1) & mask
                }
                if slots[s] == 0 { slots[s] = Int32(i + 1) }
            }
        }
        bytes = all
        self.starts = starts
        self.slots = slots
        self.mask = mask
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in start..<(start + count) { h = (h ^ UInt64(p[k])) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ ia: Int, _ countA: Int,
                      _ b: UnsafeBufferPointer<UInt8>, _ ib: Int, _ countB: Int) -> Bool {
        guard countA == countB else { return false }
        for k in 0..<countA where a[ia + k] != b[ib + k] { return false }
        return true
    }

    /// The id of the token whose bytes are `text[start..<start + count]`, or -1.
    @inline(__always)
    func id(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int, _ tokenBytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        var s = Self.hash(text, start, count) & mask
        while true {
            let v = slots[s]
            if v == 0 { return -1 }
            let j = Int(v - 1)
            if Self.equal(text, start, count, tokenBytes, starts[j], starts[j + 1] - starts[j]) { return Int32(j) }
            s = (s + 1) & mask
        }
    }

    /// The id of the token spelled by `s`, or nil.
    func id(of s: String) -> Int32? {
        let u = Array(s.utf8)
        guard !u.isEmpty else { return nil }
        let r = u.withUnsafeBufferPointer { t in bytes.withUnsafeBufferPointer { id(t, 0, u.count, $0) } }
        return r < 0 ? nil : r
    }
}

/// The user-defined tokens (`\n`, `\n\n`, runs of spaces, HTML tags in Gemma's vocabulary) as a
/// byte trie. llama.cpp cuts them out of the text before anything else, the longest first: each
/// in turn takes its leftmost non-overlapping occurrences in what is still plain text.
struct UserTokenSplitter: Sendable {
    /// Trie edges: `node << 8 | byte` → child node.
    private let edges: [Int: Int32]
    /// Per node: the rank of the token ending there (order of cutting), or -1.
    private let terminal: [Int32]
    /// Token id and byte length of each rank: longest first, equal lengths by id.
    let ranked: [(id: Int32, length: Int)]
    private let firstByte: [Bool]

    init(tokens: [String], ids: [Int32]) {
        let order = ids.filter { !tokens[Int($0)].utf8.isEmpty }
            .sorted { (tokens[Int($0)].utf8.count, -$0) > (tokens[Int($1)].utf8.count, -$1) }
        var edges: [Int: Int32] = [:]
        var terminal: [Int32] = [-1]
        var first = [Bool](repeating: false, count: 256)
        for (rank, id) in order.enumerated() {
            var node = 0
            let u = Array(tokens[Int(id)].utf8)
            first[Int(u[0])] = true
            for b in u {
                let key = node << 8 | Int(b)
                if let c = edges[key] {
                    node = Int(c)
                } else {
                    edges[key] = Int32(terminal.count)
                    node = terminal.count
                    terminal.append(-1)
                }
            }
            terminal[node] = Int32(rank)
        }
        self.edges = edges
        self.terminal = terminal
        ranked = order.map { ($0, tokens[Int($0)].utf8.count) }
        firstByte = first
    }

    var isEmpty: Bool { ranked.isEmpty }

    /// The user-defined tokens found in `text`, as (byte offset, rank), in text order.
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> [(offset: Int, rank: Int)] {
        guard !ranked.isEmpty else { return [] }
        // Every occurrence of every token, listed per token in text order.
        var found = [[Int32]](repeating: [], count: ranked.count)
        var any = false
        for p in 0..<text.count where firstByte[Int(text[p])] {
            var node = 0
            var k = p
            while k < text.count, let c = edges[node << 8 | Int(text[k])] {
                node = Int(c)
                k += 1
                let r = terminal[node]
                if r >= 0 { found[Int(r)].append(Int32(p)); any = true }
            }
        }
        guard any else { return [] }
        // Longest tokens first; an occurrence is taken if none of its bytes is taken yet.
        // Every earlier-taken span is at least as long, so it overlaps this one only if it
        // covers one of this one's ends: checking the two ends is enough.
        var taken = [Bool](repeating: false, count: text.count)
        var out: [(offset: Int, rank: Int)] = []
        for (rank, list) in found.enumerated() where !list.isEmpty {
            let n = ranked[rank].length
            for p32 in list {
                let p = Int(p32)
                if taken[p] || taken[p + n - 1] { continue }
                for k in p..<(p + n) { taken[k] = true }
                out.append((p, rank))
            }
        }
        out.sort { $0.offset < $1.offset }
        return out
    }
}

/// A candidate merge of two adjacent symbols into the token of `score`.
struct Bigram {
    var score: Float
    var left: Int32
    var right: Int32
    /// Byte length of the merged text: the entry is stale once either symbol has changed.
    var size: Int32

    /// Higher score first; on equal scores the leftmost pair.
    @inline(__always)
    static func before(_ a: Bigram, _ b: Bigram) -> Bool {
        a.score > b.score || (a.score == b.score && a.left < b.left)
    }
}

/// A binary heap of bigrams, best first.
struct BigramHeap {
    private(set) var items: [Bigram] = []

    var isEmpty: Bool { items.isEmpty }
    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ b: Bigram) {
        items.append(b)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Bigram.before(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Bigram {
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < n && Bigram.before(items[l], items[best]) { best = l }
                if r < n && Bigram.before(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}

/// The score-ordered merging of llama.cpp's SentencePiece tokenizer on one piece of text
/// (spaces already written as `▁`): start from the UTF-8 characters, repeatedly merge the
/// adjacent pair whose concatenation is a token with the highest score (leftmost on ties),
/// then write each symbol as its token, or as byte tokens when it is none. Buffers are kept
/// between pieces of one text.
struct SymbolMerger {
    private var start: [Int32] = []
    private var length: [Int32] = []
    private var prev: [Int32] = []
    private var next: [Int32] = []
    private var heap = BigramHeap()

    mutating func encode(_ text: UnsafeBufferPointer<UInt8>, table: TokenByteTable, scores: [Float],
                         byteTokens: [Int32], into out: inout [Int32]) {
        guard !text.isEmpty else { return }
        start.removeAll(keepingCapacity: true)
        length.removeAll(keepingCapacity: true)
        var o = 0
        while o < text.count {
            let n = min(Self.utf8Length(text[o]), text.count - o)
            start.append(Int32(o))
            length.append(Int32(n))
            o += n
        }
        let count = start.count
        prev = Array(-1..<Int32(count - 1))
        next = Array(1...Int32(count))
        next[count - 1] = -1
        heap.removeAll()
        table.bytes.withUnsafeBufferPointer { tb in
            for i in 1..<max(1, count) { tryPair(Int32(i - 1), Int32(i), text, table, scores, tb) }
            while !heap.isEmpty {
                let b = heap.pop()
                let l = Int(b.left), r = Int(b.right)
                if length[l] == 0 || length[r] == 0 || length[l] + length[r] != b.size { continue }
                length[l] += length[r]
                length[r] = 0
                next[l] = next[r]
                if next[r] >= 0 { prev[Int(next[r])] = b.left }
                tryPair(prev[l], b.left, text, table, scores, tb)
                tryPair(b.left, next[l], text, table, scores, tb)
            }
            var i: Int32 = 0
            while i >= 0 {
                let s = Int(start[Int(i)]), n = Int(length[Int(i)])
                let id = table.id(text, s, n, tb)
                if id >= 0 {
                    out.append(id)
                } else {
                    for k in s..<(s + n) { out.append(byteTokens[Int(text[k])]) }
                }
                i = next[Int(i)]
            }
        }
    }

    @inline(__always)
    private mutating func tryPair(_ left: Int32, _ right: Int32, _ text: UnsafeBufferPointer<UInt8>,
                                  _ table: TokenByteTable, _ scores: [Float], _ tb: UnsafeBufferPointer<UInt8>) {
        guard left >= 0 && right >= 0 else { return }
        let size = length[Int(left)] + length[Int(right)]
        let id = table.id(text, Int(start[Int(left)]), Int(size), tb)
        guard id >= 0 else { return }
        heap.push(Bigram(score: scores[Int(id)], left: left, right: right, size: size))
    }

    /// The length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    @inline(__always)
    static func utf8Length(_ b: UInt8) -> Int {
        switch b >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
