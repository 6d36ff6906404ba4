import Foundation
import Pipeline
import TestFixtures
import XCTest

/// kill -9 inside the decontaminate stage and inside dedup's semantic pass (which rewrites its
/// stored clustering), resume: the catalog (contamination and duplicate records included) and the
/// export must be the ones an uninterrupted run leaves.
final class JudgeCrashTests: XCTestCase {
    func testKillNineInDecontaminateAndSemanticDedupThenResumeGivesIdenticalResults() throws {
        let folder = temporaryFolder("judge-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 60, human: 6)
        // An evaluation set holding byte copies of some of the dataset's images.
        let evaluation = folder.appendingPathComponent("evaluation")
        try FileManager.default.createDirectory(at: evaluation, withIntermediateDirectories: true)
        let images = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("images").path).sorted()
        for name in images.prefix(6) {
            try FileManager.default.copyItem(at: folder.appendingPathComponent("images/" + name), to: evaluation.appendingPathComponent(name))
        }
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, semantic: true, evaluationFolder: evaluation.path)

        let reference = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try RunSnapshot(work)
        XCTAssertTrue(expected.catalog.contains("held-out"), "nothing was found in the evaluation set")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/last-run.json")))
        try FileManager.default.removeItem(at: work)

        var rng = SplitMix(seed: 20261207)
        for stage in ["decontaminate", "dedup"] {
            let seconds = max(summary.stages.first { $0.stage == stage }?.seconds ?? 0, 0.02)
            let killed = try CapfiltProcess.killInside(stage, endPattern: "\(stage): done|\(stage): \\d+ ok", arguments: ["run", "--plain", pipeline],
                                                       window: seconds, timeout: 300, rng: &rng)
            // A stage that finishes before any kill lands is still resumed correctly below.
            print("\(stage): \(killed) kills inside the stage")
        }
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        try RunSnapshot(work).assertSame(as: expected)
    }
}
