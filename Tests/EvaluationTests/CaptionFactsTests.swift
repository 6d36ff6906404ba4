import Evaluation
import XCTest

final class CaptionFactsTests: XCTestCase {
    let red = CaptionFact(accept: ["red"], reject: ["blue", "green"])
    let left = CaptionFact(accept: ["on the left", "at the left"], reject: ["on the right", "in the centre"])

    func testAcceptAndReject() {
        XCTAssertTrue(CaptionFacts.holds([red, left], caption: "a small red circle on the left"))
        XCTAssertFalse(CaptionFacts.holds([red, left], caption: "a small red circle"), "a fact left unsaid")
        XCTAssertFalse(CaptionFacts.holds([red, left], caption: "a red and blue circle on the left"), "a contradiction")
        XCTAssertTrue(CaptionFacts.holds([], caption: "anything"))
    }

    /// Whole words of the normalised caption: case, punctuation and spacing do not matter, and a
    /// phrase never matches inside a word.
    func testWholeWordsOnly() {
        XCTAssertTrue(CaptionFacts.holds([red, left], caption: "Red circle,   at the LEFT."))
        XCTAssertFalse(CaptionFacts.holds([red], caption: "a centred circle"))
        XCTAssertFalse(CaptionFacts.holds([red], caption: "reddish"))
        XCTAssertTrue(CaptionFacts.holds([CaptionFact(accept: [], reject: ["two"])], caption: "network"))
        XCTAssertTrue(CaptionFacts.holds([left], caption: "on the left-hand side"))
        XCTAssertFalse(CaptionFacts.holds([left], caption: "not on the left but on the right"))
    }

    func testOptionalFact() {
        let plain = CaptionFact(accept: [], reject: ["striped", "dotted"])
        XCTAssertTrue(CaptionFacts.holds([plain], caption: "a circle"))
        XCTAssertFalse(CaptionFacts.holds([plain], caption: "a striped circle"))
    }

    func testProportion() {
        let p = Proportion(count: 25, total: 100)
        XCTAssertEqual(p.value, 0.25)
        XCTAssertEqual(p.standardError, (0.25 * 0.75 / 100).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(Proportion(count: 0, total: 0).value, 0)
        XCTAssertEqual(Proportion(count: 0, total: 0).standardError, 0)
    }
}
