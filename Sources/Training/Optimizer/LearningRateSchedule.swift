import Foundation

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then cosine or linear decay to `minimum` at
/// `totalSteps`. Steps count from 0: step s of warm-up uses peak·(s + 1)/warmupSteps.
public struct LearningRateSchedule: Sendable {
    public enum Decay: String, Sendable { case cosine, linear }
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay
    public var minimum: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, decay: Decay = .cosine, minimum: Double = 0) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
        self.decay = decay; self.minimum = minimum
    }

    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        switch decay {
        case .cosine: return minimum + (peak - minimum) * 0.5 * (1 + cos(Double.pi * progress))
        case .linear: return minimum + (peak - minimum) * (1 - progress)
        }
    }
}
