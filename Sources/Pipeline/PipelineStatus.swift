import Catalog
import Foundation

/// Where a dataset stands, per stage, over all shards (what `capfilt status` prints).
public struct PipelineStatus: Codable, Sendable {
    public struct Stage: Codable, Sendable {
        public var name: String
        public var type: String
        public var kind: String
        public var fingerprint: String
        /// Per-sample stages: finished with the current fingerprint, by status.
        public var byStatus: [String: Int]
        public var done: Int
        public var failed: Int
        public var pending: Int
        /// Whole-dataset stages: whether their last result is current.
        public var upToDate: Bool?
        public var summary: String?
    }

    public struct Shard: Codable, Sendable {
        public var shard: String
        public var exists: Bool
        public var samples: Int
        public var manifestProblems: Int
        /// Per-sample stages: done / pending in this shard.
        public var stages: [String: [String: Int]]
    }

    public var pipeline: String
    public var dataset: String
    public var workdir: String
    public var stages: [Stage]
    public var shards: [Shard]
}

extension PipelineRunner {
    /// Reads every shard catalog (read-only snapshots; safe while a run is writing).
    public func status() throws -> PipelineStatus {
        let fps = try fingerprints()
        var catalogs: [(ShardSpec, Catalog?)] = []
        for shard in workspace.shards {
            let path = workspace.catalogPath(shard)
            catalogs.append((shard, FileManager.default.fileExists(atPath: path) ? try Catalog(path: path) : nil))
        }
        var stages: [PipelineStatus.Stage] = []
        var shards = try catalogs.map { (shard, catalog) -> PipelineStatus.Shard in
            let sources = try catalog?.read { try $0.sources() } ?? []
            return PipelineStatus.Shard(shard: shard.description, exists: catalog != nil,
                                        samples: sources.map(\.samples).reduce(0, +),
                                        manifestProblems: sources.map(\.problems).reduce(0, +), stages: [:])
        }
        for s in pipeline.stages {
            let fp = fps[s.name]!
            var entry = PipelineStatus.Stage(name: s.name, type: s.type.name, kind: s.type.kind.rawValue, fingerprint: fp,
                                             byStatus: [:], done: 0, failed: 0, pending: 0, upToDate: nil, summary: nil)
            switch s.type.kind {
            case .source:
                entry.done = shards.map(\.samples).reduce(0, +)
                entry.failed = shards.map(\.manifestProblems).reduce(0, +)
                if entry.failed > 0 { entry.byStatus["malformed"] = entry.failed }
                if entry.done > 0 { entry.byStatus["ok"] = entry.done }
            case .perSample:
                let requires = requirements(of: s, fingerprints: fps)
                for (i, (_, catalog)) in catalogs.enumerated() {
                    guard let catalog else { continue }
                    let c = try catalog.read { try $0.counts(stage: s.name, fingerprint: fp, requires: requires) }
                    for (k, v) in c.byStatus { entry.byStatus[k, default: 0] += v }
                    entry.done += c.done
                    entry.failed += c.failed
                    entry.pending += c.pending
                    shards[i].stages[s.name] = ["done": c.done, "failed": c.failed, "pending": c.pending]
                }
            case .wholeDataset:
                let present = catalogs.compactMap(\.1)
                if present.count == catalogs.count {
                    let version = try inputVersion(of: s, catalogs: present, fingerprints: fps)
                    let states = try present.map { c in try c.read { try $0.stageState(s.name) } }
                    entry.upToDate = states.allSatisfy { $0?.fingerprint == fp && $0?.inputVersion == version }
                    entry.summary = states.first??.summary
                } else {
                    entry.upToDate = false
                }
            }
            stages.append(entry)
        }
        return PipelineStatus(pipeline: pipeline.file, dataset: pipeline.dataset, workdir: pipeline.workdir,
                              stages: stages, shards: shards)
    }

    /// Re-queues the samples whose outcome in `stage` (or any stage) is `status`, in every shard.
    public func retry(status: String, stage: String?) throws -> Int {
        if let stage, pipeline.stage(stage) == nil {
            throw PipelineError(file: pipeline.file, line: nil, key: stage, "no such stage")
        }
        var total = 0
        for shard in workspace.shards {
            let path = workspace.catalogPath(shard)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let lock = try RunLock(path: workspace.lockPath(shard))
            defer { withExtendedLifetime(lock) {} }
            total += try Catalog(path: path).write { try $0.requeue(status: status, stage: stage) }
        }
        return total
    }
}
