import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// Captioner fine-tuning against transformers' BlipForConditionalGeneration: the folder written by
/// save_pretrained loads directly; the LM loss (label smoothing 0.1, prompt and padding ignored)
/// and every parameter's gradient match within 1e-4 relative.
final class CaptionerParityTests: XCTestCase {
    let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/captioner")
    var json: [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("fixture.json"))) as! [String: Any]
    }
    var batch: PretrainingBatch {
        let inputs = try! SafeTensorsFile(url: folder.appendingPathComponent("inputs.safetensors"))
        return PretrainingBatch(
            pixels: Tensor(shape: inputs.shape(of: "pixel_values")!, values: try! inputs.floats("pixel_values")),
            ids: (json["ids"] as! [[Int]]).flatMap { $0 },
            attentionMask: (json["attention_mask"] as! [[Int]]).flatMap { $0 }.map(Float.init))
    }

    func testCaptionerGradients() throws {
        let json = self.json, batch = self.batch
        let model = try BlipCaptionerTrainingModel(folder: folder, labelSmoothing: Float(json["label_smoothing"] as! Double))
        XCTAssertNil(model.lmHead.decoder, "save_pretrained omits the tied decoder weight")
        model.zeroGradients()
        let loss = model.forwardBackward(batch, promptLength: json["prompt_length"] as! Int)
        let expected = json["loss"] as! Double
        XCTAssertEqual(loss, expected, accuracy: 1e-4 * max(1, abs(expected)))
        let worst = assertGradientsMatch(model.parameters, try SafeTensorsFile(url: folder.appendingPathComponent("gradients.safetensors")),
                                         label: "captioner")
        print("parity captioner: loss \(loss) (PyTorch \(expected)); \(worst.count) tensors, worst relative error \(worst.error) (\(worst.name))")
    }

    /// An untied LM decoder weight (a checkpoint that stores its own) starting equal to the word
    /// embeddings: its gradient plus the embeddings' equals the tied embeddings' gradient.
    func testUntiedHeadSplitsTheTiedGradient() throws {
        let tied = try BlipCaptionerTrainingModel(folder: folder)
        let untied = BlipCaptionerTrainingModel(config: tied.config, tiedLMHead: false)
        for (a, b) in zip(untied.parameters.filter { $0 !== untied.lmHead.decoder }, tied.parameters) { a.value.copy(from: b.value) }
        let decoder = try XCTUnwrap(untied.lmHead.decoder)
        decoder.value.copy(from: tied.decoder.wordEmbeddings.value)
        let prompt = json["prompt_length"] as! Int
        tied.zeroGradients(); untied.zeroGradients()
        let l1 = tied.forwardBackward(batch, promptLength: prompt), l2 = untied.forwardBackward(batch, promptLength: prompt)
        XCTAssertEqual(l1, l2, accuracy: 1e-9)
        let sum = zip(decoder.grad.toArray(), untied.decoder.wordEmbeddings.grad.toArray()).map { $0 + $1 }
        let reference = tied.decoder.wordEmbeddings.grad.toArray()
        let scale = reference.map(abs).max()!
        let worst = zip(sum, reference).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(worst / scale, 1e-6)
    }
}
