@testable import Stages
import XCTest

/// Recall and precision of semantic dedup against planted pairs.
final class EvaluationSemanticDedupTests: XCTestCase {
    func testAPairIsFoundWhenBothEndInOneGroup() {
        let outcome = SemanticDedupOutcome(
            planted: [("1", "100"), ("2", "101"), ("3", "102"), ("4", "103"), ("5", "104")],
            recorded: [("web/100", "web/1"),    // the variant dropped for its original: found
                       ("web/2", "web/101"),    // the original dropped for its variant: found
                       ("web/3", "web/7"),      // both dropped for a third sample: found, two right drops
                       ("web/102", "web/7"),
                       ("web/104", "web/9"),    // the variant dropped for another sample, its original kept: missed
                       ("people/4", "web/103")], // a human sample with the same key: not the planted row
            webSource: "web")
        XCTAssertEqual(outcome.planted, 5)
        XCTAssertEqual(outcome.found, 3)
        XCTAssertEqual(outcome.recall, 3.0 / 5)
        XCTAssertEqual(outcome.correctDrops, 4)
        XCTAssertEqual(outcome.precision, 4.0 / 6)
        XCTAssertEqual(SemanticDedupOutcome(planted: [], recorded: [], webSource: nil).recall, 0)
        XCTAssertEqual(SemanticDedupOutcome(planted: [("1", "2")], recorded: [], webSource: nil).found, 0, "nothing dropped, nothing found")
    }
}
