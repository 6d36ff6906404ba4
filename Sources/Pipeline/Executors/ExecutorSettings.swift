import Foundation
import Yams

/// Where the shard tasks of a run go: this machine (`local`, the default) or a Slurm job array.
public enum ExecutorKind: String, Sendable, CaseIterable {
    case local
    case slurm
}

/// The `executor:` section of a pipeline file, validated, with command-line options laid over it.
///
///     executor:
///       type: slurm            # or local
///       parallel: 4            # local: shard processes at once
///       partition: cpu         # slurm: sbatch --partition
///       time: "04:00:00"       # slurm: sbatch --time (minutes, or Slurm's [D-]HH:MM:SS forms)
///       cpus: 8                # slurm: --cpus-per-task (default: the pipeline's threads)
///       mem: 16G               # slurm: --mem
///       array_parallelism: 50  # slurm: at most this many shard tasks at once (--array=...%K)
///       account: vision        # slurm: --account
///       binary: /shared/bin/capfilt   # the capfilt every task runs (default: this one)
///       sbatch_args: ["--qos=low"]    # more #SBATCH lines, as given
public struct ExecutorSettings: Sendable, Equatable {
    public var kind: ExecutorKind = .local
    public var parallel: Int?
    public var slurm = SlurmOptions()

    public init() {}

    static let keys = ["type", "parallel", "partition", "time", "cpus", "mem", "array_parallelism", "account", "binary",
                       "sbatch_args"]

    /// Validates `definition.executor`; each problem names the file, the line and the key.
    public static func parse(_ executor: [String: ParameterValue], file: String) throws -> ExecutorSettings {
        let lines = executorLines(file: file)
        func fail(_ key: String, _ problem: String) -> PipelineError {
            PipelineError(file: file, line: lines[key] ?? lines[""], key: "executor.\(key)", problem)
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = executor[key] else { return nil }
            guard case .int(let i) = v else { throw fail(key, "expected an integer in \(range.lowerBound)...\(range.upperBound)") }
            guard range.contains(i) else { throw fail(key, "\(i) is out of range (expected \(range.lowerBound)...\(range.upperBound))") }
            return i
        }
        func word(_ key: String) throws -> String? {
            guard let v = executor[key] else { return nil }
            let text: String
            switch v {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            default: throw fail(key, "expected a word")
            }
            guard !text.isEmpty, !text.contains(where: \.isWhitespace) else { throw fail(key, "expected a word without spaces") }
            return text
        }

        var s = ExecutorSettings()
        for key in executor.keys.sorted() where !keys.contains(key) {
            throw fail(key, "unknown key (expected one of: \(keys.joined(separator: ", ")))")
        }
        if let t = executor["type"] {
            guard let name = t.stringValue, let kind = ExecutorKind(rawValue: name) else {
                throw fail("type", "expected one of: \(ExecutorKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            s.kind = kind
        }
        s.parallel = try int("parallel", 1...4096)
        s.slurm.cpus = try int("cpus", 1...100_000)
        s.slurm.arrayParallelism = try int("array_parallelism", 1...1_000_000)
        s.slurm.partition = try word("partition")
        s.slurm.account = try word("account")
        if let time = try word("time") {
            guard SlurmOptions.isValidTime(time) else {
                throw fail("time", "\(time) is not a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)")
            }
            s.slurm.time = time
        }
        if let mem = try word("mem") {
            guard SlurmOptions.isValidMemory(mem) else { throw fail("mem", "\(mem) is not a Slurm memory size (e.g. 16G, 4000M, 4000)") }
            s.slurm.mem = mem
        }
        if let b = executor["binary"] {
            guard let path = b.stringValue, !path.isEmpty else { throw fail("binary", "expected a path") }
            let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
            s.slurm.binary = ((path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)) as NSString).standardizingPath
        }
        if let a = executor["sbatch_args"] {
            guard case .list(let items) = a, let args = Optional(items.compactMap(\.stringValue)), args.count == items.count,
                  args.allSatisfy({ $0.hasPrefix("--") && !$0.contains("\n") })
            else { throw fail("sbatch_args", "expected a list of sbatch options, each starting with --") }
            s.slurm.extraArguments = args
        }
        return s
    }

    /// The line of `executor:` (key "") and of each key under it; the definition keeps only
    /// values, so the file is read again (it was just validated, so it parses).
    static func executorLines(file: String) -> [String: Int] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let root = try? Yams.compose(yaml: text)?.mapping,
              let entry = root.first(where: { $0.key.scalar?.string == "executor" })
        else { return [:] }
        var lines: [String: Int] = [:]
        lines[""] = entry.key.mark?.line
        for pair in entry.value.mapping ?? Node.Mapping([]) {
            if let k = pair.key.scalar?.string { lines[k] = pair.value.mark?.line ?? pair.key.mark?.line }
        }
        return lines
    }
}
