import XCTest
import Tensor
@testable import Training

/// ITM's hard negatives drawn from the ITC similarities: never the own pair, reproducible for a
/// seed, and distributed as softmax(sim[:, :B]) + 1e-4 with the diagonal zeroed (BLIP's weights).
final class HardNegativeTests: XCTestCase {
    func testSampledNegatives() throws {
        let model = try PretrainingFixture.model()
        let batch = PretrainingFixture.batch
        _ = model.forwardBackward(batch, alpha: PretrainingFixture.alpha, negatives: .sampled(seed: 1),
                                  weights: LossWeights(itc: 0, itm: 0, lm: 0))
        let b = batch.size, n = b + model.settings.queueSize
        XCTAssertEqual(model.chooseNegatives(.sampled(seed: 42), batch: b, columns: n).imageForText,
                       model.chooseNegatives(.sampled(seed: 42), batch: b, columns: n).imageForText)
        let draws = 4000
        var counts = [[Int]](repeating: [Int](repeating: 0, count: b), count: b)
        for seed in 0..<draws {
            let chosen = model.chooseNegatives(.sampled(seed: UInt64(seed)), batch: b, columns: n)
            for i in 0..<b {
                XCTAssertNotEqual(chosen.imageForText[i], i)
                XCTAssertNotEqual(chosen.textForImage[i], i)
                counts[i][chosen.imageForText[i]] += 1
            }
        }
        // Expected frequencies from sim_t2i's first B columns.
        let sim = model.work.simT2I
        for i in 0..<b {
            let row = (0..<b).map { Double(sim[flat: i * n + $0]) }
            let mx = row.max()!
            let e = row.map { exp($0 - mx) }
            let z = e.reduce(0, +)
            var weights = e.map { $0 / z + 1e-4 }
            weights[i] = 0
            let total = weights.reduce(0, +)
            for j in 0..<b {
                XCTAssertEqual(Double(counts[i][j]) / Double(draws), weights[j] / total, accuracy: 0.03, "text \(i), image \(j)")
            }
        }
    }
}

/// Retrieval fine-tuning: negatives never share the image id of the pair.
final class RetrievalNegativeTests: XCTestCase {
    func testSameImageIDsAreNeverNegatives() throws {
        let model = try PretrainingFixture.model()
        let ids = [3, 8, 3, 4]
        _ = model.forwardBackward(PretrainingFixture.batch, alpha: PretrainingFixture.alpha, negatives: .sampled(seed: 2),
                                  weights: LossWeights(itc: 0, itm: 0, lm: 0), imageIDs: ids)
        let b = ids.count, n = b + model.settings.queueSize
        var seen = Set<Int>()
        for seed in 0..<300 {
            let chosen = model.chooseNegatives(.sampled(seed: UInt64(seed)), batch: b, columns: n, imageIDs: ids)
            for i in 0..<b {
                XCTAssertNotEqual(ids[chosen.imageForText[i]], ids[i])
                XCTAssertNotEqual(ids[chosen.textForImage[i]], ids[i])
                seen.insert(chosen.imageForText[i])
            }
        }
        XCTAssertEqual(seen, [0, 1, 2, 3])
        XCTAssertEqual(Array(model.queueIDs.prefix(b)), ids, "the ids are enqueued with their features")
    }
}
