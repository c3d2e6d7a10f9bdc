import AdaTensor

/// Round-to-nearest quantization of a weight matrix `[out, in]` in either dimension.
/// Weights holding NaN or ±∞ are refused (`QuantError` with origin `.tensor`, naming `name`).
/// `importance` (one non-negative value per input column, e.g. the input Hessian's diagonal)
/// weights the errors of `clip=weighted`; that search needs it.
public func quantizeRTN(_ w: Tensor, _ spec: QuantSpec, importance: [Float]? = nil,
                        name: String = "the weight") throws -> QuantizedTensor {
    guard w.rank == 2 else { throw QuantError("weights must be 2-D [out, in], got \(w.shape)", origin: .tensor) }
    let (rows, cols) = (w.shape[0], w.shape[1])
    let g = try spec.validate(rows: rows, cols: cols)
    try requireFiniteWeights(w, name)
    let imp = try checkedImportance(importance, spec: spec, cols: cols)
    let along = spec.dim == .oc ? cols : rows
    let nGroups = (along + g - 1) / g
    let pshape = spec.dim == .oc ? [rows, nGroups] : [nGroups, cols]
    var out = RTNOutput(scales: Tensor(zeros: pshape), zeros: Tensor(zeros: pshape),
                        codes: [UInt8](repeating: 0, count: rows * cols), deq: [Float](repeating: 0, count: rows * cols))
    w.data.withUnsafeBufferPointer { p in
        if spec.dim == .oc {
            rtnPerOC(p, rows: rows, cols: cols, groupSize: g, nGroups: nGroups, spec: spec, importance: imp, into: &out)
        } else {
            rtnPerIC(p, rows: rows, cols: cols, groupSize: g, nGroups: nGroups, spec: spec, importance: imp, into: &out)
        }
    }
    let q = QuantizedTensor(spec: spec, groupSize: g, codes: out.codes, scales: out.scales, zeros: out.zeros,
                            dequantized: Tensor(shape: [rows, cols], data: out.deq), ragged: along % g != 0)
    try requireFiniteResult(q, name)
    return q
}

/// What RTN fills in: per-group parameters, codes and dequantized values.
struct RTNOutput {
    var scales: Tensor, zeros: Tensor
    var codes: [UInt8]
    var deq: [Float]
}

/// The error weights of a clip search: needed (and checked: one finite non-negative value per
/// input column) for `clip=weighted`, ignored otherwise.
func checkedImportance(_ importance: [Float]?, spec: QuantSpec, cols: Int) throws -> [Float]? {
    guard spec.clip.mode == .weighted else { return nil }
    guard let imp = importance else {
        throw QuantError("clip=weighted needs the input's second moment per input column (calibration data)", origin: .calibration)
    }
    guard imp.count == cols else {
        throw QuantError("clip=weighted needs one weight per input column (\(cols)), got \(imp.count)", origin: .calibration)
    }
    guard imp.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
        throw QuantError("clip=weighted needs finite, non-negative input weights", origin: .calibration)
    }
    return imp
}

/// per-OC RTN: groups of `g` consecutive input columns of each row.
func rtnPerOC(_ p: UnsafeBufferPointer<Float>, rows: Int, cols: Int, groupSize g: Int, nGroups: Int, spec: QuantSpec,
              importance: [Float]?, into out: inout RTNOutput) {
    let maxq = spec.maxq
    let imp = importance ?? []
    for r in 0..<rows {
        for gi in 0..<nGroups {
            let lo = r * cols + gi * g, hi = r * cols + Swift.min((gi + 1) * g, cols)
            let gp = imp.withUnsafeBufferPointer { pi in
                spec.clip.fit(UnsafeBufferPointer(rebasing: p[lo..<hi]),
                              weights: importance == nil ? nil : UnsafeBufferPointer(rebasing: pi[(lo - r * cols)..<(hi - r * cols)]),
                              bits: spec.bits, grid: spec.grid)
            }
            out.scales.data[r * nGroups + gi] = gp.scale
            out.zeros.data[r * nGroups + gi] = gp.zero
            for i in lo..<hi {
                let q = gp.code(p[i], maxq: maxq)
                out.codes[i] = codeByte(q)
                out.deq[i] = gp.dequant(q)
            }
        }
    }
}

/// per-IC RTN: groups run down columns; row-blocks of `g` rows are processed so memory access
/// stays row-major. With a clip search each group is gathered and searched; every element of
/// a per-IC group reads the same input channel, so its weight is that channel's.
func rtnPerIC(_ p: UnsafeBufferPointer<Float>, rows: Int, cols: Int, groupSize g: Int, nGroups: Int, spec: QuantSpec,
              importance: [Float]?, into out: inout RTNOutput) {
    let maxq = spec.maxq
    if spec.clip.isOn {
        var buf = [Float](repeating: 0, count: g), wbuf = [Float](repeating: 1, count: g)
        for gi in 0..<nGroups {
            let r0 = gi * g, r1 = Swift.min((gi + 1) * g, rows)
            for c in 0..<cols {
                for r in r0..<r1 { buf[r - r0] = p[r * cols + c] }
                if let imp = importance { for i in 0..<(r1 - r0) { wbuf[i] = imp[c] } }
                let gp = buf.withUnsafeBufferPointer { pb in
                    wbuf.withUnsafeBufferPointer { pw in
                        spec.clip.fit(UnsafeBufferPointer(rebasing: pb[0..<(r1 - r0)]),
                                      weights: importance == nil ? nil : UnsafeBufferPointer(rebasing: pw[0..<(r1 - r0)]),
                                      bits: spec.bits, grid: spec.grid)
                    }
                }
                out.scales.data[gi * cols + c] = gp.scale
                out.zeros.data[gi * cols + c] = gp.zero
                for r in r0..<r1 {
                    let q = gp.code(p[r * cols + c], maxq: maxq)
                    out.codes[r * cols + c] = codeByte(q)
                    out.deq[r * cols + c] = gp.dequant(q)
                }
            }
        }
        return
    }
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
            out.scales.data[gi * cols + c] = gp.scale
            out.zeros.data[gi * cols + c] = gp.zero
        }
        for r in r0..<r1 {
            for c in 0..<cols {
                let q = params[c].code(p[r * cols + c], maxq: maxq)
                out.codes[r * cols + c] = codeByte(q)
                out.deq[r * cols + c] = params[c].dequant(q)
            }
        }
    }
}
