import Foundation

/// A scale-out run handed to Slurm: a job array over the shards that are not complete, then the
/// whole-dataset step, which depends on the array (`afterok`). Running it again after failures or
/// preemption submits only what is still missing, since each shard's catalog knows what it did.
public struct SlurmSubmitter {
    public let runner: PipelineRunner
    public let script: SlurmScript
    public let tools: SlurmTools
    /// The command line, recorded with each submission.
    public let command: String

    public init(runner: PipelineRunner, script: SlurmScript, tools: SlurmTools = SlurmTools(), command: String) {
        self.runner = runner; self.script = script; self.tools = tools; self.command = command
    }

    /// What a submission would do.
    public struct Plan: Sendable {
        public var number: Int
        /// Shards to run, as array task ids.
        public var shards: [Int]
        public var arrayScript: String?
        public var arrayScriptPath: String?
        public var datasetScript: String?
        public var datasetScriptPath: String
        /// Dataset steps of earlier submissions still waiting on arrays they no longer need.
        public var staleDatasetJobs: [String]
        public var nothingToDo: Bool { arrayScript == nil && datasetScript == nil }
    }

    public struct SubmissionError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Fails when a Slurm command a submission runs is not on the PATH. Call it before `plan`:
    /// planning a real submission writes the model digests into the workdir, and `submit` writes
    /// the scripts, so a machine without Slurm would otherwise be left with both and a raw
    /// `/usr/bin/env` error.
    public func checkTools() throws {
        let missing = tools.missing()
        guard !missing.isEmpty else { return }
        let path = tools.searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        throw SubmissionError(description: "cannot submit to Slurm: \(missing.joined(separator: ", ")) "
            + "\(missing.count == 1 ? "is" : "are") not on the PATH (\(path.isEmpty ? "empty" : path)); "
            + "run this where Slurm's client commands are installed (a login node), or use --executor local. Nothing was written.")
    }

    var workdir: String { runner.pipeline.workdir }
    var shardCount: Int { runner.pipeline.shards }

    /// `warmCache`: compute the model digests into the workdir's cache first (off for a dry run,
    /// which writes nothing).
    public func plan(warmCache: Bool = true) throws -> Plan {
        let jobs = try SlurmJobs.load(workdir: workdir) ?? SlurmJobs()
        let states = SlurmQueue.query(jobs: jobs.jobIDs(shardCount: shardCount), tools: tools)
        // A shard still queued or running must not run twice (its catalog lock would fail the
        // second task, and with it the new dataset step).
        var busy: [String] = []
        for shard in 0..<shardCount {
            guard let (job, task) = jobs.lastTask(shard: shard, shardCount: shardCount),
                  let s = SlurmQueue.state(of: job, task: task, in: states), s.isActive else { continue }
            busy.append("shard \(shard) (\(job)_\(task) \(s.state))")
        }
        var stale: [String] = []
        for submission in jobs.submissions where submission.shardCount == shardCount {
            guard let job = submission.datasetJob, let s = SlurmQueue.state(of: job, task: nil, in: states), s.isActive else { continue }
            if s.state == "PENDING" { stale.append(job) } else { busy.append("the whole-dataset step (\(job) \(s.state))") }
        }
        if !busy.isEmpty {
            throw SubmissionError(description: "still in Slurm: \(busy.joined(separator: ", ")); wait for them or scancel them, then run this again")
        }

        if warmCache { try runner.warmDigestCache() }
        let status = try runner.status()
        let shards = try runner.shardProgress(status).filter { !$0.complete }.map(\.shard)
        let number = (jobs.submissions.map(\.number).max() ?? 0) + 1
        let prefix = SlurmJobs.folder(workdir: workdir) + String(format: "/submit-%03d-", number)
        var plan = Plan(number: number, shards: shards, arrayScript: nil, arrayScriptPath: nil, datasetScript: nil,
                        datasetScriptPath: prefix + "dataset.sbatch", staleDatasetJobs: stale)
        if !shards.isEmpty {
            plan.arrayScript = script.shardArray(shards)
            plan.arrayScriptPath = prefix + "shards.sbatch"
        }
        if !shards.isEmpty || !runner.datasetStagesUpToDate(status) {
            plan.datasetScript = script.datasetStep()
        }
        return plan
    }

    /// The scripts and the sbatch commands, as `--dry-run` prints them.
    public func describe(_ plan: Plan) -> String {
        if plan.nothingToDo { return "# every shard is complete and the whole-dataset stages are up to date: nothing to submit\n" }
        var out = ""
        if let array = plan.arrayScript, let path = plan.arrayScriptPath {
            out += "# \(plan.shards.count) of \(shardCount) shard\(shardCount == 1 ? "" : "s") to run: \(SlurmScript.arraySpec(plan.shards))\n"
            out += "# \(path)\n" + array
        } else {
            out += "# every shard is complete\n"
        }
        if let dataset = plan.datasetScript {
            out += "# \(plan.datasetScriptPath)\n" + dataset
        }
        for job in plan.staleDatasetJobs { out += "scancel \(job)\n" }
        if let path = plan.arrayScriptPath { out += "sbatch --parsable \(path)\n" }
        if plan.datasetScript != nil {
            out += "sbatch --parsable " + (plan.arrayScript != nil ? "--dependency=afterok:<array job> --kill-on-invalid-dep=yes " : "")
                + plan.datasetScriptPath + "\n"
        }
        return out
    }

    /// Writes the scripts under `<workdir>/slurm/`, submits them and records the job ids.
    public func submit(_ plan: Plan) throws -> SlurmJobs.Submission? {
        guard !plan.nothingToDo else { return nil }
        try checkTools()
        let fm = FileManager.default
        // Slurm does not create the folder of --output; a missing one loses the task's log.
        try fm.createDirectory(atPath: script.logFolder, withIntermediateDirectories: true)
        for job in plan.staleDatasetJobs { _ = try? tools.run("scancel", [job]) }
        var jobs = try SlurmJobs.load(workdir: workdir) ?? SlurmJobs()
        var submission = SlurmJobs.Submission(
            number: plan.number, submittedAt: ISO8601DateFormatter().string(from: Date()), command: command, shardCount: shardCount,
            shards: plan.shards, arrayJob: nil, datasetJob: nil, arrayScript: plan.arrayScriptPath, datasetScript: plan.datasetScriptPath)
        if let array = plan.arrayScript, let path = plan.arrayScriptPath {
            try array.write(toFile: path, atomically: true, encoding: .utf8)
            submission.arrayJob = try sbatch(["--parsable", path])
        }
        if let dataset = plan.datasetScript {
            try dataset.write(toFile: plan.datasetScriptPath, atomically: true, encoding: .utf8)
            var args = ["--parsable"]
            if let array = submission.arrayJob { args += ["--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes"] }
            do {
                submission.datasetJob = try sbatch(args + [plan.datasetScriptPath])
            } catch {
                // The array is queued: keep its id so status and the next resubmission see it.
                jobs.submissions.append(submission)
                try jobs.save(workdir: workdir)
                throw error
            }
        }
        jobs.submissions.append(submission)
        try jobs.save(workdir: workdir)
        return submission
    }

    /// `sbatch --parsable` prints `jobid` or `jobid;cluster`.
    private func sbatch(_ arguments: [String]) throws -> String {
        let out: SlurmTools.Output
        do { out = try tools.run("sbatch", arguments) } catch {
            throw SubmissionError(description: "cannot run sbatch (\(error)); is Slurm installed and on the PATH?")
        }
        let id = out.stdout.split(whereSeparator: \.isNewline).first.map { String($0.split(separator: ";").first ?? "") } ?? ""
        guard out.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            let problem = out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SubmissionError(description: "sbatch \(arguments.joined(separator: " ")) failed (exit \(out.status)): \(problem.isEmpty ? out.stdout : problem)")
        }
        return id
    }
}
