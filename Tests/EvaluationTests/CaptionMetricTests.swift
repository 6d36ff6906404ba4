import XCTest
@testable import Evaluation

/// BLEU and CIDEr-D against pycocoevalcap's own values (scripts/make_evaluation_fixtures.py),
/// on raw captions, so the tokenisation is checked along with the formulas.
final class CaptionMetricTests: XCTestCase {
    private let tolerance = 1e-6

    func testTokenizerMatchesStanfordTokenizer() throws {
        let fixture = try Fixtures.load(Fixtures.Captions.self, "captions.json")
        for (line, expected) in zip(fixture.tokenizer.lines, fixture.tokenizer.tokens) {
            XCTAssertEqual(CaptionTokenizer.normalize(line), expected, "tokenising \(line)")
        }
        for c in fixture.cases {
            for (raw, expected) in zip(c.candidates, c.candidates_tokenized) {
                XCTAssertEqual(CaptionTokenizer.normalize(raw), expected)
            }
            for (raws, expecteds) in zip(c.references, c.references_tokenized) {
                XCTAssertEqual(raws.map(CaptionTokenizer.normalize), expecteds)
            }
        }
    }

    func testBLEUMatchesToolkit() throws {
        let fixture = try Fixtures.load(Fixtures.Captions.self, "captions.json")
        for c in fixture.cases {
            let score = BLEU.corpus(candidates: c.candidates, references: c.references)
            XCTAssertEqual(score.scores.count, 4)
            for k in 0..<4 {
                XCTAssertEqual(score.scores[k], c.bleu[k], accuracy: tolerance, "\(c.name) BLEU-\(k + 1)")
            }
            XCTAssertEqual(score.bleu4, c.bleu[3], accuracy: tolerance)
        }
    }

    func testCIDErMatchesToolkit() throws {
        let fixture = try Fixtures.load(Fixtures.Captions.self, "captions.json")
        for c in fixture.cases {
            let score = CIDEr.compute(candidates: c.candidates, references: c.references)
            XCTAssertEqual(score.score, c.cider, accuracy: tolerance, "\(c.name) CIDEr-D")
            XCTAssertEqual(score.perImage.count, c.cider_per_image.count)
            for (mine, theirs) in zip(score.perImage, c.cider_per_image) {
                XCTAssertEqual(mine, theirs, accuracy: tolerance, c.name)
            }
        }
    }

    func testPerfectCandidateAndBrevity() {
        let refs = [["two red circles on the left of a blue background"]]
        let exact = BLEU.corpus(candidates: ["Two red circles on the left of a blue background."], references: refs)
        XCTAssertEqual(exact.bleu4, 1, accuracy: 1e-9)
        // The toolkit's constants make equal lengths a ratio just under 1: a penalty of 1 - 1e-10.
        XCTAssertEqual(exact.brevityPenalty, 1, accuracy: 1e-9)
        let short = BLEU.corpus(candidates: ["two red circles on the left"], references: refs)
        // All n-grams match; only the brevity penalty exp(1 - 10/6) lowers it.
        XCTAssertEqual(short.bleu4, exp(1 - 10.0 / 6), accuracy: 1e-9)
        let none = BLEU.corpus(candidates: ["click here"], references: refs)
        XCTAssertLessThan(none.bleu4, 1e-6)
    }

    func testCIDErOfAnEmptyCandidateIsZero() {
        let score = CIDEr.compute(candidates: ["", "a red circle"], references: [["a blue square"], ["a red circle"]])
        XCTAssertEqual(score.perImage[0], 0)
        XCTAssertGreaterThan(score.perImage[1], 0)
    }
}
