import Foundation

/// Where one shard stands, from its own catalog: what a resubmission and `capfilt status` need.
public struct ShardProgress: Sendable, Equatable, Codable {
    public var shard: Int
    public var samples: Int
    /// Samples still to do, summed over the per-sample stages.
    public var pending: Int
    public var complete: Bool

    public init(shard: Int, samples: Int, pending: Int, complete: Bool) {
        self.shard = shard; self.samples = samples; self.pending = pending; self.complete = complete
    }
}

extension PipelineRunner {
    /// A shard is complete when its catalog exists and no per-sample stage has pending samples
    /// with the current fingerprints. A shard with no samples at all counts only when its last
    /// run ended normally with every source stage in it: otherwise its task may have died before
    /// ingest committed anything.
    public func shardProgress(_ status: PipelineStatus? = nil) throws -> [ShardProgress] {
        let status = try status ?? self.status()
        let perSample = pipeline.stages.filter { $0.type.kind == .perSample }.map(\.name)
        return status.shards.enumerated().map { i, s in
            let pending = perSample.map { s.stages[$0]?["pending"] ?? 0 }.reduce(0, +)
            let stagesKnown = perSample.allSatisfy { s.stages[$0] != nil }
            let complete = s.exists && stagesKnown && pending == 0 && (s.samples > 0 || lastRunFinished(shard: i))
            return ShardProgress(shard: i, samples: s.samples, pending: pending, complete: complete)
        }
    }

    /// The shards a scale-out run still has to run, in order.
    public func incompleteShards() throws -> [Int] {
        try shardProgress().filter { !$0.complete }.map(\.shard)
    }

    /// Whether every whole-dataset stage's result is current.
    public func datasetStagesUpToDate(_ status: PipelineStatus) -> Bool {
        let names = Set(pipeline.stages.filter { $0.type.kind == .wholeDataset }.map(\.name))
        return status.stages.filter { names.contains($0.name) }.allSatisfy { $0.upToDate == true }
    }

    private func lastRunFinished(shard: Int) -> Bool {
        let spec = ShardSpec(index: shard, count: pipeline.shards)
        let path = workspace.runsFolder + "/last-run-shard-\(spec.folderName).json"
        guard let data = FileManager.default.contents(atPath: path),
              let summary = try? JSONDecoder().decode(RunSummary.self, from: data), !summary.cancelled
        else { return false }
        let sources = pipeline.stages.filter { $0.type.kind == .source }.map(\.name)
        return sources.allSatisfy { name in summary.stages.contains { $0.stage == name } }
    }
}
