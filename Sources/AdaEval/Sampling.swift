import AdaTensor
import Foundation

/// How `generate` picks each next token from the logits: greedy (temperature 0, or
/// top_k = 1), or a draw from the softmax at `temperature`, restricted to the `topK` most
/// likely tokens (0: no limit) and then to the smallest set of the most likely tokens whose
/// probability reaches `topP` (1: no limit). `seed` starts the generator (SplitMix64), so a
/// sample is the same on every run and machine for the same logits.
public struct Sampling: Sendable, Equatable {
    public var temperature: Double
    public var topK: Int
    public var topP: Double
    public var seed: UInt64

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1, seed: UInt64 = 0) {
        (self.temperature, self.topK, self.topP, self.seed) = (temperature, topK, topP, seed)
    }

    public static let greedy = Sampling()

    /// Whether every pick is the argmax.
    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// Refuses a negative or non-finite temperature, a negative top-k and a top-p outside (0, 1].
    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw EvalError("temperature must be a finite number ≥ 0 (0: greedy), got \(temperature)", origin: .temperature)
        }
        guard topK >= 0 else { throw EvalError("top_k must be ≥ 0 (0: no limit), got \(topK)", origin: .topK) }
        guard topP > 0, topP <= 1 else {
            throw EvalError("top_p must be in (0, 1] (1: no limit), got \(topP)", origin: .topP)
        }
    }
}

/// Picks tokens by a `Sampling`, keeping its generator's state from pick to pick.
public struct Sampler: Sendable {
    public let sampling: Sampling
    private var rng: SplitMix64

    public init(_ sampling: Sampling) {
        self.sampling = sampling
        rng = SplitMix64(state: sampling.seed)
    }

    /// The index of the largest logit (the lowest index among equal ones).
    public static func argmax(_ logits: [Float]) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best)
    }

    /// The next token for `logits` (one entry per vocabulary id).
    public mutating func pick(_ logits: [Float]) -> Int32 {
        if sampling.isGreedy || logits.count < 2 { return Self.argmax(logits) }
        let inv = 1 / sampling.temperature
        let top = Double(logits[Int(Self.argmax(logits))])
        // Candidates in the order the draw walks them: by id when every token stays, else the
        // most likely first (ties by id), cut at top-k and then at top-p.
        var ids: [Int]
        let limited = sampling.topK > 0 && sampling.topK < logits.count
        if limited || sampling.topP < 1 {
            ids = Array(logits.indices)
            ids.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
            if limited { ids.removeSubrange(sampling.topK...) }
        } else {
            ids = Array(logits.indices)
        }
        var weights = ids.map { exp((Double(logits[$0]) - top) * inv) }
        if sampling.topP < 1 {
            let total = weights.reduce(0, +)
            var cum = 0.0, keep = weights.count
            for (i, w) in weights.enumerated() {
                cum += w
                if cum >= sampling.topP * total { keep = i + 1; break }
            }
            ids.removeSubrange(keep...)
            weights.removeSubrange(keep...)
        }
        let u = rng.uniform() * weights.reduce(0, +)
        var cum = 0.0
        for (i, w) in weights.enumerated() {
            cum += w
            if u < cum { return Int32(ids[i]) }
        }
        return Int32(ids[ids.count - 1])
    }
}
