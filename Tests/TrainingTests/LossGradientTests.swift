import XCTest
@testable import Training

/// Finite-difference checks of the cross-entropy kernels (values and logit gradients).
final class LossGradientTests: XCTestCase {
    func testSoftTargetCrossEntropy() {
        var rng = TestRandom(31)
        let n = 3, c = 5
        let logits = rng.array(n * c, scale: 3)
        var targets = rng.array(n * c).map { abs($0) }
        for r in 0..<n {   // rows sum to 1, as ITC's soft targets do
            let s = targets[(r * c)..<((r + 1) * c)].reduce(0, +)
            for j in 0..<c { targets[r * c + j] /= s }
        }
        var loss = 0.0
        let got = withBuffers([logits, targets, [Float](repeating: 0, count: n * c)]) { p in
            loss = softTargetCrossEntropy(logits: p[0], targets: p[1], rows: n, classes: c, dlogits: p[2])
        }
        func ref(_ z: [Double]) -> Double {
            var l = 0.0
            for r in 0..<n {
                let ls = Reference.logSoftmax(Array(z[(r * c)..<((r + 1) * c)]))
                for j in 0..<c { l -= Double(targets[r * c + j]) * ls[j] }
            }
            return l / Double(n)
        }
        XCTAssertEqual(loss, ref(logits.doubles), accuracy: 1e-6)
        GradientCheck.assertClose(got[2], GradientCheck.numerical(logits.doubles, ref), "soft-target cross-entropy dlogits")
    }

    func testLabelSmoothedCrossEntropy() {
        var rng = TestRandom(32)
        let v = 7, eps: Float = 0.1
        let labels = [3, -100, 0, 6]
        let logits = rng.array(labels.count * v, scale: 3)
        var loss = 0.0
        let got = withBuffers([logits, [Float](repeating: 0, count: logits.count)]) { p in
            loss = labelSmoothedCrossEntropy(logits: p[0], labels: labels, vocabulary: v, smoothing: eps, dlogits: p[1])
        }
        func ref(_ z: [Double]) -> Double {
            var l = 0.0, valid = 0.0
            for (r, y) in labels.enumerated() where y != -100 {
                let ls = Reference.logSoftmax(Array(z[(r * v)..<((r + 1) * v)]))
                l += (1 - Double(eps)) * -ls[y] + Double(eps) * -ls.reduce(0, +) / Double(v)
                valid += 1
            }
            return l / valid
        }
        XCTAssertEqual(loss, ref(logits.doubles), accuracy: 1e-6)
        GradientCheck.assertClose(got[1], GradientCheck.numerical(logits.doubles, ref), "label-smoothed cross-entropy dlogits")
    }
}
