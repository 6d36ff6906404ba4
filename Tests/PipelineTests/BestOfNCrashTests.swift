import Foundation
import Pipeline
import TestFixtures
import XCTest

/// kill -9 while the filter ranks three captions per image and keeps the best two, resume: the
/// catalog (ranks included) and the export must be the ones an uninterrupted run leaves.
final class BestOfNCrashTests: XCTestCase {
    func testKillNineWhileRankingThenResumeGivesIdenticalResults() throws {
        let folder = temporaryFolder("bestofn-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 60, human: 6)
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, filterBatchSize: 2, captionsPerImage: 3, keepTop: 2, rankBy: "product")

        let reference = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try RunSnapshot(work)
        XCTAssertTrue(expected.catalog.contains("(keep_top 2)"), "no passing caption was dropped for its rank")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/last-run.json")))
        let filterSeconds = max(summary.stages.first { $0.stage == "filter" }?.seconds ?? 0, 0.05)
        try FileManager.default.removeItem(at: work)

        // Kill the filter at random moments until three kills landed inside it.
        var rng = SplitMix(seed: 20261207)
        let killed = try CapfiltProcess.killInside("filter", endPattern: #"filter: \d+ ok, \d+ failed in"#, arguments: ["run", "--plain", pipeline],
                                                   window: filterSeconds / 3, timeout: 300, rng: &rng)
        XCTAssertGreaterThan(killed, 0, "no kill landed inside the filter")
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        try RunSnapshot(work).assertSame(as: expected)
    }
}
