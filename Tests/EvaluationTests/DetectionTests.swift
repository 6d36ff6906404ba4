import XCTest
@testable import Evaluation

final class DetectionTests: XCTestCase {
    func testMatchesReference() throws {
        let f = try Fixtures.load(Fixtures.Detection.self, "detection.json")
        let m = Detection.evaluate(dropped: f.dropped, kinds: f.kinds)
        XCTAssertEqual(m.precision, f.precision, accuracy: 1e-12)
        XCTAssertEqual(m.recall, f.recall, accuracy: 1e-12)
        XCTAssertEqual(m.falseDropRate, f.false_drop_rate, accuracy: 1e-12)
        XCTAssertEqual(Set(m.recallByKind.keys), Set(f.recall_by_kind.keys))
        for (kind, value) in f.recall_by_kind {
            XCTAssertEqual(m.recallByKind[kind]!, value, accuracy: 1e-12, kind)
        }
    }

    func testCounts() {
        let m = Detection.evaluate(
            dropped: [true, false, true, true, false, false],
            kinds: ["junk", "junk", "clean", "swapped", "clean", "clean"])
        XCTAssertEqual([m.truePositives, m.falsePositives, m.falseNegatives, m.trueNegatives], [2, 1, 1, 2])
        XCTAssertEqual(m.precision, 2.0 / 3)
        XCTAssertEqual(m.recall, 2.0 / 3)
        XCTAssertEqual(m.falseDropRate, 1.0 / 3)
        XCTAssertEqual(m.recallByKind, ["junk": 0.5, "swapped": 1])
        XCTAssertEqual(m.droppedByKind, ["junk": 1, "swapped": 1])
        XCTAssertEqual(m.noiseShare, 0.5)
        let empty = Detection.evaluate(dropped: [], kinds: [])
        XCTAssertEqual(empty.precision, 0)
    }

    func testPairedDifferenceMatchesReference() throws {
        let f = try Fixtures.load(Fixtures.Difference.self, "difference.json")
        let d = RecallDifference.paired(first: f.first, second: f.second)
        XCTAssertEqual(d.difference, f.difference, accuracy: 1e-12)
        XCTAssertEqual(d.standardError, f.standard_error, accuracy: 1e-12)
        let n = f.first.count
        let p1 = Double(f.first.filter { $0 }.count) / Double(n)
        let p2 = Double(f.second.filter { $0 }.count) / Double(n)
        XCTAssertEqual(RecallDifference.independentStandardError(p1: p1, n1: n, p2: p2, n2: n),
                       f.independent_standard_error, accuracy: 1e-12)
        // Correlated outcomes: pairing gives the smaller error.
        XCTAssertLessThan(d.standardError, f.independent_standard_error)
    }

    func testIdenticalModelsHaveNoDifference() {
        let hits = [true, false, true, true]
        let d = RecallDifference.paired(first: hits, second: hits)
        XCTAssertEqual(d.difference, 0)
        XCTAssertEqual(d.standardError, 0)
        XCTAssertEqual(d.zScore, 0)
    }
}
