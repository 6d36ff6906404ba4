import Foundation

/// `<workdir>/slurm/jobs.json`: every submission of a scale-out run, so that a resubmission and
/// `capfilt status` know which Slurm jobs hold which shards.
public struct SlurmJobs: Codable, Sendable, Equatable {
    public struct Submission: Codable, Sendable, Equatable {
        public var number: Int
        public var submittedAt: String
        public var command: String
        public var shardCount: Int
        /// The shards of the job array (its task ids); empty when every shard was complete.
        public var shards: [Int]
        public var arrayJob: String?
        /// nil when its submission failed after the array's.
        public var datasetJob: String?
        public var arrayScript: String?
        public var datasetScript: String

        public init(number: Int, submittedAt: String, command: String, shardCount: Int, shards: [Int], arrayJob: String?,
                    datasetJob: String?, arrayScript: String?, datasetScript: String) {
            self.number = number; self.submittedAt = submittedAt; self.command = command; self.shardCount = shardCount
            self.shards = shards; self.arrayJob = arrayJob; self.datasetJob = datasetJob
            self.arrayScript = arrayScript; self.datasetScript = datasetScript
        }
    }

    public var submissions: [Submission] = []

    public init(submissions: [Submission] = []) { self.submissions = submissions }

    public static func folder(workdir: String) -> String { workdir + "/slurm" }
    public static func path(workdir: String) -> String { folder(workdir: workdir) + "/jobs.json" }

    /// nil when the workdir has never been submitted to Slurm.
    public static func load(workdir: String) throws -> SlurmJobs? {
        let path = path(workdir: workdir)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONDecoder().decode(SlurmJobs.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public func save(workdir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: Self.folder(workdir: workdir), withIntermediateDirectories: true)
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(workdir: workdir)), options: .atomic)
    }

    /// The array job that last held `shard` (for the current shard count), with its task id.
    public func lastTask(shard: Int, shardCount: Int) -> (job: String, task: Int)? {
        for s in submissions.reversed() where s.shardCount == shardCount && s.shards.contains(shard) {
            if let job = s.arrayJob { return (job, shard) }
        }
        return nil
    }

    /// Every job id recorded for the current shard count.
    public func jobIDs(shardCount: Int) -> [String] {
        submissions.filter { $0.shardCount == shardCount }.flatMap { [$0.arrayJob, $0.datasetJob].compactMap { $0 } }
    }
}
