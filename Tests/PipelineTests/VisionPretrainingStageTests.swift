import Foundation
import TestFixtures
import XCTest

/// The pretrain_vision stage on the demo's labelled split, and a pretrain stage that starts from
/// its ViT (`init_vision_from`) and reads a BLIP json list (`data: annotations`): both run, the
/// classifier's folder has what the pretrain stage reads, and editing the list reruns the
/// pretrain stage but not the classifier.
final class VisionPretrainingStageTests: XCTestCase {
    static let pipeline = """
        dataset: vision-test
        workdir: work
        threads: 1
        stages:
          pretrain_vision:
            type: pretrain_vision
            labels: data/labelled/labels.json
            vision_width: 16
            vision_layers: 1
            heads: 2
            image_size: 32
            steps: 4
            batch_size: 8
            warmup: 1
          pretrain:
            type: pretrain
            needs: [pretrain_vision]
            init_vision_from: pretrain_vision
            data: annotations
            annotations: data/test/coco_karpathy_test.json
            vision_width: 16
            vision_layers: 1
            text_width: 16
            text_layers: 1
            heads: 2
            image_size: 32
            embed_dim: 16
            steps: 3
            batch_size: 8
            queue_size: 16
            warmup: 1
        """

    func testClassifierThenPretrainingFromItsViT() throws {
        let folder = temporaryFolder("vision-stage")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("vision.yaml").path
        try Self.pipeline.write(toFile: file, atomically: true, encoding: .utf8)
        let data = folder.appendingPathComponent("data").path
        // `capfilt demo` writes the data, then runs this pipeline (it has no evaluate stage).
        let port = String(Int.random(in: 20_000...60_000))
        let first = try DemoPipelineTests.run(["demo", "--plain", "--pipeline", file, "--data", data, "--port", port,
                                               "--human-images", "8", "--validation-images", "2", "--web-images", "8",
                                               "--test-images", "10", "--labelled-images", "24"])
        XCTAssertTrue(first.stderr.contains("pretrain_vision: done"), first.stderr)
        XCTAssertTrue(first.stderr.contains("pretrain: ViT from"), first.stderr)
        XCTAssertTrue(first.stderr.contains("pretrain: 50 pairs"), "10 test images x 5 captions:\n\(first.stderr)")
        let models = folder.appendingPathComponent("work/models").path
        let classes = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: models + "/pretrain_vision/classes.json"))) as! [String]
        XCTAssertEqual(classes, classes.sorted())
        XCTAssertTrue(classes.allSatisfy { $0.split(separator: " ").count == 2 }, "\(classes)")
        for name in ["model.safetensors", "config.json", "losses.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: models + "/pretrain_vision/" + name), name)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: models + "/pretrain/retrieval/model.safetensors"))

        // A changed list is a changed input of the pretrain stage only.
        let list = data + "/test/coco_karpathy_test.json"
        var entries = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: list))) as! [[String: Any]]
        entries.removeLast()
        try JSONSerialization.data(withJSONObject: entries).write(to: URL(fileURLWithPath: list))
        let second = try DemoPipelineTests.run(["run", "--plain", file])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stderr.contains("pretrain_vision: started"), second.stderr)
        XCTAssertTrue(second.stderr.contains("pretrain: 45 pairs"), second.stderr)
    }
}
