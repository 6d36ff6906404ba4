import XCTest
import MED
import Tensor
@testable import Training

/// One pre-training step against PyTorch (llm.c's test_gpt2 check): for each loss term alone,
/// the loss values and every parameter's gradient. Error per tensor: max |Swift − PyTorch| /
/// max |PyTorch| (normwise relative); tolerance 1e-4 (see `assertGradientsMatch`).
final class PretrainingGradientParityTests: XCTestCase {
    func check(term: String, weights: LossWeights, retrieval: Bool = false) throws {
        let model = try PretrainingFixture.model()
        var imageIDs: [Int]?
        if retrieval {
            imageIDs = PretrainingFixture.json["image_ids"] as? [Int]
            model.setQueues(image: model.imageQueue.toArray(), text: model.textQueue.toArray(),
                            ids: PretrainingFixture.json["queue_ids"] as? [Int])
        }
        model.zeroGradients()
        let losses = model.forwardBackward(PretrainingFixture.batch, alpha: PretrainingFixture.alpha,
                                           negatives: PretrainingFixture.negatives, weights: weights, imageIDs: imageIDs)
        let expected = PretrainingFixture.losses(term)
        XCTAssertEqual(losses.itc, expected["itc"]!, accuracy: 1e-4 * max(1, abs(expected["itc"]!)), "ITC loss")
        XCTAssertEqual(losses.itm, expected["itm"]!, accuracy: 1e-4 * max(1, abs(expected["itm"]!)), "ITM loss")
        XCTAssertEqual(losses.lm, expected["lm"]!, accuracy: 1e-4 * max(1, abs(expected["lm"]!)), "LM loss")
        print("parity \(term) losses: itc \(losses.itc) itm \(losses.itm) lm \(losses.lm) (PyTorch \(expected))")

        let worst = assertGradientsMatch(model.parameters, PretrainingFixture.gradients(term), label: term)
        print("parity \(term) gradients: \(worst.count) tensors, worst relative error \(worst.error) (\(worst.name))")
    }

    func testITCGradients() throws { try check(term: "itc", weights: LossWeights(itc: 1, itm: 0, lm: 0)) }
    func testITMGradients() throws { try check(term: "itm", weights: LossWeights(itc: 0, itm: 1, lm: 0)) }
    func testLMGradients() throws { try check(term: "lm", weights: LossWeights(itc: 0, itm: 0, lm: 1)) }
    /// Retrieval fine-tuning (the filter): ITC with image-id positives over the batch and the queue, plus ITM.
    func testRetrievalGradients() throws {
        try check(term: "retrieval", weights: LossWeights(itc: 1, itm: 1, lm: 0), retrieval: true)
    }
}

/// Compares every parameter's gradient with the reference file, tensor by tensor under its Hugging
/// Face name: max |Swift − PyTorch| / max |PyTorch| <= 1e-4. Key biases are the exception: softmax
/// does not change when a row of scores shifts by a constant, so their exact gradient is 0 and both
/// sides hold rounding noise (~1e-8); they are checked to be below 1e-6 in absolute value instead.
/// Both sides must name the same tensors. Returns the worst relative error.
func assertGradientsMatch(_ parameters: [Parameter], _ file: SafeTensorsFile, label: String,
                          line: UInt = #line) -> (name: String, error: Double, count: Int) {
    var seen = Set<String>()
    var worst = (name: "", error: 0.0)
    for p in parameters {
        for (name, values) in namedValues(p, gradient: true) {
            seen.insert(name)
            guard let reference = try? file.floats(name) else { XCTFail("\(label): no reference gradient \(name)", line: line); continue }
            XCTAssertEqual(values.count, reference.count, name, line: line)
            let scale = Double(reference.map(abs).max() ?? 0)
            if name.hasSuffix("key.bias") {
                let largest = Double(values.map(abs).max() ?? 0)
                XCTAssertLessThan(max(largest, scale), 1e-6, "\(label): \(name) should be zero up to rounding", line: line)
                continue
            }
            var diff = 0.0
            for (a, e) in zip(values, reference) { diff = max(diff, Double(abs(a - e))) }
            let error = scale == 0 ? diff : diff / scale
            XCTAssertLessThanOrEqual(error, 1e-4, "\(label): gradient of \(name): relative error \(error) (max |g| \(scale))", line: line)
            if error > worst.error { worst = (name, error) }
        }
    }
    XCTAssertEqual(seen, Set(file.names), "\(label): the same parameters on both sides", line: line)
    return (worst.name, worst.error, seen.count)
}
