import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// A run stopped after step k and resumed from its saved training state gives exactly the losses
/// of an uninterrupted run at steps k+1.. (parameters, momentum encoders, queues, AdamW moments and
/// step restored; ITM negatives sampled with a seed derived from the step).
final class ResumeTests: XCTestCase {
    func run(_ model: BlipPretrainingModel, _ optimizer: AdamW, steps: Range<Int>) -> [PretrainingLosses] {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 1, totalSteps: 4, decay: .linear)
        return steps.map { step in
            model.zeroGradients()
            let losses = model.forwardBackward(PretrainingFixture.batch,
                                               alpha: PretrainingConfig.rampedAlpha(step: step + 1, stepsPerEpoch: 2),
                                               negatives: .sampled(seed: 1000 + UInt64(step)))
            optimizer.clipGradients(maxNorm: 5)
            optimizer.update(learningRate: schedule.learningRate(at: step))
            return losses
        }
    }

    func testKillAndResume() throws {
        let straight = try PretrainingFixture.model()
        let expected = run(straight, AdamW(parameters: straight.parameters), steps: 0..<4)

        let first = try PretrainingFixture.model()
        let firstOptimizer = AdamW(parameters: first.parameters)
        _ = run(first, firstOptimizer, steps: 0..<2)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-resume-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.saveTrainingState(to: url, step: 2, optimizer: firstOptimizer)

        let resumed = BlipPretrainingModel(config: first.config, settings: first.settings)
        let optimizer = AdamW(parameters: resumed.parameters)
        let step = try resumed.loadTrainingState(from: url, optimizer: optimizer)
        XCTAssertEqual(step, 2)
        let after = run(resumed, optimizer, steps: step..<4)
        for (i, (a, b)) in zip(after, expected[2...]).enumerated() {
            XCTAssertEqual([a.itc, a.itm, a.lm], [b.itc, b.itm, b.lm], "step \(i + 3)")
        }
        print("resume: steps 3-4 losses \(after.map(\.total)) equal the uninterrupted run's \(expected[2...].map(\.total))")
    }
}
