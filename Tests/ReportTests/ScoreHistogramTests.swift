import XCTest

@testable import Report

final class ScoreHistogramTests: XCTestCase {
    func testEndsAndThresholdOnAnEdge() {
        let h = ScoreHistogram(title: "t", scores: [0, 1, 0.3, 0.3.nextDown, 0.5, 0.999], binCount: 20, threshold: 0.3)
        XCTAssertEqual(h.bin(of: 0), 0)
        XCTAssertEqual(h.bin(of: 1), 19)  // the last bin is closed
        XCTAssertEqual(h.bin(of: 0.3), 6)  // a score at the threshold starts the kept side
        XCTAssertEqual(h.bin(of: 0.3.nextDown), 5)
        XCTAssertEqual(h.counts[0], 1)
        XCTAssertEqual(h.counts[5], 1)
        XCTAssertEqual(h.counts[6], 1)
        XCTAssertEqual(h.counts[10], 1)
        XCTAssertEqual(h.counts[19], 2)
        XCTAssertEqual(h.total, 6)
        XCTAssertEqual(h.belowThreshold, 2)  // 0 and the value just under 0.3
        XCTAssertEqual(h.clamped, 0)
    }

    func testEveryEdgeStartsItsBin() {
        for binCount in [1, 3, 7, 10, 20, 33, 100] {
            for range in [0.0...1.0, -1.0...1.0, 0.1...0.7] {
                let h = ScoreHistogram(title: "t", scores: [], binCount: binCount, range: range)
                for i in 0..<binCount {
                    XCTAssertEqual(h.bin(of: h.edge(i)), i, "\(binCount) bins over \(range), edge \(i)")
                    if i > 0 { XCTAssertEqual(h.bin(of: h.edge(i).nextDown), i - 1) }
                }
                XCTAssertEqual(h.edge(binCount), range.upperBound)
            }
        }
    }

    func testEmptyScores() {
        let h = ScoreHistogram(title: "t", scores: [], binCount: 10, threshold: 0.5)
        XCTAssertEqual(h.counts, [Int](repeating: 0, count: 10))
        XCTAssertEqual(h.total, 0)
        XCTAssertEqual(h.belowThreshold, 0)
        let page = render(RunReport(title: "t", dataset: "d", runID: "r", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p", histograms: [h]))
        XCTAssertTrue(page.contains(">no scores</text>"))
        XCTAssertTrue(page.contains("n = 0 · threshold 0.500 · below: 0 (–)"))
    }

    func testOutOfRangeAndNaN() {
        let h = ScoreHistogram(title: "t", scores: [-0.1, 1.5, .nan, .infinity, 0.25], binCount: 4)
        XCTAssertEqual(h.counts, [1, 1, 0, 2])
        XCTAssertEqual(h.clamped, 3)
        XCTAssertEqual(h.skipped, 1)
        XCTAssertNil(h.belowThreshold)
    }

    func testSingleBinAndSignedRange() {
        let one = ScoreHistogram(title: "t", scores: [0, 0.5, 1], binCount: 1)
        XCTAssertEqual(one.counts, [3])
        let itc = ScoreHistogram(title: "t", scores: [-1, -0.5, 0, 0.49, 1], binCount: 4, range: -1...1, threshold: 0)
        XCTAssertEqual(itc.counts, [1, 1, 2, 1])
        XCTAssertEqual(itc.belowThreshold, 2)
    }

    func testPreBinned() {
        let h = ScoreHistogram(title: "t", origin: .web, counts: [5, 0, 7, 1], threshold: 0.5, belowThreshold: 5)
        XCTAssertEqual(h.total, 13)
        XCTAssertEqual(h.edge(2), 0.5)
        let page = render(RunReport(title: "t", dataset: "d", runID: "r", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p", histograms: [h]))
        // Bins entirely below the threshold are marked in the chart and in the table.
        XCTAssertTrue(page.contains("<th scope=\"row\">count</th><td class=\"below\">5</td><td class=\"below\">0</td><td>7</td><td>1</td></tr>"))
        XCTAssertTrue(page.contains("below: 5 (38.5%)"))
    }

    func testNiceAxis() {
        XCTAssertEqual(niceCeiling(0), 1)
        XCTAssertEqual(niceCeiling(1), 1)
        XCTAssertEqual(niceCeiling(7), 10)
        XCTAssertEqual(niceCeiling(11), 20)
        XCTAssertEqual(niceCeiling(4_321), 5_000)
        XCTAssertEqual(yTicks(max: 5_000), [0, 1_000, 2_000, 3_000, 4_000, 5_000])
        XCTAssertEqual(yTicks(max: 20), [0, 5, 10, 15, 20])
        XCTAssertEqual(yTicks(max: 1), [0, 1])
    }
}
