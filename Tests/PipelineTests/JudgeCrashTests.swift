import Foundation
import Pipeline
import TestFixtures
import XCTest
#if canImport(Glibc)
import Glibc
#endif

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
            var killed = 0
            for _ in 0..<20 where killed < 3 {
                let process = try CapfiltProcess(["run", "--plain", pipeline])
                guard process.waitFor(["\(stage): started"], timeout: 300) != nil else {
                    XCTAssertEqual(process.wait(), 0, process.stderr)
                    break
                }
                usleep(useconds_t(Double(rng.next() % 1000) / 1000 * seconds * 1_000_000))
                let wasRunning = process.kill()
                usleep(20_000)  // the last lines it wrote
                if wasRunning, process.stderr.range(of: "\(stage): done|\(stage): \\d+ ok", options: .regularExpression) == nil {
                    killed += 1
                }
            }
            // A stage that finishes before any kill lands is still resumed correctly below.
            print("\(stage): \(killed) kills inside the stage")
        }
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        try RunSnapshot(work).assertSame(as: expected)
    }
}
