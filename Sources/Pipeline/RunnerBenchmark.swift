import Catalog
import Foundation
import Logging

/// Measures what the runner adds per sample to a per-sample stage: the stage's own work
/// (`process` and its catalog writes, in the same batches) timed directly, against the same
/// stage run by the runner (pending queries, progress marks, one transaction per batch).
public struct RunnerOverhead: Codable, Sendable {
    public var stage: String
    public var samples: Int
    public var directSeconds: Double
    public var runnerSeconds: Double
    public var overhead: Double { runnerSeconds / directSeconds - 1 }
}

extension PipelineRunner {
    /// Runs `stage` (a batched per-sample stage) both ways on shard 0, `repeats` times each,
    /// alternating, and returns the best time of each. The stage's marks are cleared before each
    /// runner pass; everything upstream must be done.
    public func measureOverhead(stage name: String, repeats: Int = 3) throws -> RunnerOverhead {
        guard let definition = pipeline.stage(name), definition.type.kind == .perSample else {
            throw PipelineError(file: pipeline.file, line: nil, key: name, "not a per-sample stage")
        }
        let fps = try fingerprints()
        let fp = fps[name]!
        let shard = ShardSpec(index: 0, count: pipeline.shards)
        let catalog = try Catalog(path: workspace.catalogPath(shard))
        let requires = requirements(of: definition, fingerprints: fps)
        // Every sample the stage would see, read once (outside the timed part).
        let samples = try catalog.read {
            try $0.pendingSamples(stage: "\u{0}none", fingerprint: fp, requires: requires, limit: Int.max / 2)
        }
        var direct = Double.infinity, viaRunner = Double.infinity
        for _ in 0..<repeats {
            guard let stage = try definition.type.make(StageSetup(definition: definition, pipeline: pipeline)) as? SampleStage else {
                throw PipelineError(file: pipeline.file, line: nil, key: name, "not a batched stage")
            }
            let context = StageContext(
                name: name, fingerprint: fp, runID: 0, catalog: catalog, shard: shard, workspace: workspace,
                parameters: definition.parameters, threads: pipeline.threads, logger: logger,
                progress: StageProgress(label: name, total: 0, logger: logger, interactive: false),
                upstream: upstreamHandles(of: definition, fingerprints: fps), cancellation: cancellation)
            let start = Date()
            var i = 0
            while i < samples.count {
                let batch = Array(samples[i..<min(samples.count, i + stage.batchSize)])
                let result = try stage.process(batch, context: context)
                try catalog.write { try result.write($0) }
                i += batch.count
            }
            direct = min(direct, Date().timeIntervalSince(start))

            _ = try catalog.write { try $0.clearProgress(stage: name) }
            let t = Date()
            _ = try run(RunOptions(shard: shard, only: name))
            viaRunner = min(viaRunner, Date().timeIntervalSince(t))
        }
        return RunnerOverhead(stage: name, samples: samples.count, directSeconds: direct, runnerSeconds: viaRunner)
    }
}
