import AdaLang
import AdaLibrary
import AdaModel
import AdaTensor
import Foundation

/// The mutations of `ada fuzz`: on the model's fields (sizes, hyperparameters, tensor
/// shapes and values, vocabulary), on JSON documents (config.json, tokenizer.json, a
/// safetensors header), on raw bytes, and on ada source.
enum FuzzMutator {
    static func pick<T>(_ xs: [T], _ rng: inout SplitMix64) -> T { xs[Int(rng.next() % UInt64(xs.count))] }

    /// Hostile numbers a size or a hyperparameter may be set to.
    static func hostileValue(_ rng: inout SplitMix64) -> GGUFValue {
        pick([.uint32(0), .int32(-1), .uint32(UInt32.max), .uint64(UInt64.max), .int64(Int64.min), .uint64(1 << 40),
              .float32(2.5), .float32(.nan), .float32(.infinity), .float32(0), .float32(-1), .string("x"), .bool(true),
              .uint32(3), .uint32(7), .uint32(1), .array([])], &rng)
    }

    /// One to three field-level changes to the model.
    static func model(_ m: inout FuzzModel, _ rng: inout SplitMix64) {
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            switch rng.next() % 9 {
            case 0, 1:  // a metadata value
                let i = Int(rng.next() % UInt64(m.meta.count))
                m.meta[i].1 = hostileValue(&rng)
            case 2:  // a missing key
                m.meta.remove(at: Int(rng.next() % UInt64(m.meta.count)))
            case 3:  // a tensor of another shape: transposed, a dimension changed, or flattened
                let i = Int(rng.next() % UInt64(m.tensors.count))
                let t = m.tensors[i].1
                var shape = t.shape
                switch rng.next() % 3 {
                case 0: shape.reverse()
                case 1: shape[Int(rng.next() % UInt64(shape.count))] += pick([-1, 1, 3], &rng)
                default: shape = [t.count]
                }
                shape = shape.map { max(1, $0) }
                m.tensors[i].1 = Tensor(shape: shape) { j in j < t.count ? t.data[j] : 0.1 }
            case 4:  // a missing or duplicated tensor
                let i = Int(rng.next() % UInt64(m.tensors.count))
                if rng.next() % 2 == 0 { m.tensors.remove(at: i) } else { m.tensors.append(m.tensors[i]) }
            case 5:  // non-finite or huge weights
                let i = Int(rng.next() % UInt64(m.tensors.count))
                var t = m.tensors[i].1
                t.data[Int(rng.next() % UInt64(t.count))] = pick([.nan, .infinity, -.infinity, 3e38, 1e-45], &rng)
                m.tensors[i].1 = t
            case 6:  // a vocabulary larger or smaller than the embedding, or with duplicates
                switch rng.next() % 3 {
                case 0: m.tokens += (0..<Int(1 + rng.next() % 40)).map { "extra\($0)" }
                case 1: m.tokens.removeLast(Int(1 + rng.next() % 10))
                default: m.tokens[Int(rng.next() % UInt64(m.tokens.count))] = m.tokens[0]
                }
            case 7:  // merges that name unknown tokens, or malformed ones
                m.merges.append(pick(["zz qq", "t", "", "t h e", "<|end|> a", "Ġt Ġt"], &rng))
            default:  // token ids beyond the vocabulary
                m.meta.append((pick(["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"], &rng),
                               pick([.uint32(1 << 30), .int32(-5), .uint32(UInt32(m.tokens.count))], &rng)))
            }
        }
    }

    /// Flips, overwrites, truncates or splices bytes.
    static func bytes(_ b: inout [UInt8], _ rng: inout SplitMix64) {
        guard !b.isEmpty else { return }
        switch rng.next() % 5 {
        case 0: for _ in 0..<(1 + Int(rng.next() % 8)) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8)) }
        case 1: b.removeLast(Int(rng.next() % UInt64(b.count)))
        case 2:
            let i = Int(rng.next() % UInt64(b.count))
            let v = pick([UInt64.max, 0, UInt64(Int64.max), 1 << 33, 0xFFFF_FFFF], &rng)
            for k in 0..<8 where i + k < b.count { b[i + k] = UInt8((v >> (8 * UInt64(k))) & 0xFF) }
        case 3:
            let i = Int(rng.next() % UInt64(b.count))
            b.insert(contentsOf: (0..<Int(1 + rng.next() % 64)).map { _ in UInt8(rng.next() & 0xFF) }, at: i)
        default:
            // In the first 512 bytes (the header, counts and the first keys).
            for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(min(512, b.count)))] = UInt8(rng.next() & 0xFF) }
        }
    }

    /// A change inside a JSON object: a value replaced by another type, a hostile number or
    /// nothing, a key removed, a list emptied or filled with junk. Recurses into one member.
    static func json(_ obj: inout [String: Any], _ rng: inout SplitMix64, depth: Int = 0) {
        guard !obj.isEmpty else { obj["x"] = 1; return }
        let keys = obj.keys.sorted()
        let k = pick(keys, &rng)
        if depth < 3, rng.next() % 2 == 0, var sub = obj[k] as? [String: Any] {
            json(&sub, &rng, depth: depth + 1)
            obj[k] = sub
            return
        }
        switch rng.next() % 6 {
        case 0: obj.removeValue(forKey: k)
        case 1: obj[k] = pick([0, -1, 1 << 40, 2.5, Double.greatestFiniteMagnitude, 1e-300] as [Any], &rng)
        case 2: obj[k] = pick(["", "x", NSNull(), true, [1, 2], ["a": 1]] as [Any], &rng)
        case 3:
            if var l = obj[k] as? [Any] {
                if l.isEmpty || rng.next() % 2 == 0 { l.append(pick([1 << 31, "q r s", NSNull(), -3, ["id": 99999]] as [Any], &rng)) } else { l.removeAll() }
                obj[k] = l
            } else { obj[k] = [Any]() }
        case 4:
            if var d = obj[k] as? [String: Any], let kk = d.keys.sorted().first {
                d[kk] = pick([1 << 30, -1, 0, "dup"] as [Any], &rng)  // ids out of range, duplicates
                obj[k] = d
            } else { obj[k] = ["a": -1] }
        default: obj[k + "_x"] = obj[k]
        }
    }

    /// A packed (safetensors) file with a mutated JSON header, lengths adjusted so the
    /// change is inside the structure rather than a torn file.
    static func safetensorsHeader(_ b: inout [UInt8], _ rng: inout SplitMix64) {
        guard b.count >= 8 else { return }
        let n = Int(b[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        guard n > 0, 8 + n <= b.count, var header = (try? JSONSerialization.jsonObject(with: Data(b[8..<(8 + n)]))) as? [String: Any] else { return }
        // Mutate one tensor entry: its shape, offsets or dtype; or the metadata.
        let names = header.keys.sorted()
        let k = pick(names, &rng)
        if var e = header[k] as? [String: Any] {
            switch rng.next() % 5 {
            case 0: e["shape"] = pick([[1 << 31, 1 << 31], [0], [-1, 4], [], [3, 5, 7], [UInt32.max]] as [Any], &rng)
            case 1: e["data_offsets"] = pick([[0, Int.max], [-8, 4], [100, 4], [0, 1 << 40]] as [Any], &rng)
            case 2: e["dtype"] = pick(["F64", "U4", "I8", "Q", ""], &rng)
            case 3: header[pick(["blk.99.attn_q.weight", "zzz", "blk.0.attn_q.codes"], &rng)] = e
            default: header.removeValue(forKey: k)
            }
            if header[k] != nil { header[k] = e }
        } else {
            var meta = header[k] as? [String: Any] ?? [:]
            json(&meta, &rng)
            header[k] = meta
        }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else { return }
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out += json
        out += b[(8 + n)...]
        b = out
    }

    // MARK: ada source

    static let fragments = ["(", ")", "[", "]", "{", "}", ",", "=", "+", "-", "*", "/", "%", "==", "<", "not ", " and ",
                            "if x { ", "} else { ", "for i in range 3 { ", "fn g(a) { return a }", "return ", "break",
                            "\"", "\"abc\"", "\n", "x", "1e308", "-0", "0.5", "m", "t[0]", "t[0:2, :]", ".rows", "print ",
                            "quantize m bits=3 group=4 ", "rtn (tensor [[1, 2], [3, 4]]) group=2 ", "len ", "# c\n", "\\u{0}", "é", "🙂"]

    /// A mutant of `source`: spans deleted, duplicated or moved, fragments inserted.
    static func source(_ source: String, _ rng: inout SplitMix64) -> String {
        var s = Array(source.unicodeScalars)
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let i = s.isEmpty ? 0 : Int(rng.next() % UInt64(s.count + 1))
            switch rng.next() % 4 {
            case 0 where !s.isEmpty:
                let j = min(s.count, i + Int(rng.next() % 20))
                if i < j { s.removeSubrange(i..<j) }
            case 1 where !s.isEmpty:
                let j = min(s.count, i + Int(rng.next() % 40))
                if i < j { s.insert(contentsOf: Array(s[i..<j]), at: min(s.count, j)) }
            default:
                s.insert(contentsOf: Array(pick(fragments, &rng).unicodeScalars), at: min(i, s.count))
            }
        }
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s)
        return String(v)
    }

    /// A generated hostile script: deep nesting of one kind, long chains, many statements,
    /// long lines, runaway recursion or loops.
    static func hostileScript(_ rng: inout SplitMix64) -> String {
        let n = pick([10, 119, 121, 500, 5000, 50_000], &rng)
        switch rng.next() % 12 {
        case 0: return "x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n)
        case 1: return "x = " + String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n)
        case 2: return "x = " + String(repeating: "{a: ", count: n) + "1" + String(repeating: "}", count: n)
        case 3: return String(repeating: "if true { ", count: n) + "x = 1" + String(repeating: " }", count: n)
        case 4: return "x = " + Array(repeating: "1", count: n * 4).joined(separator: pick([" + ", " * ", " and ", " - "], &rng))
        case 5: return "x = [1]" + String(repeating: "[0]", count: n)
        case 6: return (0..<n).map { "v\($0 % 7) = \($0)" }.joined(separator: "\n")
        case 7: return "s = \"" + String(repeating: "a", count: n * 20)
        case 8: return "fn f(n) { return f(n + 1) + " + Array(repeating: "1", count: min(n, 900)).joined(separator: " + ") + " }\nf 0"
        case 9: return "x = 0\nfor i in range 1000000 { x = x + 1 }"
        case 10: return "x = " + String(repeating: "-", count: n) + "1\ny = " + String(repeating: "not ", count: n) + "true"
        default: return "x = " + String(repeating: "len (", count: n) + "[1]" + String(repeating: ")", count: n)
        }
    }
}
