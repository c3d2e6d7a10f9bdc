import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

// Non-finite weights (loaded with LoadOptions.allowNonFinite) and hostile packed files: the
// quantizers and the packed reader refuse them with one-line errors instead of trapping.

/// Runs `body`, expecting a QuantError of `origin` whose message contains each of `mentions`.
private func expectQuantError(_ origin: QuantError.Origin, _ mentions: [String], _ what: String = "",
                              sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("\(what): expected a QuantError, got success", sourceLocation: sourceLocation)
    } catch let e as QuantError {
        #expect(e.origin == origin, "\(what): origin \(String(describing: e.origin)) (\(e))", sourceLocation: sourceLocation)
        #expect(!e.message.contains("\n"), "\(what): \(e)", sourceLocation: sourceLocation)
        for m in mentions { #expect(e.message.contains(m), "\(what): '\(e)' should mention '\(m)'", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("\(what): expected a QuantError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Quantizing non-finite weights")
struct NonFiniteQuantTests {
    /// QTiny with `value` at `[r, c]` of block 1's up projection.
    static func poisoned(_ value: Float, r: Int = 3, c: Int = 5) -> LlamaModel {
        var m = QTiny.model()
        m.blocks[1].up.data[r * QTiny.config.hiddenSize + c] = value
        return m
    }

    @Test func wholeModelQuantizationNamesTheLayer() {
        let calib = QTiny.windows(count: 2, length: 16)
        for v: Float in [.nan, .infinity, -.infinity] {
            let m = Self.poisoned(v)
            let what = v.isNaN ? "nan at [3, 5]" : (v > 0 ? "+inf at [3, 5]" : "-inf at [3, 5]")
            for (method, dim) in [(QuantMethod.rtn, DimChoice.fixed(.oc)), (.rtn, .fixed(.ic)), (.rtn, .ada(.block)),
                                  (.gptq, .fixed(.oc)), (.gptq, .ada(.module))] {
                let o = QuantizeOptions(method: method, bits: 4, group: 8, dim: dim)
                expectQuantError(.tensor, ["blk.1.ffn_up", what], "\(method) \(dim) \(v)") {
                    _ = try quantizeModel(m, options: o, calibration: calib)
                }
            }
        }
    }

    @Test func calibrationThroughANaNNormIsRefused() {
        var m = QTiny.model()
        m.blocks[0].attnNorm[7] = .nan
        let o = QuantizeOptions(method: .gptq, bits: 4, group: 8, dim: .fixed(.oc))
        expectQuantError(.tensor, ["blk.0.attn_norm", "nan at [7]"]) {
            _ = try quantizeModel(m, options: o, calibration: QTiny.windows(count: 2, length: 16))
        }
        // RTN in a fixed dimension runs no calibration: the norm does not matter.
        let r = QuantizeOptions(method: .rtn, bits: 4, group: 8, dim: .fixed(.oc))
        #expect(throws: Never.self) { _ = try quantizeModel(m, options: r) }
    }

    @Test func perTensorQuantizers() {
        var rng = TestRNG(seed: 3)
        var w = randomMatrix(16, 32, &rng)
        w.data[40] = .nan
        for d in QuantDim.allCases {
            expectQuantError(.tensor, ["nan at [1, 8]"], "rtn \(d)") { _ = try quantizeRTN(w, QuantSpec(bits: 3, group: 8, dim: d)) }
        }
        expectQuantError(.tensor, ["blk.4.attn_v", "nan"]) { _ = try quantizeRTN(w, QuantSpec(bits: 3, group: 8, dim: .oc), name: "blk.4.attn_v") }
        let h = hessianOf(randomActivations(64, 32, &rng))
        expectQuantError(.tensor, ["nan at [1, 8]"]) { _ = try quantizeGPTQ(w, hessian: h, spec: QuantSpec(bits: 3, group: 8, dim: .oc)) }
        // A Hessian of non-finite activations.
        var x = randomActivations(64, 32, &rng)
        x.data[100] = .infinity
        let bad = hessianOf(x)
        let fine = randomMatrix(16, 32, &rng)
        expectQuantError(.calibration, ["Hessian", "non-finite"]) {
            _ = try quantizeGPTQ(fine, hessian: bad, spec: QuantSpec(bits: 3, group: 8, dim: .ic))
        }
        // Finite weights whose range overflows Float32: an error, not a trap.
        var huge = fine
        huge.data[0] = 3e38     // [0, 0]
        huge.data[1] = -3e38    // [0, 1]: per-OC group 0 of row 0 spans 6e38
        huge.data[32] = -3e38   // [1, 0]: per-IC group 0 of column 0 too
        for d in QuantDim.allCases {
            expectQuantError(.tensor, ["too wide"], "huge \(d)") { _ = try quantizeRTN(huge, QuantSpec(bits: 3, group: 8, dim: d)) }
        }
        // The same weights without the poison quantize as before.
        #expect(throws: Never.self) { _ = try quantizeRTN(fine, QuantSpec(bits: 3, group: 8, dim: .oc)) }
        #expect(throws: Never.self) { _ = try quantizeGPTQ(fine, hessian: h, spec: QuantSpec(bits: 3, group: 8, dim: .oc)) }
    }
}

/// Rewrites a packed file: `meta` edits the metadata, `tensor` edits (or drops) each entry's
/// (dtype, shape, bytes), `extra` adds entries.
private func rewritePacked(_ src: String, to dst: String, meta: (inout [String: String]) -> Void = { _ in },
                           tensor: (String, String, [Int], [UInt8]) -> (String, [Int], [UInt8])? = { ($1, $2, $3) },
                           extra: [(String, String, [Int], [UInt8])] = []) throws {
    let f = try SafetensorsFile(path: src)
    var w = SafetensorsWriter()
    var m = f.metadata
    meta(&m)
    w.metadata = m
    for name in f.entries.keys.sorted() {
        let e = f.entries[name]!
        if let (dt, shape, bytes) = tensor(name, e.dtype, e.shape, Array(try f.rawBytes(name))) {
            w.add(name, dtype: dt, shape: shape, bytes: bytes)
        }
    }
    for (name, dt, shape, bytes) in extra { w.add(name, dtype: dt, shape: shape, bytes: bytes) }
    try w.write(to: dst)
}

@Suite("Hostile packed files")
struct HostilePackedTests {
    let dir: String = {
        let p = FileManager.default.temporaryDirectory.path + "/ada-packed-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }()

    /// QTiny, its RTN quantization and the packed file of it.
    func valid() throws -> (LlamaModel, QuantizedModel, String) {
        let m = QTiny.model()
        let q = try quantizeModel(m, options: QuantizeOptions(method: .rtn, bits: 4, group: 8, dim: .fixed(.oc)))
        let path = dir + "/valid.safetensors"
        try PackedFormat.write(q, to: path)
        return (m, q, path)
    }

    func expectError(_ path: String, _ mentions: [String], _ base: LlamaModel, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try PackedFormat.apply(path, to: base)
            Issue.record("\(what): expected an error", sourceLocation: sourceLocation)
        } catch let e as ModelFileError {
            #expect(e.file == path, sourceLocation: sourceLocation)
            #expect(!e.description.contains("\n"), "\(what): \(e)", sourceLocation: sourceLocation)
            for m in mentions { #expect(e.description.contains(m), "\(what): '\(e)' should mention '\(m)'", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("\(what): expected a ModelFileError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func validFileStillAppliesExactly() throws {
        let (m, q, path) = try valid()
        let applied = try PackedFormat.apply(path, to: m)
        let qm = q.model
        for id in m.linearIDs { #expect(applied[id] == qm[id], "\(id)") }
    }

    @Test func layersTheBaseModelDoesNotHave() throws {
        let (m, _, path) = try valid()
        let desc = try SafetensorsFile(path: path).metadata["blk.0.attn_q"]!
        let copies = try ["qweight", "scales", "zeros"].map { part -> (String, String, [Int], [UInt8]) in
            let f = try SafetensorsFile(path: path)
            let e = f.entries["blk.0.attn_q.\(part)"]!
            return ("blk.7.attn_q.\(part)", e.dtype, e.shape, Array(try f.rawBytes(e.name)))
        }
        let p7 = dir + "/block7.safetensors"
        try rewritePacked(path, to: p7, meta: { $0["blk.7.attn_q"] = desc }, extra: copies)
        expectError(p7, ["tensor 'blk.7.attn_q'", "no block 7"], m, "block 7")
        let pn = dir + "/negative.safetensors"
        try rewritePacked(path, to: pn, meta: { $0["blk.-1.attn_q"] = desc })
        expectError(pn, ["blk.-1.attn_q", "not a layer name"], m, "block -1")
        // A module described with another module's shape (gate is 48×32).
        let ps = dir + "/shape.safetensors"
        try rewritePacked(path, to: ps, meta: { $0["blk.0.ffn_gate"] = "bits=4 group=8 dim=oc grid=minmax shape=32x48" })
        expectError(ps, ["tensor 'blk.0.ffn_gate'", "32×48", "[48, 32]"], m, "shape")
    }

    @Test func sizeArithmeticThatWouldOverflow() throws {
        let (m, _, path) = try valid()
        let cases = ["bits=8 group=8 dim=oc grid=minmax shape=4611686018427387904x4",
                     "bits=8 group=8 dim=oc grid=minmax shape=3037000500x3037000500",
                     "bits=4 group=9223372036854775807 dim=oc grid=minmax shape=32x32",
                     "bits=4 group=64 dim=oc grid=minmax shape=32x32",
                     "bits=4 group=8 dim=oc grid=minmax shape=-32x32",
                     "bits=4 group=8 dim=oc grid=minmax shape=32x32x2"]
        for desc in cases {
            let p = dir + "/overflow.safetensors"
            try rewritePacked(path, to: p, meta: { $0["blk.1.attn_q"] = desc })
            expectError(p, ["__metadata__.blk.1.attn_q", "malformed"], m, desc)
        }
    }

    @Test func badScalesAndDuplicates() throws {
        let (m, _, path) = try valid()
        let pn = dir + "/nan.safetensors"
        try rewritePacked(path, to: pn, tensor: { name, dt, shape, bytes in
            guard name == "blk.1.attn_v.scales" else { return (dt, shape, bytes) }
            var b = bytes
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for i in 0..<4 { b[4 + i] = $0[i] } }
            return (dt, shape, b)
        })
        expectError(pn, ["tensor 'blk.1.attn_v.scales'", "non-finite"], m, "nan scale")
        let pz = dir + "/zeros.safetensors"
        try rewritePacked(path, to: pz, tensor: { name, dt, shape, bytes in name == "blk.0.ffn_up.zeros" ? (dt, [shape[0] + 1, shape[1]], bytes + [UInt8](repeating: 0, count: 4 * shape[1])) : (dt, shape, bytes) })
        expectError(pz, ["tensor 'blk.0.ffn_up.zeros'", "expected"], m, "zeros shape")
        let pd = dir + "/dup.safetensors"
        let f = try SafetensorsFile(path: path)
        let copies = try ["qweight", "scales", "zeros"].map { part -> (String, String, [Int], [UInt8]) in
            let e = f.entries["blk.0.attn_k.\(part)"]!
            return ("0.k.\(part)", e.dtype, e.shape, Array(try f.rawBytes(e.name)))
        }
        try rewritePacked(path, to: pd, meta: { $0["0.k"] = f.metadata["blk.0.attn_k"]! }, extra: copies)
        expectError(pd, ["blk.0.attn_k", "described twice"], m, "duplicate")
    }
}
