import XCTest
import MED
import Tensor
@testable import Training

/// Five AdamW steps of ITC + ITM + LM against PyTorch (warm-up 2 steps, cosine to 0 at step 5,
/// weight decay 0.05 on weights and embeddings only): the losses of every step within 1e-4.
/// This exercises what one step does not: the momentum update, the queue, and the optimizer.
final class AdamWParityTests: XCTestCase {
    func testFiveStepLosses() throws {
        let model = try PretrainingFixture.model()
        let adam = PretrainingFixture.json["adamw"] as! [String: Any]
        let expected = adam["losses"] as! [[String: Double]]
        let optimizer = AdamW(parameters: model.parameters, weightDecay: Float(adam["weight_decay"] as! Double))
        let schedule = LearningRateSchedule(peak: adam["lr"] as! Double, warmupSteps: adam["warmup_steps"] as! Int,
                                            totalSteps: adam["steps"] as! Int, decay: .cosine)
        let batch = PretrainingFixture.batch
        var worst = 0.0
        for (step, reference) in expected.enumerated() {
            model.zeroGradients()
            let l = model.forwardBackward(batch, alpha: PretrainingFixture.alpha, negatives: PretrainingFixture.negatives)
            for (name, value) in [("itc", l.itc), ("itm", l.itm), ("lm", l.lm)] {
                let e = reference[name]!
                let error = abs(value - e) / max(1, abs(e))
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, 1e-4, "step \(step + 1) \(name): \(value) vs PyTorch \(e)")
            }
            print("adamw step \(step + 1): itc \(l.itc) itm \(l.itm) lm \(l.lm)  (PyTorch \(reference))")
            optimizer.update(learningRate: schedule.learningRate(at: step))
        }
        print("adamw parity: worst loss error \(worst) over \(expected.count) steps")
    }

    func testScheduleShapes() {
        let cosine = LearningRateSchedule(peak: 1, warmupSteps: 2, totalSteps: 6, decay: .cosine)
        XCTAssertEqual([0, 1, 2, 4, 6].map(cosine.learningRate(at:)), [0.5, 1, 1, 0.5, 0], accuracy: 1e-12)
        let linear = LearningRateSchedule(peak: 2, warmupSteps: 0, totalSteps: 4, decay: .linear)
        XCTAssertEqual([0, 2, 4, 9].map(linear.learningRate(at:)), [2, 1, 0, 0], accuracy: 1e-12)
    }
}

func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
