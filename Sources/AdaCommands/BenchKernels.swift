import AdaModel
import AdaQuant
import AdaTensor
import ArgumentParser
import Foundation

/// `ada bench kernels`: the batch-1 products of one decoding step — every block's q/k/v (one
/// fused call), o, gate/up (fused) and down — on the model's shapes, from Float32 weights
/// (OpenBLAS) and from packed codes at each width and grouping. Weights are random (their
/// values do not change the time); the embedding/head product is left out and reported
/// apart, since it is the same for every variant. Packed rows run with Float32 inputs and
/// with inputs rounded to int8 (`PackedActivations`). Last, the read bandwidth the Float32
/// matrix-vector products reach on a 1 GiB matrix (the ceiling of a memory-bound step).
struct KernelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels", abstract: "Batch-1 products from Float32 and from packed weights (one decoding step's linear layers).")
    @Option var model = "smollm2"
    @Option(help: "Tokens per product (1 = decoding; more = a small batch).") var batch = 1
    @Option(help: "Seconds to repeat each measurement.") var seconds = 2.0

    struct Shapes {
        let hidden: Int, q: Int, kv: Int, ffn: Int, layers: Int, vocab: Int
    }

    func run() throws {
        print("environment: \(environmentLine()); kernel threads: \(PackedMatrix.threads); int8 kernels (AVX-512 VNNI): \(PackedMatrix.int8Available ? "yes" : "no, int8 rows run Float32")")
        let c: LlamaConfig
        do { c = try LlamaModel.load(path: DataPaths.model(model)).config } catch { throw fail(error) }
        let s = Shapes(hidden: c.hiddenSize, q: c.numHeads * c.headDim, kv: c.numKVHeads * c.headDim,
                       ffn: c.intermediateSize, layers: c.numLayers, vocab: c.vocabSize)
        let params = Double(s.layers * (s.hidden * (s.q + 2 * s.kv) + s.q * s.hidden + 3 * s.hidden * s.ffn))
        print(String(format: "%@: %d blocks, %.1f M linear parameters; batch %d", model as NSString, s.layers, params / 1e6, batch))
        var state: UInt64 = 1  // a linear congruential generator: the values only need to be varied
        func random(_ rows: Int, _ cols: Int) -> Tensor {
            Tensor(shape: [rows, cols]) { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 24) - 0.5
            }
        }
        // One block's weights (reused for every block: a decoding step reads each block's own
        // weights, so the per-step bytes are counted × layers and the caches see one block).
        let dense = [random(s.q, s.hidden), random(s.kv, s.hidden), random(s.kv, s.hidden), random(s.hidden, s.q),
                     random(s.ffn, s.hidden), random(s.ffn, s.hidden), random(s.hidden, s.ffn)]
        let xh = random(batch, s.hidden), xq = random(batch, s.q), xf = random(batch, s.ffn)
        let f32 = time {
            for w in [dense[0], dense[1], dense[2]] { _ = try? Tensor.matmul(xh, w, transposeB: true) }
            _ = try? Tensor.matmul(xq, dense[3], transposeB: true)
            for w in [dense[4], dense[5]] { _ = try? Tensor.matmul(xh, w, transposeB: true) }
            _ = try? Tensor.matmul(xf, dense[6], transposeB: true)
        }
        report("F32 (OpenBLAS sgemm)", perBlock: f32, bytes: params * 4, shapes: s)
        let f32mv = time {
            for w in [dense[0], dense[1], dense[2], dense[4], dense[5]] { _ = Forward.linear(xh, w) }
            _ = Forward.linear(xq, dense[3])
            _ = Forward.linear(xf, dense[6])
        }
        report(batch == 1 ? "F32 (matvec, the decoder's)" : "F32 (Forward.linear)", perBlock: f32mv, bytes: params * 4, shapes: s)
        for bits in [8, 4, 3, 2] {
            for dim in QuantDim.allCases {
                let spec = QuantSpec(bits: bits, group: 128, dim: dim)
                let packed = try dense.map { PackedMatrix(PackedLayer(try quantizeRTN($0, spec))) }
                let bytes = Double(packed.reduce(0) { $0 + $1.storedBytes }) * Double(s.layers)
                for act in PackedActivations.allCases {
                    let t = time {
                        _ = try? PackedMatrix.multiply(Array(packed[0...2]), xh, activations: act)
                        _ = try? packed[3].multiply(xq, activations: act)
                        _ = try? PackedMatrix.multiply(Array(packed[4...5]), xh, activations: act)
                        _ = try? packed[6].multiply(xf, activations: act)
                    }
                    report("packed w\(bits) g128 \(dim.rawValue) \(act.rawValue)", perBlock: t, bytes: bytes, shapes: s)
                }
            }
        }
        let head = random(s.vocab, s.hidden)
        let th = time { _ = try? Tensor.matmul(xh, head, transposeB: true) }
        print(String(format: "head [%d, %d] F32: %.3f ms per step (%.1f GB/s)", s.vocab, s.hidden, th * 1e3,
                     Double(s.vocab * s.hidden * 4) / th / 1e9))
        let thv = time { _ = Forward.linear(xh, head) }
        print(String(format: "head [%d, %d] F32 via Forward.linear: %.3f ms per step (%.1f GB/s)", s.vocab, s.hidden, thv * 1e3,
                     Double(s.vocab * s.hidden * 4) / thv / 1e9))
        bandwidth()
        // The head as the decoder runs a Q8_0 one: 8-bit codes in per-OC groups of 32.
        let head8 = PackedMatrix(PackedLayer(try quantizeRTN(head, QuantSpec(bits: 8, group: 32, dim: .oc))))
        for act in PackedActivations.allCases {
            let t = time { _ = try? head8.multiply(xh, activations: act) }
            print(String(format: "head [%d, %d] packed w8 g32 %@: %.3f ms per step (%.1f GB/s)", s.vocab, s.hidden,
                         act.rawValue as NSString, t * 1e3, Double(head8.storedBytes) / t / 1e9))
        }
    }

    /// The memory read bandwidth the Float32 products reach: a 1 GiB matrix (far beyond the
    /// caches) times one vector, with the pool's matvec and with OpenBLAS's sgemv.
    func bandwidth() {
        let rows = 1 << 18, cols = 1024
        let w = Tensor(shape: [rows, cols]) { Float($0 & 1023) * 1e-3 }
        let x = [Float](repeating: 1, count: cols)
        var y = [Float](repeating: 0, count: rows)
        let bytes = Double(rows * cols * 4)
        func run(_ blas: Bool) -> Double {
            time {
                w.data.withUnsafeBufferPointer { pw in
                    x.withUnsafeBufferPointer { px in
                        y.withUnsafeMutableBufferPointer { py in
                            if blas {
                                sgemv(trans: false, m: rows, n: cols, alpha: 1, a: pw.baseAddress!, lda: cols,
                                      x: px.baseAddress!, beta: 0, y: py.baseAddress!)
                            } else {
                                matvec(rows: rows, cols: cols, w: pw.baseAddress!, x: px.baseAddress!, y: py.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        let mv = run(false), sv = run(true)
        print(String(format: "memory read bandwidth, 1 GiB F32 matrix × vector: matvec %.1f GB/s, OpenBLAS sgemv %.1f GB/s (%d threads)",
                     bytes / mv / 1e9, bytes / sv / 1e9, PackedMatrix.threads))
    }

    /// Seconds per call of `body`, the median of repeated runs over `seconds`.
    func time(_ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        let end = Date().addingTimeInterval(seconds)
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<10 { body() }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e10)
        } while Date() < end
        return samples.sorted()[samples.count / 2]
    }

    func report(_ name: String, perBlock: Double, bytes: Double, shapes s: Shapes) {
        let step = perBlock * Double(s.layers)
        print(String(format: "  %-24@ %7.3f ms per step, %7.1f steps/s (linear layers only), %5.1f MB read, %6.1f GB/s",
                     name as NSString, step * 1e3, Double(batch) / step, bytes / 1e6, bytes / step / 1e9))
    }
}
