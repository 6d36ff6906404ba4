import Foundation

/// The two batch scripts of a scale-out run: a job array whose task I runs shard I's per-sample
/// stages, and the whole-dataset step that runs after every array task succeeded. The
/// dependency is given on the sbatch command line, since the array's job id is known only then.
public struct SlurmScript: Sendable, Equatable {
    /// Absolute path of the pipeline file (every node reads it at the same path).
    public var pipeline: String
    public var dataset: String
    public var binary: String
    public var shardCount: Int
    /// Where Slurm writes the tasks' output (must exist before submission).
    public var logFolder: String
    public var options: SlurmOptions
    /// Passed through to every task (`--only` / `--from`).
    public var stageArguments: [String] = []

    public init(pipeline: String, dataset: String, binary: String, shardCount: Int, logFolder: String, options: SlurmOptions,
                stageArguments: [String] = []) {
        self.pipeline = pipeline; self.dataset = dataset; self.binary = binary; self.shardCount = shardCount
        self.logFolder = logFolder; self.options = options; self.stageArguments = stageArguments
    }

    /// The job array over `shards` (0-based shard indices, which are also the task ids).
    public func shardArray(_ shards: [Int]) -> String {
        var array = Self.arraySpec(shards)
        if let k = options.arrayParallelism { array += "%\(k)" }
        return script(name: "capfilt-shards-\(Self.jobName(dataset))",
                      head: ["--array=\(array)", "--output=\(logFolder)/shard-%a-job-%A.log", "--open-mode=append"],
                      command: ["run", pipeline, "--shard", "${SLURM_ARRAY_TASK_ID}/\(shardCount)"])
    }

    /// The whole-dataset step: dedup, assemble, export, report over every shard catalog.
    public func datasetStep() -> String {
        script(name: "capfilt-dataset-\(Self.jobName(dataset))", head: ["--output=\(logFolder)/dataset-job-%j.log", "--open-mode=append"],
               command: ["run", pipeline, "--dataset-stages"])
    }

    private func script(name: String, head: [String], command: [String]) -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=\(name)"] + head.map { "#SBATCH " + $0 }
        if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
        if let a = options.account { lines.append("#SBATCH --account=\(a)") }
        if let t = options.time { lines.append("#SBATCH --time=\(t)") }
        if let c = options.cpus { lines.append("#SBATCH --cpus-per-task=\(c)") }
        if let m = options.mem { lines.append("#SBATCH --mem=\(m)") }
        lines += options.extraArguments.map { "#SBATCH " + $0 }
        lines.append("set -eu")
        let words = [Self.quote(binary)] + command.map { $0.hasPrefix("${") ? "\"\($0)\"" : Self.quote($0) }
            + stageArguments.map(Self.quote) + ["--plain"]
        lines.append("exec " + words.joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// Sorted indices as Slurm's compact list: [0, 1, 2, 5, 7, 8] -> "0-2,5,7-8".
    public static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var sorted = Array(Set(indices)).sorted()[...]
        while let first = sorted.first {
            var last = first
            sorted = sorted.dropFirst()
            while sorted.first == last + 1 { last += 1; sorted = sorted.dropFirst() }
            parts.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return parts.joined(separator: ",")
    }

    /// Job names keep to letters, digits, '.', '_' and '-'.
    static func jobName(_ dataset: String) -> String {
        String(dataset.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" })
    }

    /// Single-quoted for the shell unless it is plainly safe.
    static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-=:+,%@".contains($0)) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
