import Foundation

/// One line of `squeue` or `sacct`: a job, an array task, or a group of pending array tasks.
public struct SlurmJobState: Sendable, Equatable, Codable {
    /// As Slurm prints it: "812", "812_3", "812_[4-7%2]".
    public var jobID: String
    /// The job id without the array part.
    public var job: String
    /// The array task ids the line stands for (nil: not an array task).
    public var tasks: [Int]?
    /// RUNNING, PENDING, COMPLETED, FAILED, CANCELLED, TIMEOUT, PREEMPTED, OUT_OF_MEMORY, ...
    public var state: String
    /// squeue's reason (e.g. Dependency, Priority) or sacct's exit code, when given.
    public var detail: String?

    public init(jobID: String, state: String, detail: String? = nil) {
        self.jobID = jobID
        self.state = state
        self.detail = detail
        if let underscore = jobID.firstIndex(of: "_") {
            job = String(jobID[..<underscore])
            tasks = Self.taskList(jobID[jobID.index(after: underscore)...])
        } else {
            job = jobID
            tasks = nil
        }
    }

    /// Pending or running: its shards must not be submitted again.
    public var isActive: Bool {
        ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED",
         "STAGE_OUT", "SIGNALING", "STOPPED", "RESV_DEL_HOLD"].contains(state)
    }

    /// "3", "[4-7%2]", "[1,3,5-6]" -> the ids.
    static func taskList(_ text: Substring) -> [Int]? {
        var body = text
        if body.hasPrefix("[") && body.hasSuffix("]") { body = body.dropFirst().dropLast() }
        if let percent = body.firstIndex(of: "%") { body = body[..<percent] }
        var ids: [Int] = []
        for part in body.split(separator: ",") {
            let bounds = part.split(separator: "-")
            guard let lo = bounds.first.flatMap({ Int($0) }) else { return nil }
            let hi = bounds.count == 2 ? Int(bounds[1]) : lo
            guard let hi, bounds.count <= 2, hi >= lo else { return nil }
            ids += Array(lo...hi)
        }
        return ids.isEmpty ? nil : ids
    }
}

/// Reads job states from Slurm's client commands. squeue knows pending, running and recently
/// ended jobs (`--states=all`, for MinJobAge seconds); sacct knows ended jobs for as long as the
/// accounting database keeps them, where the cluster has one.
public enum SlurmQueue {
    /// The squeue arguments whose output `parseSqueue` reads.
    public static func squeueArguments(jobs: [String]) -> [String] {
        ["--noheader", "--array", "--states=all", "--format=%i|%T|%r"] + (jobs.isEmpty ? [] : ["--jobs=" + jobs.joined(separator: ",")])
    }

    /// The sacct arguments whose output `parseSacct` reads.
    public static func sacctArguments(jobs: [String]) -> [String] {
        ["--allocations", "--parsable2", "--noheader", "--format=JobID,State,ExitCode", "--jobs=" + jobs.joined(separator: ",")]
    }

    /// `squeue --noheader --array --format=%i|%T|%r` lines: `812_3|RUNNING|None`.
    public static func parseSqueue(_ text: String) -> [SlurmJobState] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 2, !f[0].isEmpty, !f[1].isEmpty else { return nil }
            let reason = f.count > 2 && f[2] != "None" && !f[2].isEmpty ? f[2] : nil
            return SlurmJobState(jobID: f[0], state: f[1], detail: reason)
        }
    }

    /// `sacct --parsable2 --noheader --format=JobID,State,ExitCode` lines: `812_3|CANCELLED by 0|0:15`.
    /// Job steps (`812_3.batch`) are skipped.
    public static func parseSacct(_ text: String) -> [SlurmJobState] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 2, !f[0].isEmpty, !f[0].contains("."), let state = f[1].split(separator: " ").first else { return nil }
            return SlurmJobState(jobID: f[0], state: String(state), detail: f.count > 2 && !f[2].isEmpty ? "exit \(f[2])" : nil)
        }
    }

    /// The state of array task `task` of `job` (or of the job itself when `task` is nil); squeue's
    /// view wins over sacct's, as it is the live one.
    public static func state(of job: String, task: Int?, in lines: [SlurmJobState]) -> SlurmJobState? {
        lines.first { $0.job == job && (task == nil ? $0.tasks == nil : $0.tasks?.contains(task!) == true) }
            ?? (task == nil ? nil : lines.first { $0.job == job && $0.tasks == nil })
    }

    /// Asks squeue, then sacct, about `jobs`; a command that is missing or fails adds nothing.
    public static func query(jobs: [String], tools: SlurmTools = SlurmTools()) -> [SlurmJobState] {
        guard !jobs.isEmpty else { return [] }
        var lines: [SlurmJobState] = []
        if let out = try? tools.run("squeue", squeueArguments(jobs: jobs)), out.status == 0 {
            lines += parseSqueue(out.stdout)
        } else if let out = try? tools.run("squeue", squeueArguments(jobs: [])), out.status == 0 {
            // An id squeue no longer knows fails the whole query; ask for everything instead.
            lines += parseSqueue(out.stdout).filter { jobs.contains($0.job) }
        }
        if let out = try? tools.run("sacct", sacctArguments(jobs: jobs)), out.status == 0 {
            let live = Set(lines.map(\.jobID))
            lines += parseSacct(out.stdout).filter { !live.contains($0.jobID) }
        }
        return lines
    }
}
