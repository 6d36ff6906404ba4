import Foundation
import XCTest
@testable import MED

/// Loading a model folder whose weights do not fit the config fails with one line per problem,
/// each naming the file and the tensor.
final class CheckpointLoadingTests: XCTestCase {
    /// Rewrites the tiny captioner's weights as F32 with `edit` applied, returns the new file.
    func rewrittenCaptioner(_ edit: (inout [(name: String, shape: [Int], values: [Float])]) -> Void) throws -> SafeTensorsFile {
        let source = try SafeTensorsFile(url: MEDFixtures.url("captioner/model.safetensors"))
        var tensors = try source.names.map { (name: $0, shape: source.shape(of: $0)!, values: try source.floats($0)) }
        edit(&tensors)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-\(UUID().uuidString).safetensors")
        try SafeTensorsWriter.write(tensors, to: url)
        return try SafeTensorsFile(url: url)
    }

    var config: BlipConfig { try! BlipConfig(contentsOf: MEDFixtures.url("captioner/config.json")) }

    func loadError(_ file: SafeTensorsFile) -> String? {
        do { _ = try BlipCaptioningModel(config: config, weights: file); return nil } catch { return "\(error)" }
    }

    func testF32RewriteLoadsAndMatches() throws {
        let file = try rewrittenCaptioner { _ in }
        let model = try BlipCaptioningModel(config: config, weights: file)
        assertMatches(model.encodeImages(MEDFixtures.pixels("random")), MEDFixtures.expectedCaptioner,
                      "vision_last_hidden_state_random")
    }

    func testWrongShapeIsNamed() throws {
        let name = "text_decoder.bert.encoder.layer.1.crossattention.self.key.weight"
        let file = try rewrittenCaptioner { t in
            let i = t.firstIndex { $0.name == name }!
            t[i].shape = [t[i].shape[1], t[i].shape[0]]   // transposed
        }
        let message = try XCTUnwrap(loadError(file))
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertTrue(message.contains(file.url.lastPathComponent) && message.contains(name) && message.contains("[48, 32]"), message)
    }

    func testMissingAndUnexpectedTensorsAreAllListed() throws {
        let missing = "vision_model.encoder.layers.0.mlp.fc2.bias"
        let file = try rewrittenCaptioner { t in
            t.removeAll { $0.name == missing }
            t.append((name: "text_decoder.bert.extra.weight", shape: [2], values: [1, 2]))
        }
        let message = try XCTUnwrap(loadError(file))
        let lines = message.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, message)
        XCTAssertTrue(lines.contains { $0.contains("missing tensor '\(missing)'") }, message)
        XCTAssertTrue(lines.contains { $0.contains("unexpected tensor 'text_decoder.bert.extra.weight'") }, message)
    }

    /// An untied LM decoder weight (as some checkpoints store it) is used instead of the embeddings.
    func testUntiedDecoderWeightIsAccepted() throws {
        let file = try rewrittenCaptioner { t in
            let emb = t.first { $0.name == "text_decoder.bert.embeddings.word_embeddings.weight" }!
            t.append((name: "text_decoder.cls.predictions.decoder.weight", shape: emb.shape, values: emb.values.map { $0 * 2 }))
        }
        let model = try BlipCaptioningModel(config: config, weights: file)
        XCTAssertFalse(model.lmHead.decoder === model.decoder.wordEmbeddings)
        XCTAssertEqual(model.lmHead.decoder[flat: 5], model.decoder.wordEmbeddings[flat: 5] * 2)
    }

    func testRetrievalWeightsRefusedByCaptioner() throws {
        let file = try SafeTensorsFile(url: MEDFixtures.url("itm/model.safetensors"))
        let message = try XCTUnwrap(loadError(file))
        XCTAssertTrue(message.contains("missing tensor 'text_decoder.bert.embeddings.word_embeddings.weight'"), message)
        XCTAssertTrue(message.contains("unexpected tensor 'itm_head.weight'"), message)
    }
}
