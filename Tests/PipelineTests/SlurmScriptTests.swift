import Foundation
import Pipeline
import Stages
import TestFixtures
import XCTest

/// The sbatch scripts, the `executor:` section's validation and the parsing of squeue / sacct.
final class SlurmScriptTests: XCTestCase {
    func testShardArrayScriptText() {
        var options = SlurmOptions()
        options.partition = "cpu"
        options.time = "04:00:00"
        options.cpus = 8
        options.mem = "16G"
        options.arrayParallelism = 2
        options.account = "vision"
        options.extraArguments = ["--qos=low"]
        let script = SlurmScript(pipeline: "/shared/p/cc12m.yaml", dataset: "cc12m v2", binary: "/shared/bin/capfilt",
                                 shardCount: 4, logFolder: "/shared/work/slurm/logs", options: options)
        XCTAssertEqual(script.shardArray([0, 1, 2, 3]), """
            #!/bin/bash
            #SBATCH --job-name=capfilt-shards-cc12m-v2
            #SBATCH --array=0-3%2
            #SBATCH --output=/shared/work/slurm/logs/shard-%a-job-%A.log
            #SBATCH --open-mode=append
            #SBATCH --partition=cpu
            #SBATCH --account=vision
            #SBATCH --time=04:00:00
            #SBATCH --cpus-per-task=8
            #SBATCH --mem=16G
            #SBATCH --qos=low
            set -eu
            exec /shared/bin/capfilt run /shared/p/cc12m.yaml --shard "${SLURM_ARRAY_TASK_ID}/4" --plain

            """)
        XCTAssertEqual(script.datasetStep(), """
            #!/bin/bash
            #SBATCH --job-name=capfilt-dataset-cc12m-v2
            #SBATCH --output=/shared/work/slurm/logs/dataset-job-%j.log
            #SBATCH --open-mode=append
            #SBATCH --partition=cpu
            #SBATCH --account=vision
            #SBATCH --time=04:00:00
            #SBATCH --cpus-per-task=8
            #SBATCH --mem=16G
            #SBATCH --qos=low
            set -eu
            exec /shared/bin/capfilt run /shared/p/cc12m.yaml --dataset-stages --plain

            """)
    }

    func testResubmittedArrayListsOnlyTheGivenShardsAndQuotesPaths() {
        let script = SlurmScript(pipeline: "/data/my pipelines/it's.yaml", dataset: "d", binary: "/opt/capfilt", shardCount: 8,
                                 logFolder: "/w/slurm/logs", options: SlurmOptions(), stageArguments: ["--from", "caption"])
        XCTAssertEqual(script.shardArray([1, 3]), """
            #!/bin/bash
            #SBATCH --job-name=capfilt-shards-d
            #SBATCH --array=1,3
            #SBATCH --output=/w/slurm/logs/shard-%a-job-%A.log
            #SBATCH --open-mode=append
            set -eu
            exec /opt/capfilt run '/data/my pipelines/it'\\''s.yaml' --shard "${SLURM_ARRAY_TASK_ID}/8" --from caption --plain

            """)
    }

    func testArraySpecCompactsRuns() {
        XCTAssertEqual(SlurmScript.arraySpec([0, 1, 2, 3]), "0-3")
        XCTAssertEqual(SlurmScript.arraySpec([1, 3]), "1,3")
        XCTAssertEqual(SlurmScript.arraySpec([8, 7, 0, 1, 2, 5]), "0-2,5,7-8")
        XCTAssertEqual(SlurmScript.arraySpec([4]), "4")
    }

    func testTimeAndMemoryFormats() {
        for good in ["30", "30:00", "04:00:00", "2-00", "2-12:30", "1-00:00:00", "UNLIMITED"] {
            XCTAssertTrue(SlurmOptions.isValidTime(good), good)
        }
        for bad in ["", "4h", "1:2:3:4", "-1", "1-", "a:00", "1-2-3"] { XCTAssertFalse(SlurmOptions.isValidTime(bad), bad) }
        for good in ["16G", "4000", "512M", "1T"] { XCTAssertTrue(SlurmOptions.isValidMemory(good), good) }
        for bad in ["", "G", "16 G", "16GB", "-1"] { XCTAssertFalse(SlurmOptions.isValidMemory(bad), bad) }
    }

    // MARK: executor section

    private func parse(_ yaml: String) throws -> ExecutorSettings {
        let folder = temporaryFolder("executor")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("p.yaml").path
        // The executor keys keep their line numbers; a minimal stage list follows them.
        let text = yaml + (yaml.hasSuffix("\n") ? "" : "\n") + "stages:\n  ingest:\n    manifests:\n      - {path: m.json, format: blip-pretrain}\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let definition = try PipelineLoader(registry: StandardStages.registry, checkPaths: false).load(path: file)
        return try ExecutorSettings.parse(definition.executor, file: file)
    }

    func testExecutorSectionIsReadAndValidated() throws {
        let s = try parse("""
            dataset: x
            executor:
              type: slurm
              partition: cpu
              time: 04:00:00
              cpus: 4
              mem: 8G
              array_parallelism: 10
              binary: /shared/bin/capfilt
              sbatch_args: ["--qos=low"]
            """)
        XCTAssertEqual(s.kind, .slurm)
        XCTAssertEqual(s.slurm.partition, "cpu")
        XCTAssertEqual(s.slurm.time, "04:00:00")
        XCTAssertEqual(s.slurm.cpus, 4)
        XCTAssertEqual(s.slurm.mem, "8G")
        XCTAssertEqual(s.slurm.arrayParallelism, 10)
        XCTAssertEqual(s.slurm.binary, "/shared/bin/capfilt")
        XCTAssertEqual(s.slurm.extraArguments, ["--qos=low"])
        XCTAssertEqual(try parse("dataset: x\nexecutor:\n  parallel: 3\n").parallel, 3)
        XCTAssertEqual(try parse("dataset: x\nexecutor:\n  time: 90\n").slurm.time, "90")

        func problem(_ yaml: String) -> String {
            do { _ = try parse(yaml); return "no error" } catch { return "\(error)".components(separatedBy: "p.yaml").last ?? "" }
        }
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  type: slurm\n  partiton: cpu\n"),
                       ":4: executor.partiton: unknown key (expected one of: type, parallel, partition, time, cpus, mem, array_parallelism, account, binary, sbatch_args)")
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  type: kubernetes\n"), ":3: executor.type: expected one of: local, slurm")
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  cpus: 0\n"), ":3: executor.cpus: 0 is out of range (expected 1...100000)")
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  type: slurm\n  time: 4h\n"),
                       ":4: executor.time: 4h is not a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)")
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  mem: lots\n"), ":3: executor.mem: lots is not a Slurm memory size (e.g. 16G, 4000M, 4000)")
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  parallel: two\n"), ":3: executor.parallel: expected an integer in 1...4096")
        XCTAssertEqual(problem("dataset: x\nexecutor:\n  sbatch_args: [qos]\n"),
                       ":3: executor.sbatch_args: expected a list of sbatch options, each starting with --")
    }

    // MARK: squeue and sacct

    /// Captured from Slurm 22.05 (`squeue --noheader --array --states=all --format=%i|%T|%r`)
    /// while a 4-task array ran two at a time with a dependent job, after `scancel 1_1`.
    static let squeueSample = """
        1_3|PENDING|JobArrayTaskLimit
        2|PENDING|Dependency
        1_0|RUNNING|None
        1_2|RUNNING|None
        1_1|CANCELLED|None
        7_[4-7%2]|PENDING|Priority

        """

    /// `sacct --allocations --parsable2 --noheader --format=JobID,State,ExitCode` on a cluster
    /// with accounting: ended tasks, a task cancelled by root, pending tasks grouped.
    static let sacctSample = """
        812_0|COMPLETED|0:0
        812_1|CANCELLED by 0|0:15
        812_2|FAILED|1:0
        812_[3-5]|PENDING|0:0
        812_6.batch|COMPLETED|0:0
        813|CANCELLED|0:0
        814|TIMEOUT|0:0
        """

    func testSqueueParsing() {
        let lines = SlurmQueue.parseSqueue(Self.squeueSample)
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines[0], SlurmJobState(jobID: "1_3", state: "PENDING", detail: "JobArrayTaskLimit"))
        XCTAssertEqual(lines[0].job, "1")
        XCTAssertEqual(lines[0].tasks, [3])
        XCTAssertEqual(lines[1].tasks, nil)
        XCTAssertEqual(lines[1].detail, "Dependency")
        XCTAssertNil(lines[2].detail)
        XCTAssertEqual(lines[5].tasks, [4, 5, 6, 7])
        XCTAssertEqual(SlurmQueue.state(of: "1", task: 1, in: lines)?.state, "CANCELLED")
        XCTAssertEqual(SlurmQueue.state(of: "7", task: 6, in: lines)?.state, "PENDING")
        XCTAssertEqual(SlurmQueue.state(of: "2", task: nil, in: lines)?.state, "PENDING")
        XCTAssertTrue(lines[0].isActive)
        XCTAssertFalse(lines[4].isActive)
    }

    func testSacctParsing() {
        let lines = SlurmQueue.parseSacct(Self.sacctSample)
        XCTAssertEqual(lines.map(\.jobID), ["812_0", "812_1", "812_2", "812_[3-5]", "813", "814"])
        XCTAssertEqual(lines.map(\.state), ["COMPLETED", "CANCELLED", "FAILED", "PENDING", "CANCELLED", "TIMEOUT"])
        XCTAssertEqual(lines[1].detail, "exit 0:15")
        XCTAssertEqual(lines[3].tasks, [3, 4, 5])
        XCTAssertEqual(SlurmQueue.state(of: "812", task: 4, in: lines)?.state, "PENDING")
        XCTAssertNil(SlurmQueue.state(of: "812", task: 9, in: lines))
        XCTAssertEqual(SlurmJobState(jobID: "9_[1,3,5-6]", state: "PENDING").tasks, [1, 3, 5, 6])
        XCTAssertEqual(SlurmQueue.sacctArguments(jobs: ["812", "813"]),
                       ["--allocations", "--parsable2", "--noheader", "--format=JobID,State,ExitCode", "--jobs=812,813"])
    }

    func testStatusTableJoinsCatalogProgressAndJobStates() {
        let jobs = SlurmJobs(submissions: [
            .init(number: 1, submittedAt: "t", command: "c", shardCount: 3, shards: [0, 1, 2], arrayJob: "812", datasetJob: "813",
                  arrayScript: "a", datasetScript: "d"),
            .init(number: 2, submittedAt: "t", command: "c", shardCount: 3, shards: [1], arrayJob: "820", datasetJob: "821",
                  arrayScript: "a", datasetScript: "d"),
        ])
        let progress = [ShardProgress(shard: 0, samples: 12, pending: 0, complete: true),
                        ShardProgress(shard: 1, samples: 9, pending: 14, complete: false),
                        ShardProgress(shard: 2, samples: 11, pending: 0, complete: true)]
        let states = SlurmQueue.parseSqueue("820_1|RUNNING|None\n821|PENDING|Dependency\n")
            + SlurmQueue.parseSacct(Self.sacctSample)
        let status = SlurmRunStatus.make(jobs: jobs, progress: progress, shardCount: 3, states: states)
        XCTAssertEqual(status.shards.map(\.job), ["812_0", "820_1", "812_2"])
        XCTAssertEqual(status.shards.map(\.state), ["COMPLETED", "RUNNING", "FAILED"])
        XCTAssertEqual(status.datasetJob, "821")
        XCTAssertEqual(status.table, """
            shard          samples    pending  complete  slurm job     state
            0/3                 12          0  yes       812_0         COMPLETED (exit 0:0)
            1/3                  9         14  no        820_1         RUNNING
            2/3                 11          0  yes       812_2         FAILED (exit 1:0)
            whole-dataset step                           821           PENDING (Dependency)

            """)
    }
}
