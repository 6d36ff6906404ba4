import Foundation
import Pipeline
import TestFixtures
import XCTest
@testable import Stages

/// The filter's threshold rules on held-out pairs, on hand-computed cases.
final class FilterCalibrationTests: XCTestCase {
    /// Dropping the k lowest of six: F1 = 2 TP / (k + 3) is 0.5, 0.8, 0.667, 0.857, 0.75, 0.667;
    /// the best drops four (three mismatches and one match) and sits between 0.4 and 0.6.
    func testBestF1PicksTheBestCutBetweenScores() throws {
        let scored: [(p: Double, noise: Bool)] = [(0.9, false), (0.1, true), (0.3, false), (0.2, true), (0.6, false), (0.4, true)]
        let best = try XCTUnwrap(FilterCalibration.bestF1(scored))
        XCTAssertEqual(best.threshold, 0.5, accuracy: 1e-12)
        XCTAssertEqual(best.precision, 0.75, accuracy: 1e-12)
        XCTAssertEqual(best.recall, 1, accuracy: 1e-12)
    }

    /// A threshold cannot split equal scores: with a tie at the bottom, the only cuts drop both
    /// tied pairs or all three.
    func testBestF1NeverSplitsTies() throws {
        let best = try XCTUnwrap(FilterCalibration.bestF1([(0.2, false), (0.2, true), (0.5, false)]))
        XCTAssertEqual(best.threshold, 0.35, accuracy: 1e-12)
        XCTAssertEqual(best.precision, 0.5, accuracy: 1e-12)
    }

    /// When dropping everything is best, the threshold lies just above the highest score.
    func testBestF1CanDropAll() throws {
        let best = try XCTUnwrap(FilterCalibration.bestF1([(0.3, true), (0.7, true), (0.5, false)]))
        XCTAssertGreaterThan(best.threshold, 0.7)
        XCTAssertEqual(best.recall, 1)
    }

    func testBestF1NeedsBothKinds() {
        XCTAssertNil(FilterCalibration.bestF1([(0.3, true), (0.7, true)]))
        XCTAssertNil(FilterCalibration.bestF1([(0.3, false)]))
        XCTAssertNil(FilterCalibration.bestF1([]))
    }

    func testReadsAnAuditedListAndRejectsAPartlyLabelledOne() throws {
        let folder = temporaryFolder("calibration")
        defer { try? FileManager.default.removeItem(at: folder) }
        let audited = folder.appendingPathComponent("audit.json")
        try Data("""
            [{"image": "images/a.jpg", "caption": "a red square", "match": true},
             {"image": "/abs/b.jpg", "caption": "IMG_2031", "match": false}]
            """.utf8).write(to: audited)
        let calibration = try FilterCalibration(path: audited.path, imageRoot: nil)
        XCTAssertTrue(calibration.labelled)
        XCTAssertEqual(calibration.pairs.map(\.image), [folder.path + "/images/a.jpg", "/abs/b.jpg"])
        XCTAssertEqual(calibration.pairs.map(\.match), [true, false])

        let partly = folder.appendingPathComponent("partly.json")
        try Data("""
            [{"image": "a.jpg", "caption": "a red square", "match": true}, {"image": "b.jpg", "caption": "a blue disc"}]
            """.utf8).write(to: partly)
        XCTAssertThrowsError(try FilterCalibration(path: partly.path, imageRoot: nil)) { error in
            XCTAssertTrue("\(error)".contains("entry 1"), "\(error)")
        }

        // Human captions: no labels, every caption a pair.
        let human = folder.appendingPathComponent("human.json")
        try Data(#"[{"image": "a.jpg", "caption": ["one", "two"]}]"#.utf8).write(to: human)
        let unlabelled = try FilterCalibration(path: human.path, imageRoot: nil)
        XCTAssertFalse(unlabelled.labelled)
        XCTAssertEqual(unlabelled.pairs.map(\.caption), ["one", "two"])
    }
}
