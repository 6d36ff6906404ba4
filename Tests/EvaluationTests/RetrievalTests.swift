import XCTest
@testable import Evaluation

final class RetrievalTests: XCTestCase {
    /// BLIP's itm_eval ranks (numpy argsort) on a random matrix with shuffled texts.
    func testRecallMatchesReference() throws {
        let f = try Fixtures.load(Fixtures.Retrieval.self, "retrieval.json")
        let matrix = SimilarityMatrix(rows: f.scores)
        XCTAssertEqual(matrix.imageCount, f.image_count)
        let r = Retrieval.recall(matrix, textImage: f.text_image)
        XCTAssertEqual(r.imageRanks, f.image_ranks)
        XCTAssertEqual(r.textRanks, f.text_ranks)
        for k in [1, 5, 10] {
            XCTAssertEqual(r.imageToText(at: k), f.i2t[String(k)]!, accuracy: 1e-9, "i2t R@\(k)")
            XCTAssertEqual(r.textToImage(at: k), f.t2i[String(k)]!, accuracy: 1e-9, "t2i R@\(k)")
        }
    }

    /// A hit for an image when any of its texts is in the top k.
    func testAnyCorrectTextCounts() {
        // 2 images, 4 texts: texts 0, 1 -> image 0; texts 2, 3 -> image 1.
        let m = SimilarityMatrix(rows: [
            [0.1, 0.9, 0.8, 0.2],
            [0.7, 0.6, 0.5, 0.4],
        ])
        let r = Retrieval.recall(m, textImage: [0, 0, 1, 1], ks: [1, 2])
        XCTAssertEqual(r.imageRanks, [0, 2])
        XCTAssertEqual(r.imageToText(at: 1), 50)
        XCTAssertEqual(r.textRanks, [1, 0, 1, 0])
        XCTAssertEqual(r.textToImage(at: 1), 50)
        XCTAssertEqual(r.imageHits(at: 1), [true, false])
    }

    /// Ties go against the query: constant scores are chance level, not perfect.
    func testTiesCountAgainst() {
        let m = SimilarityMatrix(imageCount: 3, textCount: 3, scores: [Double](repeating: 0.5, count: 9))
        let r = Retrieval.recall(m, textImage: [0, 1, 2], ks: [1, 3])
        XCTAssertEqual(r.imageToText(at: 1), 0)
        XCTAssertEqual(r.textToImage(at: 1), 0)
        XCTAssertEqual(r.imageToText(at: 3), 100)
    }
}
