import AdaTensor

/// Round-to-nearest quantization of a weight matrix `[out, in]` in either dimension.
public func quantizeRTN(_ w: Tensor, _ spec: QuantSpec) throws -> QuantizedTensor {
    guard w.rank == 2 else { throw QuantError("weights must be 2-D [out, in], got \(w.shape)", origin: .tensor) }
    let (rows, cols) = (w.shape[0], w.shape[1])
    let g = try spec.validate(rows: rows, cols: cols)
    let maxq = spec.maxq
    let along = spec.dim == .oc ? cols : rows
    let nGroups = (along + g - 1) / g
    let pshape = spec.dim == .oc ? [rows, nGroups] : [nGroups, cols]
    var scales = Tensor(zeros: pshape), zeros = Tensor(zeros: pshape)
    var codes = [UInt8](repeating: 0, count: rows * cols)
    var deq = [Float](repeating: 0, count: rows * cols)
    w.data.withUnsafeBufferPointer { p in
        if spec.dim == .oc {
            for r in 0..<rows {
                for gi in 0..<nGroups {
                    let lo = r * cols + gi * g, hi = r * cols + Swift.min((gi + 1) * g, cols)
                    let gp = GroupParams.fit(UnsafeBufferPointer(rebasing: p[lo..<hi]), bits: spec.bits, grid: spec.grid)
                    scales.data[r * nGroups + gi] = gp.scale
                    zeros.data[r * nGroups + gi] = gp.zero
                    for i in lo..<hi {
                        let q = gp.code(p[i], maxq: maxq)
                        codes[i] = UInt8(q)
                        deq[i] = gp.dequant(q)
                    }
                }
            }
        } else {
            // per-IC: groups run down columns; process row-blocks so memory access stays row-major.
            var mn = [Float](repeating: 0, count: cols), mx = [Float](repeating: 0, count: cols)
            for gi in 0..<nGroups {
                let r0 = gi * g, r1 = Swift.min((gi + 1) * g, rows)
                for c in 0..<cols { mn[c] = .infinity; mx[c] = -.infinity }
                for r in r0..<r1 {
                    for c in 0..<cols { let v = p[r * cols + c]; mn[c] = Swift.min(mn[c], v); mx[c] = Swift.max(mx[c], v) }
                }
                var params = [GroupParams]()
                params.reserveCapacity(cols)
                for c in 0..<cols {
                    let gp = GroupParams.fit(min: mn[c], max: mx[c], bits: spec.bits, grid: spec.grid)
                    params.append(gp)
                    scales.data[gi * cols + c] = gp.scale
                    zeros.data[gi * cols + c] = gp.zero
                }
                for r in r0..<r1 {
                    for c in 0..<cols {
                        let q = params[c].code(p[r * cols + c], maxq: maxq)
                        codes[r * cols + c] = UInt8(q)
                        deq[r * cols + c] = params[c].dequant(q)
                    }
                }
            }
        }
    }
    return QuantizedTensor(spec: spec, groupSize: g, codes: codes, scales: scales, zeros: zeros,
                           dequantized: Tensor(shape: [rows, cols], data: deq), ragged: along % g != 0)
}
