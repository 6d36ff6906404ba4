import ArgumentParser
import Basics
import Dispatch
import Foundation
import Logging
import Pipeline
import Stages

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options every pipeline command shares.
struct PipelineOptions: ParsableArguments {
    @Argument(help: "The pipeline file (pipelines/*.yaml).") var pipeline: String

    /// Loads and validates the whole file; a problem is one line `file:line: key: problem`.
    func load() throws -> PipelineDefinition {
        do {
            return try PipelineLoader(registry: StandardStages.registry).load(path: pipeline)
        } catch let e as PipelineError {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline (resumable: run it again to continue after any stop).",
        discussion: """
            Every stage records what it finished in the shard catalogs under the pipeline's \
            workdir. Running again skips finished work; changing a stage's parameters or model \
            recomputes that stage and everything downstream of it. See docs/pipeline.md.

            With --executor local (and --parallel K > 1) the shards run as K child processes; with \
            --executor slurm they are submitted as a Slurm job array and the whole-dataset stages \
            as a job that depends on it. Both can also be set under `executor:` in the file. \
            See docs/scale-out.md.
            """)

    @OptionGroup var options: PipelineOptions
    @Option(help: "Run only this stage.") var only: String?
    @Option(help: "Run this stage and everything downstream of it.") var from: String?
    @Option(help: "Run the per-sample stages of shard I of N (0-based), e.g. 3/8.") var shard: String?
    @Flag(name: .customLong("dataset-stages"), help: "Run only the whole-dataset stages (dedup, assemble, export, report).")
    var datasetStages = false
    @Flag(help: "Plain log lines even on a terminal.") var plain = false
    @Option(name: .customLong("log-format"),
            help: "text (swift-log's lines, the default) or json (one object a line: time, level, stage, message, label, metadata; no live progress line). Also CAPFILT_LOG_FORMAT.")
    var logFormat: String?

    @Option(help: "Where the shard tasks run: local (this machine, the default) or slurm.") var executor: String?
    @Option(help: "The number of shards; must equal the file's `shards:` (shard folders are named for it).") var shards: Int?
    @Option(help: "local: shard processes at once (default: cores / threads, at most N).") var parallel: Int?
    @Option(help: "slurm: the partition.") var partition: String?
    @Option(help: "slurm: the time limit per task (e.g. 04:00:00).") var time: String?
    @Option(help: "slurm: CPUs per task (default: the pipeline's threads).") var cpus: Int?
    @Option(help: "slurm: memory per task (e.g. 16G).") var mem: String?
    @Option(name: .customLong("array-parallelism"), help: "slurm: at most this many shard tasks at once.")
    var arrayParallelism: Int?
    @Option(help: "slurm: the account to charge.") var account: String?
    @Option(help: "The capfilt binary the tasks run (default: this one; for Slurm it must be on a shared filesystem).")
    var binary: String?
    @Flag(name: .customLong("dry-run"), help: "Print the scripts (slurm) or task commands (local) without running them.")
    var dryRun = false

    private var executorOptionsGiven: Bool {
        executor != nil || shards != nil || parallel != nil || partition != nil || time != nil || cpus != nil || mem != nil
            || arrayParallelism != nil || account != nil || binary != nil || dryRun
    }

    /// --log-format, else CAPFILT_LOG_FORMAT, else text.
    private var chosenLogFormat: LogFormat? {
        if let logFormat { return LogFormat(rawValue: logFormat) }
        guard let value = ProcessInfo.processInfo.environment[LogFormat.environmentVariable], !value.isEmpty else { return .text }
        return LogFormat(rawValue: value)
    }

    func validate() throws {
        if chosenLogFormat == nil {
            throw ValidationError(logFormat != nil ? "--log-format must be text or json"
                                                   : "\(LogFormat.environmentVariable) must be text or json")
        }
        if only != nil && from != nil { throw ValidationError("give --only or --from, not both") }
        if let shard, ShardSpec(shard) == nil { throw ValidationError("--shard must be I/N with 0 <= I < N") }
        if (shard != nil || datasetStages) && executorOptionsGiven {
            throw ValidationError("--shard and --dataset-stages run one task here; they take no executor options")
        }
        if let executor, ExecutorKind(rawValue: executor) == nil { throw ValidationError("--executor must be local or slurm") }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if let cpus, cpus < 1 { throw ValidationError("--cpus must be at least 1") }
        if let arrayParallelism, arrayParallelism < 1 { throw ValidationError("--array-parallelism must be at least 1") }
        if let time, !SlurmOptions.isValidTime(time) { throw ValidationError("--time \(time) is not a Slurm time limit (e.g. 90, 04:00:00, 1-12:00:00)") }
        if let mem, !SlurmOptions.isValidMemory(mem) { throw ValidationError("--mem \(mem) is not a Slurm memory size (e.g. 16G)") }
        for (name, value) in [("--partition", partition), ("--account", account)] {
            if let value, value.isEmpty || value.contains(where: \.isWhitespace) { throw ValidationError("\(name) must be one word") }
        }
    }

    func run() throws {
        bootstrapLogging()
        let definition: PipelineDefinition
        do { definition = try PipelineLoader(registry: StandardStages.registry).load(path: options.pipeline) } catch let e as PipelineError {
            fail("\(e)", code: 2)
        }
        let settings: ExecutorSettings
        do { settings = try ExecutorSettings.parse(definition.executor, file: definition.file) } catch let e as PipelineError {
            fail("\(e)", code: 2)
        }
        let shardSpec = shard.flatMap(ShardSpec.init)
        if let s = shardSpec, s.count != definition.shards {
            fail("--shard \(s) does not match `shards: \(definition.shards)` in \(definition.file)", code: 2)
        }
        if let shards, shards != definition.shards {
            fail("--shards \(shards) does not match `shards: \(definition.shards)` in \(definition.file); shard folders are named for N, "
                 + "so change `shards:` in the file (best with a new workdir) to split the data differently", code: 2)
        }
        // A shard task or the dataset step always runs here: it is what the executors start.
        if shardSpec != nil || datasetStages {
            try runHere(definition, shard: shardSpec)
            return
        }
        var launch = ExecutorLaunch.Options(pipeline: options.pipeline)
        launch.executor = executor.flatMap(ExecutorKind.init)
        launch.parallel = parallel
        launch.slurm.partition = partition; launch.slurm.time = time; launch.slurm.cpus = cpus; launch.slurm.mem = mem
        launch.slurm.arrayParallelism = arrayParallelism; launch.slurm.account = account; launch.slurm.binary = binary
        launch.dryRun = dryRun
        launch.stageArguments = stageArguments
        launch.command = CommandLine.arguments.joined(separator: " ")
        let host = ExecutorLaunch.Host(
            runHere: { datasetOnly in try runHere(definition, shard: nil, datasetOnly: datasetOnly) },
            output: { print($0, terminator: "") }, note: { note($0) }, afterWorkInFlight: { afterWorkInFlight($0) })
        let outcome: ExecutorLaunch.Outcome
        do {
            outcome = try ExecutorLaunch(definition: definition, settings: settings, options: launch).run(host)
        } catch let e as ExecutorLaunch.Failure {
            fail(e.message, code: e.exitCode)
        }
        if outcome == .interrupted {
            note("interrupted; run the same command again to continue")
            throw ExitCode(130)
        }
    }

    // MARK: in this process (the original behaviour)

    private func runHere(_ definition: PipelineDefinition, shard shardSpec: ShardSpec?, datasetOnly: Bool? = nil) throws {
        let runner = PipelineRunner(pipeline: definition, logger: Logger(label: "capfilt"))
        var runOptions = RunOptions(shard: shardSpec, only: only, from: from)
        runOptions.datasetOnly = datasetOnly ?? datasetStages
        runOptions.command = CommandLine.arguments.joined(separator: " ")
        runOptions.interactive = !plain && chosenLogFormat == .text && isatty(STDERR_FILENO) == 1
        let cancellation = runner.cancellation
        let interrupts = afterWorkInFlight { cancellation.cancel() }
        defer { interrupts.disarm() }
        let summary: RunSummary
        do {
            summary = try runner.run(runOptions)
        } catch let e as PipelineError {
            fail("\(e)", code: 2)
        } catch {
            fail("\(error)", code: 1)
        }
        if summary.cancelled {
            note("interrupted; run the same command again to continue")
            throw ExitCode(130)
        }
        let ran = summary.ranStages
        note("done: \(ran.isEmpty ? "everything was up to date" : "ran " + ran.joined(separator: ", "))")
        let report = definition.workdir + "/report/report.html"
        if ran.contains(where: { definition.stage($0)?.type.name == "report" }) {
            print("report: \(report)")
        }
    }

    // MARK: helpers

    /// What every task passes on: the stage selection, and the log format when it was given here.
    private var stageArguments: [String] {
        (only.map { ["--only", $0] } ?? []) + (from.map { ["--from", $0] } ?? []) + (logFormat.map { ["--log-format", $0] } ?? [])
    }

    private func bootstrapLogging() {
        let format = chosenLogFormat ?? .text
        LoggingSystem.bootstrap { label in CapfiltLogHandler(label: label, format: format) }
    }

    /// A line on standard error: as it is, or a JSON log line with --log-format json.
    private func note(_ message: String) {
        if chosenLogFormat == .json { Logger(label: "capfilt").info("\(message)") } else {
            FileHandle.standardError.write(Data("\(message)\n".utf8))
        }
    }

    /// SIGINT / SIGTERM ask the run to stop after the batches in flight; a second signal kills.
    private func afterWorkInFlight(_ onSignal: @escaping @Sendable () -> Void) -> SignalCancellation {
        guard chosenLogFormat == .json else { return SignalCancellation.afterWorkInFlight(onSignal) }
        return SignalCancellation(message: nil, second: .defaultAction) {
            Logger(label: "capfilt").notice("stopping after the work in flight (again to abort)")
            onSignal()
        }
    }

    private func fail(_ message: String, code: Int32) -> Never {
        if chosenLogFormat == .json { Logger(label: "capfilt").error("\(message)") } else {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        }
        Capfilt.exit(withError: ExitCode(code))
    }
}

extension SignalCancellation {
    /// SIGINT / SIGTERM ask the run to stop after the batches in flight; a second signal kills.
    static func afterWorkInFlight(_ onSignal: @escaping @Sendable () -> Void) -> SignalCancellation {
        SignalCancellation(message: "\nstopping after the work in flight (again to abort)", second: .defaultAction, onSignal)
    }
}
