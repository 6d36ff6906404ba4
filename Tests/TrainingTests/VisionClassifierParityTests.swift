import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// The ViT classifier (the pretrain_vision stage's model) against transformers' BlipVisionModel
/// with a linear head on the [CLS] row (scripts/make_vision_classifier_fixture.py): the loss and
/// the gradient of every tensor, and a pre-training model that takes the classifier's ViT.
final class VisionClassifierParityTests: XCTestCase {
    var folder: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/vision_classifier") }

    func fixture() throws -> (model: VisionClassifierTrainingModel, pixels: Tensor, labels: [Int], json: [String: Any]) {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("fixture.json"))) as! [String: Any]
        let config = BlipVisionConfig(hiddenSize: json["hidden_size"] as! Int, intermediateSize: json["intermediate_size"] as! Int,
                                      numHiddenLayers: json["num_hidden_layers"] as! Int, numAttentionHeads: json["num_attention_heads"] as! Int,
                                      imageSize: json["image_size"] as! Int, patchSize: json["patch_size"] as! Int)
        let classes = (0..<(json["classes"] as! Int)).map { "class \($0)" }
        let model = VisionClassifierTrainingModel(config: config, classes: classes)
        try loadParameters(model.parameters, from: SafeTensorsFile(url: folder.appendingPathComponent("state.safetensors")))
        let inputs = try SafeTensorsFile(url: folder.appendingPathComponent("inputs.safetensors"))
        let pixels = Tensor(shape: inputs.shape(of: "pixel_values")!, values: try inputs.floats("pixel_values"))
        return (model, pixels, json["labels"] as! [Int], json)
    }

    func testLossAndEveryGradientMatchTransformers() throws {
        let (model, pixels, labels, json) = try fixture()
        model.zeroGradients()
        let (loss, correct) = model.forwardBackward(pixels: pixels, labels: labels)
        XCTAssertEqual(loss, json["loss"] as! Double, accuracy: 1e-5)
        XCTAssertEqual(correct, json["correct"] as! Int)
        let reference = try SafeTensorsFile(url: folder.appendingPathComponent("gradients.safetensors"))
        let worst = assertGradientsMatch(model.parameters, reference, label: "vision classifier")
        print("vision classifier: loss \(loss), worst relative gradient difference \(worst.error) (\(worst.name)) over \(worst.count) tensors")
    }

    func testPretrainingModelTakesTheClassifiersViT() throws {
        let (classifier, _, _, _) = try fixture()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-vit-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensorsWriter.write(classifier.tensors(), to: url)
        let vision = classifier.config
        let text = BlipTextConfig(vocabSize: 64, hiddenSize: 16, encoderHiddenSize: vision.hiddenSize, intermediateSize: 64,
                                  numHiddenLayers: 1, numAttentionHeads: 2)
        let model = BlipPretrainingModel(config: BlipConfig(vision: vision, text: text, imageTextHiddenSize: 8),
                                         settings: PretrainingConfig(queueSize: 4))
        model.initializeRandomly(seed: 1)
        let textBefore = model.text.wordEmbeddings.value.toArray()
        try model.loadVision(from: SafeTensorsFile(url: url))
        for (p, q) in zip(model.vision.parameters, classifier.vision.parameters) {
            XCTAssertEqual(p.value.toArray(), q.value.toArray(), p.name)
        }
        XCTAssertEqual(model.text.wordEmbeddings.value.toArray(), textBefore, "the text side keeps its initialisation")
    }
}
