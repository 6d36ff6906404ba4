import Foundation

/// Per shard: its progress (from its catalog) and the Slurm task that last held it (from
/// `<workdir>/slurm/jobs.json`, with squeue's or sacct's state); what `capfilt status` adds for a
/// run submitted to Slurm.
public struct SlurmRunStatus: Codable, Sendable, Equatable {
    public struct Shard: Codable, Sendable, Equatable {
        public var shard: String
        public var samples: Int
        public var pending: Int
        public var complete: Bool
        /// "812_3": array job 812, task 3.
        public var job: String?
        public var state: String?
        public var detail: String?
    }

    public var submissions: Int
    public var shards: [Shard]
    public var datasetJob: String?
    public var datasetState: String?
    public var datasetDetail: String?

    /// nil when the workdir was never submitted to Slurm.
    public static func make(runner: PipelineRunner, status: PipelineStatus, tools: SlurmTools = SlurmTools()) throws -> SlurmRunStatus? {
        let n = runner.pipeline.shards
        guard let jobs = try SlurmJobs.load(workdir: runner.pipeline.workdir) else { return nil }
        let states = SlurmQueue.query(jobs: jobs.jobIDs(shardCount: n), tools: tools)
        return make(jobs: jobs, progress: try runner.shardProgress(status), shardCount: n, states: states)
    }

    public static func make(jobs: SlurmJobs, progress: [ShardProgress], shardCount n: Int, states: [SlurmJobState]) -> SlurmRunStatus {
        let shards = progress.map { p -> Shard in
            var s = Shard(shard: "\(p.shard)/\(n)", samples: p.samples, pending: p.pending, complete: p.complete)
            if let (job, task) = jobs.lastTask(shard: p.shard, shardCount: n) {
                s.job = "\(job)_\(task)"
                let state = SlurmQueue.state(of: job, task: task, in: states)
                s.state = state?.state ?? "unknown"
                s.detail = state?.detail
            }
            return s
        }
        var out = SlurmRunStatus(submissions: jobs.submissions.count, shards: shards)
        if let dataset = jobs.submissions.last(where: { $0.shardCount == n })?.datasetJob {
            out.datasetJob = dataset
            let state = SlurmQueue.state(of: dataset, task: nil, in: states)
            out.datasetState = state?.state ?? "unknown"
            out.datasetDetail = state?.detail
        }
        return out
    }

    /// The table `capfilt status` prints.
    public var table: String {
        var lines = ["shard          samples    pending  complete  slurm job     state"]
        func pad(_ s: String, _ w: Int) -> String { s.padding(toLength: max(w, s.count), withPad: " ", startingAt: 0) }
        func right(_ n: Int, _ w: Int) -> String { let s = String(n); return String(repeating: " ", count: max(0, w - s.count)) + s }
        for s in shards {
            let state = s.state.map { $0 + (s.detail.map { " (\($0))" } ?? "") } ?? "-"
            lines.append(pad(s.shard, 12) + right(s.samples, 10) + right(s.pending, 11) + "  " + pad(s.complete ? "yes" : "no", 8)
                         + "  " + pad(s.job ?? "-", 12) + "  " + state)
        }
        if let job = datasetJob {
            let state = (datasetState ?? "unknown") + (datasetDetail.map { " (\($0))" } ?? "")
            lines.append(pad("whole-dataset step", 43) + "  " + pad(job, 12) + "  " + state)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
