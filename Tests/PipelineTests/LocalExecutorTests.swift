import Foundation
import Pipeline
import TestFixtures
import XCTest

/// `--executor local --parallel K`: the shards as K child processes, then the whole-dataset
/// stages; the export must equal a sequential run's byte for byte.
final class LocalExecutorTests: XCTestCase {
    func testThreeParallelShardProcessesExportWhatASequentialRunExports() throws {
        let folder = temporaryFolder("local-executor")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 12, human: 3)
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, shards: 3, captionStrategy: "greedy")

        let sequential = try CapfiltRun.run(["run", "--plain", pipeline])
        XCTAssertEqual(sequential.status, 0, sequential.stderr)
        let expected = try exportedFiles(work)
        try FileManager.default.removeItem(at: work)

        let parallel = try CapfiltRun.run(["run", pipeline, "--executor", "local", "--shards", "3", "--parallel", "3"])
        XCTAssertEqual(parallel.status, 0, parallel.stderr)
        XCTAssertTrue(parallel.stderr.contains("running 3 shards as child processes, 3 at a time"), parallel.stderr)
        // Each shard ran in its own process: one summary per shard task.
        for i in 0..<3 {
            let name = "runs/last-run-shard-" + ShardSpec(index: i, count: 3).folderName + ".json"
            XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent(name).path), name)
        }
        assertSameExport(expected, try exportedFiles(work))

        // Everything is done: a second run only finds it so.
        let again = try CapfiltRun.run(["run", pipeline, "--executor", "local", "--parallel", "3"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("done: everything was up to date"), again.stderr)
    }

    func testAFailingShardStopsBeforeTheDatasetStages() throws {
        let folder = temporaryFolder("local-executor-fail")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 6, human: 2)
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, shards: 2, captionStrategy: "greedy")
        // Shard 1's lock is held by "another run": its task fails at once.
        let shard1 = work.appendingPathComponent("shards/" + ShardSpec(index: 1, count: 2).folderName)
        try FileManager.default.createDirectory(at: shard1, withIntermediateDirectories: true)
        let lock = try RunLock(path: shard1.appendingPathComponent("lock").path)
        let r = try CapfiltRun.run(["run", pipeline, "--executor", "local", "--parallel", "2"])
        withExtendedLifetime(lock) {}
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("shard task failed: 1/2 (exit"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("export").path))
    }
}
