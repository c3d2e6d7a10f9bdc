import AdaModel
import AdaQuant
import AdaTensor
import AdaTestSupport
import Foundation
import Testing

@Suite("Outlier and sensitivity statistics")
struct StatsTests {
    @Test func channelStatsByHand() {
        var acc = ChannelStatsAccumulator(channels: 2)
        acc.add(Tensor(shape: [2, 2], data: [1, 2, -1, -2]))
        acc.add(Tensor(shape: [2, 2], data: [1, 2, -1, 10]))
        let s = acc.stats
        #expect(s.count == 4)
        // Column 0: ±1 → max|x| 1, mean|x| 1, RMS 1, kurtosis m4/var² = 1/1 = 1.
        #expect(s.maxAbs[0] == 1 && s.meanAbs[0] == 1 && s.rms[0] == 1)
        #expect(abs(s.kurtosis[0] - 1) < 1e-6)
        // Column 1: 2, −2, 2, 10 → max 10, mean|x| 4, RMS √28; mean 3, deviations −1, −5, −1, 7:
        // var = 76/4 = 19, m4 = 3028/4 = 757, kurtosis = 757/361.
        #expect(s.maxAbs[1] == 10 && s.meanAbs[1] == 4)
        #expect(abs(s.rms[1] - Float(28.0.squareRoot())) < 1e-5)
        #expect(abs(s.kurtosis[1] - Float(757.0 / 361.0)) < 1e-5)
        // Ratio to the median max|x| (median of [1, 10] = 5.5).
        #expect(abs(s.outlierRatio[1] - 10 / 5.5) < 1e-6)
    }

    @Test func weightRowAndColumnStats() throws {
        let w = Tensor(shape: [2, 3], data: [1, -4, 2, -3, 0, 6])
        let cols = try weightStats(w, axis: 0), rows = try weightStats(w, axis: 1)
        #expect(cols.maxAbs == [3, 4, 6])
        #expect(cols.meanAbs == [2, 2, 4])
        #expect(rows.maxAbs == [4, 6])
        #expect(rows.meanAbs == [7.0 / 3, 3])
        #expect(abs(rows.rms[1] - Float((45.0 / 3).squareRoot())) < 1e-6)
        #expect(throws: QuantError.self) { _ = try weightStats(w, axis: 2) }
        #expect(throws: QuantError.self) { _ = try weightStats(Tensor(zeros: [4]), axis: 0) }
    }

    @Test func saliencyOnADiagonalHessian() throws {
        // X with orthogonal columns: Σxxᵀ = diag(4, 16) over N = 2 tokens → H = diag(4, 16),
        // damping 1% of the mean diagonal (0.1), so [H⁻¹]ᵢᵢ = 1/(hᵢᵢ + 0.1).
        var h = Hessian(size: 2)
        h.add(Tensor(shape: [2, 2], data: [2, 0, 0, 4]))
        let w = Tensor(shape: [1, 2], data: [3, -0.5])
        let s = try gptqSaliency(w, hessian: h)
        #expect(abs(Double(s.data[0]) - 9 * 4.1) < 1e-4)
        #expect(abs(Double(s.data[1]) - 0.25 * 16.1) < 1e-4)
        #expect(throws: QuantError.self) { _ = try gptqSaliency(Tensor(zeros: [1, 3]), hessian: h) }
    }

    @Test func activationStatsMatchTheTraceAndRankOutliers() throws {
        let m = QTiny.model()
        let windows = QTiny.windows(count: 2, length: 16)
        let stats = try ActivationStats(model: m, windows: windows)
        #expect(stats.tokens == 32 && stats.byModule.count == 14)
        // Shared inputs share statistics.
        let q0 = stats.byModule[LinearID(block: 0, kind: .q)]!, v0 = stats.byModule[LinearID(block: 0, kind: .v)]!
        #expect(q0.maxAbs == v0.maxAbs)
        // Identity: block 0's down input statistics equal an accumulator fed the traces directly.
        var acc = ChannelStatsAccumulator(channels: m.config.intermediateSize)
        BlockStream(model: m, windows: windows).trace { _, tr, _ in acc.add(tr.mlpAct) }
        #expect(stats.byModule[LinearID(block: 0, kind: .down)]!.maxAbs == acc.stats.maxAbs)
        // Ranking: descending ratio, every one above the threshold, and consistent with the stats.
        let out = outlierChannels(stats, threshold: 1.5)
        #expect(!out.isEmpty)
        for (a, b) in zip(out, out.dropFirst()) { #expect(a.ratio >= b.ratio) }
        for o in out {
            #expect(o.ratio > 1.5)
            #expect(stats.byModule[o.module]!.maxAbs[o.channel] == o.maxAbs)
        }
        #expect(outlierChannels(stats, threshold: 1.5, top: 3).count == min(3, out.count))
        #expect(outlierChannels(stats, threshold: 1e9).isEmpty)
    }
}
