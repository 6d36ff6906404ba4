import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// The seeded, resumable data loader over the fixture JPEGs (and one unreadable file).
final class DataLoaderTests: XCTestCase {
    var folder: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/images") }

    func pairs() -> [TrainingPair] {
        let captions = ["A dog, running on the beach!", "two cats", "a red (bright) car", "Sky", "some words here", "x"]
        let files = ["0.jpg", "1.jpg", "broken.jpg", "2.jpg", "3.jpg", "4.jpg"]
        return zip(files, captions).enumerated().map { i, fc in
            TrainingPair(imagePath: folder.appendingPathComponent(fc.0).path, caption: fc.1, imageID: 100 + i)
        }
    }

    func loader(seed: UInt64) throws -> TrainingDataLoader {
        var options = DataLoaderOptions(batchSize: 2, imageSize: 16, pretraining: true, seed: seed)
        options.maxTokens = 8
        return TrainingDataLoader(pairs: pairs(), tokenizer: try BertTokenizer.bundled(), options: options)
    }

    func testBatchesAreSeededAndResumable() throws {
        let a = try loader(seed: 7), b = try loader(seed: 7)
        XCTAssertEqual(a.batchesPerEpoch, 3)
        XCTAssertEqual(a.order(epoch: 0), b.order(epoch: 0))
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1))
        XCTAssertNotEqual(a.order(epoch: 0), try loader(seed: 8).order(epoch: 0))
        XCTAssertEqual(a.order(epoch: 3).sorted(), Array(0..<6))

        // The stream (prepared on a background queue) equals direct calls, also when it starts mid-run.
        let stream = a.stream(from: 2)
        for step in 2..<6 {
            let streamed = stream.next(), direct = b.batch(epoch: step / 3, index: step % 3)
            XCTAssertEqual(streamed.batch.pixels.toArray(), direct.batch.pixels.toArray(), "step \(step)")
            XCTAssertEqual(streamed.batch.ids, direct.batch.ids)
            XCTAssertEqual(streamed.imageIDs, direct.imageIDs)
        }
    }

    func testTokensPixelsAndUnreadableImages() throws {
        let l = try loader(seed: 3)
        var unreadable = 0
        for index in 0..<l.batchesPerEpoch {
            let loaded = l.batch(epoch: 0, index: index)
            let batch = loaded.batch
            XCTAssertEqual(batch.pixels.shape, [2, 3, 16, 16])
            XCTAssertEqual(batch.ids.count, 2 * 8)
            for s in 0..<2 {
                let row = Array(batch.ids[(s * 8)..<((s + 1) * 8)]), mask = Array(batch.attentionMask[(s * 8)..<((s + 1) * 8)])
                XCTAssertEqual(row.first, BertTokenizer.clsID)
                let length = Int(mask.reduce(0, +))
                XCTAssertEqual(row[length - 1], BertTokenizer.sepID)
                XCTAssertTrue(row[length...].allSatisfy { $0 == BertTokenizer.padID })
            }
            // Normalised pixels: roughly zero-centred, not all equal.
            let values = batch.pixels.toArray()
            XCTAssertGreaterThan(Set(values).count, 100)
            XCTAssertTrue(values.allSatisfy { abs($0) < 3 })
            XCTAssertEqual(loaded.imageIDs?.count, 2)
            XCTAssertFalse(loaded.imageIDs!.contains(102), "the unreadable pair is replaced")
            unreadable += loaded.unreadable.count
            XCTAssertTrue(loaded.unreadable.allSatisfy { $0 == 2 })
        }
        XCTAssertGreaterThanOrEqual(unreadable, 1)
        // pre_caption: lower case, punctuation removed.
        let tokenizer = try BertTokenizer.bundled()
        XCTAssertEqual(tokenizer.encode(preCaption("A dog, running on the beach!", maxWords: 30), maxLength: 8),
                       tokenizer.encode("a dog, running on the beach", maxLength: 8))
    }
}
