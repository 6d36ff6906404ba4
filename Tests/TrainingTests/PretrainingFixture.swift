import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// The pre-training fixture written by scripts/make_training_fixtures.py.
enum PretrainingFixture {
    static var folder: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/pretrain") }
    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    nonisolated(unsafe) static let json: [String: Any] =
        try! JSONSerialization.jsonObject(with: Data(contentsOf: url("fixture.json"))) as! [String: Any]
    static let state = try! SafeTensorsFile(url: url("state.safetensors"))
    static let inputs = try! SafeTensorsFile(url: url("inputs.safetensors"))

    static func gradients(_ term: String) -> SafeTensorsFile {
        try! SafeTensorsFile(url: url("gradients_\(term).safetensors"))
    }

    /// A model in the fixture's initial state (parameters, momentum copies, queues).
    static func model() throws -> BlipPretrainingModel {
        let config = try BlipConfig(contentsOf: url("config.json"))
        var settings = PretrainingConfig(queueSize: json["queue_size"] as! Int)
        settings.momentum = Float(json["momentum"] as! Double)
        settings.labelSmoothing = Float(json["label_smoothing"] as! Double)
        settings.encTokenID = json["enc_token_id"] as! Int
        settings.decTokenID = json["dec_token_id"] as! Int
        settings.padTokenID = json["pad_token_id"] as! Int
        let model = BlipPretrainingModel(config: config, settings: settings, tiedLMHead: true)
        // state.safetensors is a training state without optimizer moments.
        try model.loadTrainingState(from: url("state.safetensors"), optimizer: nil)
        return model
    }

    static var batch: PretrainingBatch {
        let ids = (json["ids"] as! [[Int]]).flatMap { $0 }
        let mask = (json["attention_mask"] as! [[Int]]).flatMap { $0 }.map(Float.init)
        let pixels = Tensor(shape: inputs.shape(of: "pixel_values")!, values: try! inputs.floats("pixel_values"))
        return PretrainingBatch(pixels: pixels, ids: ids, attentionMask: mask)
    }

    static var alpha: Float { Float(json["alpha"] as! Double) }
    static var negatives: NegativeSource {
        .fixed(imageForText: json["negative_image_for_text"] as! [Int], textForImage: json["negative_text_for_image"] as! [Int])
    }

    static func losses(_ key: String) -> [String: Double] {
        (json["losses"] as! [String: Any])[key] as! [String: Double]
    }
}
