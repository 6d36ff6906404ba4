import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// Padding a batch further (BLIP's padding='max_length' against padding to the longest text, the
/// training stages' default) changes neither the losses nor any gradient beyond float rounding:
/// padding keys are masked out of attention and padding positions carry no loss.
final class PaddingInvarianceTests: XCTestCase {
    /// The fixture batch with `extra` more padding positions at the end of every text.
    func padded(_ batch: PretrainingBatch, extra: Int) -> PretrainingBatch {
        let b = batch.size, t = batch.ids.count / b
        var ids: [Int] = [], mask: [Float] = []
        for row in 0..<b {
            ids += batch.ids[(row * t)..<((row + 1) * t)] + Array(repeating: BertTokenizer.padID, count: extra)
            mask += batch.attentionMask[(row * t)..<((row + 1) * t)] + Array(repeating: 0, count: extra)
        }
        return PretrainingBatch(pixels: batch.pixels, ids: ids, attentionMask: mask)
    }

    func testExtraPaddingGivesTheSameLossesAndGradients() throws {
        let batch = PretrainingFixture.batch
        let short = try PretrainingFixture.model(), long = try PretrainingFixture.model()
        let a = short.forwardBackward(batch, alpha: PretrainingFixture.alpha, negatives: PretrainingFixture.negatives)
        let b = long.forwardBackward(padded(batch, extra: 7), alpha: PretrainingFixture.alpha, negatives: PretrainingFixture.negatives)
        XCTAssertEqual(a.itc, b.itc, accuracy: 1e-5 * abs(a.itc))
        XCTAssertEqual(a.itm, b.itm, accuracy: 1e-5 * abs(a.itm))
        XCTAssertEqual(a.lm, b.lm, accuracy: 1e-5 * abs(a.lm))
        var worst = 0.0, compared = 0
        for (p, q) in zip(short.parameters, long.parameters) {
            XCTAssertEqual(p.name, q.name)
            let g = p.grad.toArray(), h = q.grad.toArray()
            let scale = Double(g.map { abs($0) }.max() ?? 0)
            guard scale > 0 else { continue }
            let difference = Double(zip(g, h).map { abs($0 - $1) }.max() ?? 0) / scale
            XCTAssertLessThan(difference, 1e-4, p.name)
            worst = max(worst, difference); compared += 1
        }
        XCTAssertGreaterThan(compared, 50)
        print("padding: losses \(a.total) and \(b.total); worst relative gradient difference \(worst) over \(compared) tensors")
    }
}
