import ArgumentParser
import Catalog
import Foundation
import Logging
import Pipeline
import Stages

/// `capfilt-bench pipeline PIPELINE.yaml --stage decode`: what the runner adds per sample to a
/// per-sample stage (docs/benchmarks-pipeline.md). The stage's own work (`process` and its
/// catalog writes, in the same batches) is timed directly, against the same stage run by the
/// runner (pending queries, progress marks, one transaction per batch), on shard 0, alternating,
/// and the best pass of each kind is kept. Everything upstream must be done. Prints one JSON line.
struct PipelineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Measure the pipeline runner's overhead on one per-sample stage (scripts/bench_pipeline.py).")

    @Argument(help: "The pipeline file (pipelines/*.yaml).") var pipeline: String
    @Option(help: "The per-sample stage to measure (everything upstream must be done).") var stage: String
    @Option(help: "Passes of each kind; the best is kept.") var repeats = 3

    struct Result: Encodable {
        var stage: String
        var samples: Int
        var directSeconds: Double
        var runnerSeconds: Double
    }

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        let definition: PipelineDefinition
        do {
            definition = try PipelineLoader(registry: StandardStages.registry).load(path: pipeline)
        } catch let e as PipelineError {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        }
        var logger = Logger(label: "capfilt")
        logger.logLevel = .warning
        let runner = PipelineRunner(pipeline: definition, logger: logger)
        let shard = ShardSpec(index: 0, count: definition.shards)
        let catalog = try Catalog(path: runner.workspace.catalogPath(shard))

        // Every sample the stage would see, read once (outside the timed part): those its
        // upstream stages finished, whatever its own marks say.
        let probe = try runner.detachedStage(stage, shard: shard, catalog: catalog)
        let samples = try catalog.read {
            try $0.pendingSamples(stage: "\u{0}none", fingerprint: probe.context.fingerprint,
                                  requires: probe.requirements, limit: Int.max / 2)
        }
        var direct = Double.infinity, viaRunner = Double.infinity
        for _ in 0..<repeats {
            // A fresh stage each pass, as each run of the runner builds its own.
            let detached = try runner.detachedStage(stage, shard: shard, catalog: catalog)
            guard let batched = detached.stage as? SampleStage else {
                throw BenchError("\(stage) is not a batched per-sample stage")
            }
            let start = monotonicSeconds()
            var i = 0
            while i < samples.count {
                let batch = Array(samples[i..<min(samples.count, i + batched.batchSize)])
                let result = try batched.process(batch, context: detached.context)
                try catalog.write { try result.write($0) }
                i += batch.count
            }
            direct = min(direct, monotonicSeconds() - start)

            _ = try catalog.write { try $0.clearProgress(stage: stage) }
            let t = monotonicSeconds()
            _ = try runner.run(RunOptions(shard: shard, only: stage))
            viaRunner = min(viaRunner, monotonicSeconds() - t)
        }
        try printSortedJSON(Result(stage: stage, samples: samples.count, directSeconds: direct, runnerSeconds: viaRunner))
    }
}
