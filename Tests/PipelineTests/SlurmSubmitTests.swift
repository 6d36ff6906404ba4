import Foundation
import TestFixtures
import XCTest

/// `capfilt run --executor slurm` end to end, with sbatch / squeue / sacct stand-ins on the PATH
/// (FakeSlurm): dry runs, resubmission of only the incomplete shards, and scripts that, run the
/// way Slurm runs them, export exactly what a local run exports.
final class SlurmSubmitTests: XCTestCase {
    private var folder: URL!
    private var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("slurm")
        dataset = try TestDataset(folder: folder, distinct: 12, human: 3)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private var binary: String { CapfiltProcess.binary.path }

    func testDryRunPrintsBothScriptsAndSubmitsNothing() throws {
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, shards: 3, captionStrategy: "greedy")
        let fake = try FakeSlurm(execute: false)
        defer { fake.remove() }
        let r = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--shards", "3", "--partition", "debug", "--time", "30",
                                    "--cpus", "2", "--mem", "2G", "--array-parallelism", "2", "--dry-run"], path: fake.folder.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        let slurm = work.path + "/slurm"
        let options = """
            #SBATCH --partition=debug
            #SBATCH --time=30
            #SBATCH --cpus-per-task=2
            #SBATCH --mem=2G
            set -eu
            """
        XCTAssertEqual(r.stdout, """
            # 3 of 3 shards to run: 0-2
            # \(slurm)/submit-001-shards.sbatch
            #!/bin/bash
            #SBATCH --job-name=capfilt-shards-pipeline-test
            #SBATCH --array=0-2%2
            #SBATCH --output=\(slurm)/logs/shard-%a-job-%A.log
            #SBATCH --open-mode=append
            \(options)
            exec \(binary) run \(pipeline) --shard "${SLURM_ARRAY_TASK_ID}/3" --plain
            # \(slurm)/submit-001-dataset.sbatch
            #!/bin/bash
            #SBATCH --job-name=capfilt-dataset-pipeline-test
            #SBATCH --output=\(slurm)/logs/dataset-job-%j.log
            #SBATCH --open-mode=append
            \(options)
            exec \(binary) run \(pipeline) --dataset-stages --plain
            sbatch --parsable \(slurm)/submit-001-shards.sbatch
            sbatch --parsable --dependency=afterok:<array job> --kill-on-invalid-dep=yes \(slurm)/submit-001-dataset.sbatch

            """)
        XCTAssertEqual(fake.sbatchCalls, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: slurm + "/jobs.json"))
    }

    /// Without Slurm's commands on the PATH a submission fails at once with a message naming the
    /// missing ones, and writes nothing: no scripts, no jobs file, no digest cache, no workdir.
    func testWithoutSlurmOnThePathSubmissionFailsClearlyAndWritesNothing() throws {
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, shards: 3, captionStrategy: "greedy")
        let empty = temporaryFolder("no-slurm")
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--time", "10"], onlyPath: empty.path)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot submit to Slurm: sbatch, squeue, scancel are not on the PATH (\(empty.path))"), r.stderr)
        XCTAssertFalse(r.stderr.contains("/usr/bin/env"), r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path), "the workdir was created")

        // Only sbatch missing: it alone is named, and still nothing is written.
        let fake = try FakeSlurm(execute: false)
        defer { fake.remove() }
        try FileManager.default.removeItem(at: fake.folder.appendingPathComponent("sbatch"))
        let s = try CapfiltRun.run(["run", pipeline, "--executor", "slurm"], onlyPath: fake.folder.path)
        XCTAssertEqual(s.status, 1, s.stderr)
        XCTAssertTrue(s.stderr.contains("cannot submit to Slurm: sbatch is not on the PATH"), s.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path), "the workdir was created")

        // A dry run submits nothing, so it needs no Slurm.
        let dry = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--dry-run"], onlyPath: empty.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("sbatch --parsable"), dry.stdout)
    }

    func testShardCountMustMatchTheFileAndBadOptionsFail() throws {
        let pipeline = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), shards: 3)
        let r = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--shards", "4", "--dry-run"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--shards 4 does not match `shards: 3`"), r.stderr)
        let t = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--time", "4h", "--dry-run"])
        XCTAssertNotEqual(t.status, 0)
        XCTAssertTrue(t.stderr.contains("--time 4h is not a Slurm time limit"), t.stderr)
        let s = try CapfiltRun.run(["run", pipeline, "--shard", "0/3", "--executor", "slurm"])
        XCTAssertNotEqual(s.status, 0)

        // The same options in the file, with a typo: file, line and key.
        var yaml = try String(contentsOfFile: pipeline, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "threads: 1\n", with: "threads: 1\nexecutor:\n  type: slurm\n  partion: debug\n")
        try yaml.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let y = try CapfiltRun.run(["run", pipeline, "--dry-run"])
        XCTAssertEqual(y.status, 2)
        XCTAssertTrue(y.stderr.contains("pipeline.yaml:7: executor.partion: unknown key"), y.stderr)
    }

    func testResubmissionRunsOnlyIncompleteShardsAndStatusShowsJobs() throws {
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, shards: 3, captionStrategy: "greedy")
        // Shards 0 and 2 finish on their own (as if their array tasks ran); shard 1 never ran.
        for i in [0, 2] {
            let r = try CapfiltRun.run(["run", pipeline, "--shard", "\(i)/3", "--plain"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let fake = try FakeSlurm(execute: false)
        defer { fake.remove() }
        let r = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--time", "10"], path: fake.folder.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("submitted shard 1 of 3 as job array 500"), r.stdout)
        XCTAssertTrue(r.stdout.contains("whole-dataset stages as job 501 (after 500 succeeds)"), r.stdout)
        let slurm = work.path + "/slurm"
        XCTAssertEqual(fake.sbatchCalls, [
            "--parsable \(slurm)/submit-001-shards.sbatch",
            "--parsable --dependency=afterok:500 --kill-on-invalid-dep=yes \(slurm)/submit-001-dataset.sbatch",
        ])
        let script = try String(contentsOfFile: slurm + "/submit-001-shards.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("\n#SBATCH --array=1\n"), script)
        XCTAssertTrue(FileManager.default.fileExists(atPath: slurm + "/logs"))
        let jobs = try JSONDecoder().decode(SlurmJobsFile.self, from: Data(contentsOf: URL(fileURLWithPath: slurm + "/jobs.json")))
        XCTAssertEqual(jobs.submissions.map(\.shards), [[1]])
        XCTAssertEqual(jobs.submissions.map(\.arrayJob), ["500"])

        // While task 500_1 is still queued, submitting again is refused.
        try fake.setSqueue("500_1|PENDING|Priority\n501|PENDING|Dependency\n")
        let busy = try CapfiltRun.run(["run", pipeline, "--executor", "slurm"], path: fake.folder.path)
        XCTAssertEqual(busy.status, 1)
        XCTAssertTrue(busy.stderr.contains("still in Slurm: shard 1 (500_1 PENDING)"), busy.stderr)
        let status = try CapfiltRun.run(["status", pipeline], path: fake.folder.path)
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("1/3                  0          0  no        500_1         PENDING (Priority)"), status.stdout)
        XCTAssertTrue(status.stdout.contains("whole-dataset step                           501           PENDING (Dependency)"), status.stdout)
        let json = try CapfiltRun.run(["status", pipeline, "--json"], path: fake.folder.path)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(object?["stages"])
        let shards = (object?["slurm"] as? [String: Any])?["shards"] as? [[String: Any]]
        XCTAssertEqual(shards?.count, 3)
        XCTAssertEqual(shards?[1]["job"] as? String, "500_1")
        XCTAssertNil(shards?[0]["job"])

        // The task was cancelled: resubmission picks shard 1 again; the old dataset step is
        // cancelled if Slurm still holds it.
        try fake.setSqueue("500_1|CANCELLED|None\n501|PENDING|DependencyNeverSatisfied\n")
        let again = try CapfiltRun.run(["run", pipeline, "--executor", "slurm"], path: fake.folder.path)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("submitted shard 1 of 3 as job array 502"), again.stdout)
        XCTAssertEqual(try String(contentsOf: fake.folder.appendingPathComponent("scancel.log"), encoding: .utf8), "501\n")

        // Shard 1 done (as its task would): nothing but the dataset step is left.
        try fake.setSqueue("")
        XCTAssertEqual(try CapfiltRun.run(["run", pipeline, "--shard", "1/3", "--plain"]).status, 0)
        let last = try CapfiltRun.run(["run", pipeline, "--executor", "slurm", "--dry-run"], path: fake.folder.path)
        XCTAssertTrue(last.stdout.hasPrefix("# every shard is complete\n"), last.stdout)
        XCTAssertTrue(last.stdout.hasSuffix("sbatch --parsable \(slurm)/submit-003-dataset.sbatch\n"), last.stdout)
    }

    /// The scripts run the way Slurm runs them (each array task with its SLURM_ARRAY_TASK_ID,
    /// then the dependent step) export byte for byte what the local executor exports.
    func testScriptsRunAsSlurmWouldExportWhatTheLocalExecutorExports() throws {
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, shards: 3, captionStrategy: "greedy")
        let local = try CapfiltRun.run(["run", pipeline, "--executor", "local", "--parallel", "3"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let expected = try exportedFiles(work)
        try FileManager.default.removeItem(at: work)

        let fake = try FakeSlurm(execute: true)
        defer { fake.remove() }
        let r = try CapfiltRun.run(["run", pipeline, "--executor", "slurm"], path: fake.folder.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("failed"), r.stderr)
        assertSameExport(expected, try exportedFiles(work))
        let after = try CapfiltRun.run(["run", pipeline, "--executor", "slurm"], path: fake.folder.path)
        XCTAssertTrue(after.stdout.contains("nothing to submit"), after.stdout)
    }
}

/// jobs.json as the tests read it.
private struct SlurmJobsFile: Decodable {
    struct Submission: Decodable {
        var shards: [Int]
        var arrayJob: String?
        var datasetJob: String?
    }
    var submissions: [Submission]
}
