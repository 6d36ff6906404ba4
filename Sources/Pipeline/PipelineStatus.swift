import Catalog
import Foundation

/// Where a dataset stands, per stage, over all shards (what `capfilt status` prints). The
/// counts are `DatasetCounts`, the ones the report and `capfilt inspect` show.
public struct PipelineStatus: Codable, Sendable {
    public struct Stage: Codable, Sendable {
        public var name: String
        public var type: String
        public var kind: String
        public var fingerprint: String
        /// Per-sample stages: finished with the current fingerprint, by status.
        public var byStatus: [SampleStatus: Int]
        /// Finished ok (ingest: samples stored).
        public var done: Int
        /// Finished with a status other than ok (ingest: malformed manifest rows).
        public var failed: Int
        /// Inputs ready, no outcome yet.
        public var pending: Int
        /// Whole-dataset stages: whether their last result is current.
        public var upToDate: Bool?
        public var summary: String?
        /// The most frequent failures by (status, reason), at most `PipelineStatus.topReasons`.
        public var reasons: [FailureReasonCount]?
    }

    public struct Shard: Codable, Sendable {
        public var shard: String
        public var exists: Bool
        public var samples: Int
        public var manifestProblems: Int
        /// Per-sample stages: done / failed / pending in this shard.
        public var stages: [String: [String: Int]]
    }

    public var pipeline: String
    public var dataset: String
    public var workdir: String
    public var stages: [Stage]
    public var shards: [Shard]
    /// Texts per origin (human, web, synthetic): kept, dropped by the filter, left out as
    /// duplicates, not judged yet. Empty when the pipeline has no filter.
    public var texts: [DatasetCounts.Texts]

    /// How many failure reasons per stage the status lists.
    public static let topReasons = 3
}

extension PipelineRunner {
    /// Reads every shard catalog (read-only snapshots; safe while a run is writing).
    public func status() throws -> PipelineStatus {
        let fps = try fingerprints()
        let catalogs = try openCatalogs()
        let counts = try DatasetCounts.count(pipeline: pipeline, fingerprints: fps, catalogs: catalogs)
        var shards = try zip(workspace.shards, catalogs).map { (shard, catalog) -> PipelineStatus.Shard in
            let sources = try catalog?.read { try $0.sources() } ?? []
            return PipelineStatus.Shard(shard: shard.description, exists: catalog != nil,
                                        samples: sources.map(\.samples).reduce(0, +),
                                        manifestProblems: sources.map(\.problems).reduce(0, +), stages: [:])
        }
        var stages: [PipelineStatus.Stage] = []
        for s in pipeline.stages {
            let fp = fps[s.name]!
            var entry = PipelineStatus.Stage(name: s.name, type: s.type.name, kind: s.type.kind.rawValue, fingerprint: fp,
                                             byStatus: [:], done: 0, failed: 0, pending: 0, upToDate: nil, summary: nil)
            switch s.type.kind {
            case .source, .perSample:
                if let c = counts.stage(s.name) {
                    entry.byStatus = c.byStatus
                    entry.done = c.done
                    entry.failed = c.failed
                    entry.pending = c.pending
                    entry.reasons = Array(c.reasons.prefix(PipelineStatus.topReasons))
                }
                if s.type.kind == .perSample {
                    let requires = requirements(of: s, fingerprints: fps)
                    for (i, catalog) in catalogs.enumerated() {
                        guard let catalog else { continue }
                        let c = try catalog.read { try $0.counts(stage: s.name, fingerprint: fp, requires: requires) }
                        shards[i].stages[s.name] = ["done": c.ok, "failed": c.failed, "pending": c.pending]
                    }
                }
            case .wholeDataset:
                let present = catalogs.compactMap { $0 }
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
                              stages: stages, shards: shards, texts: counts.texts)
    }

    /// Re-queues the samples whose outcome in `stage` (or any stage) is `status`, in every shard.
    public func retry(status: SampleStatus, stage: String?) throws -> Int {
        try retry(statuses: [status], stage: stage).total
    }

    /// Re-queues, in every shard, the samples whose current outcome in `stage` (or in any
    /// per-sample stage) is one of `statuses`, and says how many per stage and status.
    ///
    /// Refused, before anything changes: `ok` without `force` (re-queuing samples that
    /// succeeded discards their results), and a status that no sample has in that stage (or in
    /// any stage), with the statuses there are, so that a misspelt status never passes for "no
    /// work".
    public func retry(statuses: [SampleStatus], stage: String?, force: Bool = false) throws -> RetryResult {
        let fps = try fingerprints()
        let scope: [StageDefinition]
        if let stage {
            guard let s = pipeline.stage(stage) else {
                throw PipelineError(file: pipeline.file, line: nil, key: stage, "no such stage")
            }
            guard s.type.kind == .perSample else {
                throw RetryRefusal("\(stage) is a \(s.type.kind == .source ? "source" : "whole-dataset") stage: it has no per-sample statuses to retry")
            }
            scope = [s]
        } else {
            scope = pipeline.stages.filter { $0.type.kind == .perSample }
        }
        let wanted = Set(statuses)
        guard !wanted.isEmpty else { throw RetryRefusal("name at least one status to retry") }
        let known = try currentStatuses(scope, fingerprints: fps)
        if wanted.contains(.ok) && !force {
            let good = known.compactMap { s in s.byStatus[.ok].map { "\(s.name) \($0)" } }
            throw RetryRefusal("refusing to re-queue status ok: it discards the results of samples that succeeded"
                + (good.isEmpty ? "" : " (\(good.joined(separator: ", ")))") + "; add --force to do it anyway")
        }
        let present = Set(known.flatMap(\.byStatus.keys))
        if let unknown = statuses.first(where: { !present.contains($0) }) {
            let listed = known.filter { !$0.byStatus.isEmpty }
            let place = stage.map { "in \($0)" } ?? "in any stage"
            if listed.isEmpty {
                throw RetryRefusal("no sample has status \(unknown) \(place): no sample has finished \(stage ?? "any per-sample stage") yet")
            }
            let known = stage != nil ? "its statuses: " + RetryResult.describe(listed[0].byStatus)
                : "statuses: " + listed.map { "\($0.name): " + RetryResult.describe($0.byStatus) }.joined(separator: "; ")
            throw RetryRefusal("no sample has status \(unknown) \(place); \(known)")
        }
        var byStage: [String: [SampleStatus: Int]] = [:]
        for shard in workspace.shards {
            let path = workspace.catalogPath(shard)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let lock = try RunLock(path: workspace.lockPath(shard))
            defer { withExtendedLifetime(lock) {} }
            let counts = try Catalog(path: path).write { session in
                try scope.map { s in (s.name, try session.requeue(statuses: wanted, stage: s.name, fingerprint: fps[s.name]!)) }
            }
            for (name, c) in counts {
                for (status, n) in c { byStage[name, default: [:]][status, default: 0] += n }
            }
        }
        return RetryResult(stages: scope.compactMap { s in
            byStage[s.name].flatMap { $0.isEmpty ? nil : RetryResult.Stage(name: s.name, byStatus: $0) }
        })
    }

    /// The statuses of each stage's current outcomes (the ones `status()` counts), over every shard.
    private func currentStatuses(_ stages: [StageDefinition], fingerprints fps: [String: String]) throws -> [RetryResult.Stage] {
        var result = stages.map { RetryResult.Stage(name: $0.name, byStatus: [:]) }
        for shard in workspace.shards {
            let path = workspace.catalogPath(shard)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let catalog = try Catalog(path: path)
            for (i, s) in stages.enumerated() {
                let c = try catalog.read { try $0.counts(stage: s.name, fingerprint: fps[s.name]!, requires: []) }
                for (k, v) in c.byStatus { result[i].byStatus[k, default: 0] += v }
            }
        }
        return result
    }
}

/// What `retry` re-queued: per stage (in pipeline order, stages with none left out), by status.
public struct RetryResult: Sendable, Equatable {
    public struct Stage: Sendable, Equatable {
        public var name: String
        public var byStatus: [SampleStatus: Int]
        public var total: Int { byStatus.values.reduce(0, +) }
    }
    public var stages: [Stage]
    public var total: Int { stages.map(\.total).reduce(0, +) }

    /// "fetch: 12 samples (timeout 10, http_404 2)" per stage.
    public var lines: [String] {
        stages.map { s in "\(s.name): \(s.total) sample\(s.total == 1 ? "" : "s") (\(Self.describe(s.byStatus)))" }
    }

    /// "timeout 10, http_404 2": the most frequent first, ties by name.
    static func describe(_ byStatus: [SampleStatus: Int]) -> String {
        byStatus.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

/// A retry that would do harm or nothing useful, refused before anything changed.
public struct RetryRefusal: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
