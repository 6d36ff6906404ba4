@testable import Stages
import XCTest

/// Recall and precision of semantic dedup against planted pairs.
final class EvaluationSemanticDedupTests: XCTestCase {
    func testAPairIsFoundInEitherDirectionAndEveryRecordCountsForPrecision() {
        let outcome = SemanticDedupOutcome(
            planted: [("1", "100"), ("2", "101"), ("3", "102"), ("4", "103")],
            recorded: [("100", "1"),      // the variant dropped for its original
                       ("2", "101"),      // the original dropped for its variant
                       ("102", "7"),      // the variant dropped for another row
                       ("1", "100"),      // the first pair again: found once
                       (nil, nil)])       // a record outside the web split
        XCTAssertEqual(outcome.planted, 4)
        XCTAssertEqual(outcome.found, 2)
        XCTAssertEqual(outcome.recall, 0.5)
        XCTAssertEqual(outcome.precision, 2.0 / 5)
        XCTAssertEqual(SemanticDedupOutcome(planted: [], recorded: []).recall, 0)
    }
}
