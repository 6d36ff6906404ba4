import Basics
import Foundation
import Logging

/// How `capfilt run` runs a whole pipeline: here, as local child processes (one per shard, then
/// the whole-dataset stages here), or as a Slurm job array and a job that depends on it. The
/// command parses its flags into `Options`; what stays with the command line (running a task in
/// this process, its messages, its signal handling) comes in as a `Host`.
public struct ExecutorLaunch {
    /// The command line's choices; nil: the file's `executor:` (or the default) decides.
    public struct Options: Sendable {
        public var executor: ExecutorKind?
        /// local: shard processes at once.
        public var parallel: Int?
        /// slurm: the options given on the command line, over the file's; `binary` is the
        /// binary every task runs, for either executor.
        public var slurm = SlurmOptions()
        public var dryRun = false
        /// The pipeline file as given.
        public var pipeline: String
        /// What every task passes on: the stage selection and the log format.
        public var stageArguments: [String] = []
        /// The command line, recorded with a Slurm submission.
        public var command: String = ""

        public init(pipeline: String) { self.pipeline = pipeline }
    }

    /// What the command provides.
    public struct Host {
        /// Runs the pipeline in this process, every shard in turn (`datasetOnly`: only the
        /// whole-dataset stages).
        public var runHere: (_ datasetOnly: Bool) throws -> Void
        /// Writes text to standard output as it is.
        public var output: (String) -> Void
        /// A line on standard error (or in the log).
        public var note: (String) -> Void
        /// Arranges for SIGINT / SIGTERM to call the closure, until disarmed.
        public var afterWorkInFlight: (@escaping @Sendable () -> Void) -> SignalCancellation

        public init(runHere: @escaping (_ datasetOnly: Bool) throws -> Void, output: @escaping (String) -> Void,
                    note: @escaping (String) -> Void,
                    afterWorkInFlight: @escaping (@escaping @Sendable () -> Void) -> SignalCancellation) {
            self.runHere = runHere; self.output = output; self.note = note; self.afterWorkInFlight = afterWorkInFlight
        }
    }

    /// How a launch ended when it did not fail.
    public enum Outcome: Sendable, Equatable {
        case finished
        /// A signal stopped the shard tasks; running the same command again continues.
        case interrupted
    }

    /// Why a launch failed: the message and the exit status the command ends with.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var exitCode: Int32
        public init(_ message: String, exitCode: Int32) { self.message = message; self.exitCode = exitCode }
        public var description: String { message }
    }

    public let definition: PipelineDefinition
    public let settings: ExecutorSettings
    public let options: Options

    public init(definition: PipelineDefinition, settings: ExecutorSettings, options: Options) {
        self.definition = definition; self.settings = settings; self.options = options
    }

    /// Runs the pipeline with the executor the options (or else the file) name; without either,
    /// here, unless --parallel or --dry-run ask for the local executor. Throws `Failure`.
    public func run(_ host: Host) throws -> Outcome {
        let kind = options.executor ?? (definition.executor.isEmpty ? nil : settings.kind)
        switch kind {
        case .slurm:
            try submitToSlurm(host)
            return .finished
        case .local:
            return try runLocally(host)
        case nil:
            if options.parallel != nil || options.dryRun {
                return try runLocally(host)
            }
            try host.runHere(false)
            return .finished
        }
    }

    // MARK: local executor

    private func runLocally(_ host: Host) throws -> Outcome {
        let n = definition.shards
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let k = min(n, options.parallel ?? settings.parallel ?? max(1, cores / max(1, definition.threads)))
        let tasks = LocalExecutor(binary: try taskBinary(), pipeline: absolutePipelinePath, shardCount: n, parallel: k,
                                  arguments: options.stageArguments + ["--plain"])
        if options.dryRun {
            host.output("# \(n) shard task\(n == 1 ? "" : "s"), \(k) at a time, then the whole-dataset stages\n")
            for i in 0..<n {
                host.output(([tasks.binary] + ["run", tasks.pipeline, "--shard", "\(i)/\(n)"] + tasks.arguments).joined(separator: " ") + "\n")
            }
            host.output(([tasks.binary, "run", tasks.pipeline, "--dataset-stages"] + tasks.arguments).joined(separator: " ") + "\n")
            return .finished
        }
        // One process at a time gains nothing from children: run the shards here, in order.
        if k <= 1 {
            try host.runHere(false)
            return .finished
        }
        do { try PipelineRunner(pipeline: definition).warmDigestCache() } catch let e as PipelineError {
            throw Failure("\(e)", exitCode: 2)
        }
        host.note("running \(n) shards as child processes, \(k) at a time")
        let interrupts = host.afterWorkInFlight { tasks.stop() }
        let statuses: [Int: Int32]
        do { statuses = try tasks.run(Array(0..<n)) } catch {
            interrupts.disarm()
            throw Failure("cannot start \(tasks.binary): \(error)", exitCode: 1)
        }
        interrupts.disarm()
        let failed = statuses.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if statuses.count < n || failed.contains(where: { $0.value == 130 }) {
            return .interrupted
        }
        if !failed.isEmpty {
            throw Failure("shard task\(failed.count == 1 ? "" : "s") failed: " + failed.map { "\($0.key)/\(n) (exit \($0.value))" }.joined(separator: ", ")
                          + "; run the same command again to continue", exitCode: 1)
        }
        try host.runHere(true)
        return .finished
    }

    // MARK: Slurm executor

    private func submitToSlurm(_ host: Host) throws {
        var slurm = settings.slurm.overlaid(with: options.slurm)
        slurm.cpus = slurm.cpus ?? definition.threads
        let logs = SlurmJobs.folder(workdir: definition.workdir) + "/logs"
        if logs.contains(where: \.isWhitespace) {
            throw Failure("the workdir \(definition.workdir) contains a space, which #SBATCH --output cannot hold; choose another workdir", exitCode: 2)
        }
        let script = SlurmScript(pipeline: absolutePipelinePath, dataset: definition.dataset, binary: try taskBinary(),
                                 shardCount: definition.shards, logFolder: logs, options: slurm, stageArguments: options.stageArguments)
        let submitter = SlurmSubmitter(runner: PipelineRunner(pipeline: definition, logger: Logger(label: "capfilt")), script: script,
                                       command: options.command)
        do {
            // Before anything is written: planning a submission fills the workdir's digest cache.
            if !options.dryRun { try submitter.checkTools() }
            let plan = try submitter.plan(warmCache: !options.dryRun)
            if options.dryRun {
                host.output(submitter.describe(plan))
                return
            }
            guard let submission = try submitter.submit(plan) else {
                host.output("every shard is complete and the whole-dataset stages are up to date: nothing to submit\n")
                return
            }
            if let array = submission.arrayJob {
                host.output("submitted shard\(plan.shards.count == 1 ? "" : "s") \(SlurmScript.arraySpec(plan.shards)) of \(definition.shards) as job array \(array)\n")
            } else {
                host.output("every shard is complete\n")
            }
            if let dataset = submission.datasetJob {
                host.output("submitted the whole-dataset stages as job \(dataset)" + (submission.arrayJob.map { " (after \($0) succeeds)" } ?? "") + "\n")
            }
            host.output("follow with: capfilt status \(options.pipeline)\n")
        } catch let e as PipelineError {
            throw Failure("\(e)", exitCode: 2)
        } catch let e as SlurmSubmitter.SubmissionError {
            throw Failure(e.description, exitCode: 1)
        }
    }

    // MARK: helpers

    private var absolutePipelinePath: String {
        URL(fileURLWithPath: options.pipeline).standardizedFileURL.path
    }

    /// The binary the tasks run: --binary, else the file's `binary:`, else this one.
    private func taskBinary() throws -> String {
        let path = options.slurm.binary.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? settings.slurm.binary ?? LocalExecutor.currentBinary
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Failure("\(path) is not an executable capfilt binary", exitCode: 2) }
        return path
    }
}
