import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// The training passes against the inference engine: the pre-training model is saved as Hugging
/// Face retrieval and captioning folders, loaded by MED, and each training-mode forward (ViT, text
/// encoder, image-grounded encoder, decoder, LM logits) must equal the engine's. Then the folders
/// load back into a fresh training model unchanged.
final class HuggingFaceFolderTests: XCTestCase {
    func maxDifference(_ a: Tensor, _ b: Tensor, rows: Int? = nil) -> Float {
        let n = rows ?? a.count
        XCTAssertGreaterThanOrEqual(b.count, n)
        var worst: Float = 0
        for i in 0..<n { worst = max(worst, abs(a[flat: i] - b[flat: i])) }
        return worst
    }

    func testTrainingForwardEqualsEngineAndFoldersRoundTrip() throws {
        let model = try PretrainingFixture.model()
        let batch = PretrainingFixture.batch
        _ = model.forwardBackward(batch, alpha: PretrainingFixture.alpha, negatives: PretrainingFixture.negatives,
                                  weights: LossWeights(itc: 0, itm: 0, lm: 0))
        let w = model.work
        // CAPFILT_TRAINING_EXPORT=DIR keeps the folders there (to load them in transformers by hand).
        let kept = ProcessInfo.processInfo.environment["CAPFILT_TRAINING_EXPORT"].map { URL(fileURLWithPath: $0) }
        let folder = kept ?? FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-training-\(UUID().uuidString)")
        defer { if kept == nil { try? FileManager.default.removeItem(at: folder) } }
        let retrievalFolder = folder.appendingPathComponent("itm"), captionerFolder = folder.appendingPathComponent("caption")
        try model.save(retrievalFolder: retrievalFolder, captionerFolder: captionerFolder)

        let retrieval = try BlipRetrievalModel(folder: retrievalFolder)
        let captioner = try BlipCaptioningModel(folder: captionerFolder)
        let b = batch.size, t = batch.ids.count / b
        let images = retrieval.encodeImages(batch.pixels)
        var errors: [(String, Float)] = []
        errors.append(("vision", maxDifference(images, w.vision.output)))
        errors.append(("captioner vision", maxDifference(captioner.encodeImages(batch.pixels), w.vision.output)))
        let textHidden = retrieval.textHidden(ids: batch.ids, sequences: b, keyValid: batch.attentionMask)
        errors.append(("text encoder", maxDifference(textHidden, w.textPass.output)))
        var encIDs = batch.ids
        for s in 0..<b { encIDs[s * t] = model.settings.encTokenID }
        let grounded = retrieval.groundedHidden(ids: encIDs, sequences: b, keyValid: batch.attentionMask, imageStates: images)
        errors.append(("image-grounded encoder", maxDifference(grounded, w.groundedPass.output, rows: b * t * model.text.width)))
        var decIDs = batch.ids
        for s in 0..<b { decIDs[s * t] = model.settings.decTokenID }
        let decoded = captioner.decoderHidden(ids: decIDs, sequences: b, keyValid: batch.attentionMask, imageStates: images)
        errors.append(("decoder", maxDifference(decoded, w.decoderPass.output)))
        // The training head computes logits only for the rows that have a label (w.lm.kept), and
        // its loss overwrites them with their gradient: run its forward again on those rows.
        let head = LanguageModelHeadActivations()
        model.lmHead.forward(hidden: w.lm.gathered, rows: w.lm.kept.count, tiedWeight: model.text.wordEmbeddings, head)
        let engineLogits = captioner.lmHead.logits(decoded), v = head.logits.dim(1)
        let keptLogits = Tensor(shape: [w.lm.kept.count, v])
        for (i, r) in w.lm.kept.enumerated() { (keptLogits.data + i * v).update(from: engineLogits.data + r * v, count: v) }
        errors.append(("LM logits", maxDifference(keptLogits, head.logits)))
        for (name, error) in errors {
            XCTAssertLessThanOrEqual(error, 2e-5, "\(name): max abs diff \(error)")
            print("engine vs training forward, \(name): max abs diff \(error)")
        }

        let reloaded = BlipPretrainingModel(config: model.config, settings: model.settings)
        try reloaded.loadPretrained(retrieval: SafeTensorsFile(url: retrievalFolder.appendingPathComponent("model.safetensors")),
                                    captioner: SafeTensorsFile(url: captionerFolder.appendingPathComponent("model.safetensors")))
        for (a, c) in zip(model.parameters, reloaded.parameters) where a !== model.temperature {
            XCTAssertEqual(a.value.toArray(), c.value.toArray(), "\(a.name) after save and load")
        }
        for (m, p) in zip(reloaded.momentumParameters, reloaded.momentumSources) {
            XCTAssertEqual(m.value.toArray(), p.value.toArray(), "\(m.name) starts as a copy")
        }
    }
}
