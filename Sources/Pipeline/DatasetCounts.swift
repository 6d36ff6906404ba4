import Catalog
import Foundation

/// The counts `capfilt status`, the report and `capfilt inspect` show, over every shard: one
/// definition of each number, so the three agree.
///
/// Per stage: `done` is the samples that finished it **ok**, `failed` the ones that finished it
/// with another status, `pending` the ones whose inputs are ready and that have no outcome yet
/// (done + failed + pending = the samples the stage can take). For the source stage (ingest):
/// done = samples stored, failed = malformed manifest rows.
public struct DatasetCounts: Sendable, Codable, Equatable {
    public struct Stage: Sendable, Codable, Equatable {
        public var name: String
        public var type: String
        public var kind: String
        public var fingerprint: String
        /// Finished with the current fingerprint, by status (ok included).
        public var byStatus: [SampleStatus: Int]
        public var done: Int
        public var failed: Int
        public var pending: Int
        /// The failures by (status, reason), the most frequent first.
        public var reasons: [FailureReasonCount]
    }

    /// Texts of one origin: human, web or synthetic.
    public struct Texts: Sendable, Codable, Equatable {
        public var origin: TextOrigin
        public var total: Int
        public var kept: Int
        public var dropped: Int
        public var duplicates: Int
        public var unjudged: Int
    }

    /// The source and per-sample stages, in pipeline order (whole-dataset stages have no counts).
    public var stages: [Stage]
    /// The filter whose decisions the text counts are (nil: the pipeline has none).
    public var filter: String?
    /// Human, web and synthetic, in that order; empty without a filter.
    public var texts: [Texts]

    public static let origins: [TextOrigin] = [.human, .web, .synthetic]

    public func stage(_ name: String) -> Stage? { stages.first { $0.name == name } }
    public func texts(_ origin: TextOrigin) -> Texts? { texts.first { $0.origin == origin } }
}

extension DatasetCounts {
    /// Counts `pipeline`'s stages in `catalogs` (one per shard; nil for a shard with no catalog
    /// yet). `fingerprints` holds the current fingerprint of each stage to count; stages without
    /// one are left out (a report counts the stages upstream of it).
    public static func count(pipeline: PipelineDefinition, fingerprints: [String: String],
                             catalogs: [Catalog?]) throws -> DatasetCounts {
        let present = catalogs.compactMap { $0 }
        var stages: [Stage] = []
        for s in pipeline.stages {
            guard let fp = fingerprints[s.name] else { continue }
            var entry = Stage(name: s.name, type: s.type.name, kind: s.type.kind.rawValue, fingerprint: fp,
                              byStatus: [:], done: 0, failed: 0, pending: 0, reasons: [])
            switch s.type.kind {
            case .source:
                var samples = 0, problems: [String: Int] = [:]
                for c in present {
                    try c.read { session in
                        samples += try session.sources().map(\.samples).reduce(0, +)
                        for p in try session.manifestProblems() { problems[p.reason, default: 0] += 1 }
                    }
                }
                let malformed = problems.values.reduce(0, +)
                entry.done = samples
                entry.failed = malformed
                if samples > 0 { entry.byStatus[.ok] = samples }
                if malformed > 0 { entry.byStatus[.malformed] = malformed }
                entry.reasons = problems.map { FailureReasonCount(status: .malformed, reason: $0.key, count: $0.value) }
                    .sorted(by: Self.frequentFirst)
            case .perSample:
                let requires = requirements(of: s, in: pipeline, fingerprints: fingerprints)
                var reasons: [SampleStatus: [String?: Int]] = [:]
                for c in present {
                    try c.read { session in
                        let counts = try session.counts(stage: s.name, fingerprint: fp, requires: requires)
                        for (k, v) in counts.byStatus { entry.byStatus[k, default: 0] += v }
                        entry.done += counts.ok
                        entry.failed += counts.failed
                        entry.pending += counts.pending
                        for r in try session.failureReasons(stage: s.name, fingerprint: fp) {
                            reasons[r.status, default: [:]][r.reason, default: 0] += r.count
                        }
                    }
                }
                entry.reasons = reasons.flatMap { status, byReason in
                    byReason.map { FailureReasonCount(status: status, reason: $0.key, count: $0.value) }
                }.sorted(by: Self.frequentFirst)
            case .wholeDataset:
                continue
            }
            stages.append(entry)
        }
        var texts: [Texts] = []
        let judge = textJudge(pipeline: pipeline, fingerprints: fingerprints)
        if let judge {
            // Captions a gate dropped are left out of the set: they count as dropped.
            let gates = pipeline.stages.filter { $0.type.name == "gate" }.compactMap { g in
                fingerprints[g.name].map { StageRequirement(stage: g.name, fingerprint: $0) }
            }
            var byOrigin: [TextOrigin: OriginTextCounts] = [:]
            for c in present {
                for (origin, n) in try c.read({ try $0.textCounts(filter: judge.filter, syntheticFingerprint: judge.synthetic, gates: gates) }) {
                    byOrigin[origin] = (byOrigin[origin] ?? OriginTextCounts()) + n
                }
            }
            texts = origins.map { origin in
                let n = byOrigin[origin] ?? OriginTextCounts()
                return Texts(origin: origin, total: n.total, kept: n.kept, dropped: n.dropped, duplicates: n.duplicates,
                             unjudged: n.unjudged)
            }
        }
        return DatasetCounts(stages: stages, filter: judge?.filter.stage, texts: texts)
    }

    /// The per-sample stages `s` needs, with their fingerprints: what a sample must have passed.
    static func requirements(of s: StageDefinition, in pipeline: PipelineDefinition,
                             fingerprints: [String: String]) -> [StageRequirement] {
        s.needs.compactMap { n in
            guard let u = pipeline.stage(n), u.type.kind == .perSample, let fp = fingerprints[n] else { return nil }
            return StageRequirement(stage: n, fingerprint: fp)
        }
    }

    /// The filter whose decisions count (the last filter stage with a fingerprint) and the
    /// fingerprint of the synthetic captions it judged.
    static func textJudge(pipeline: PipelineDefinition, fingerprints: [String: String])
        -> (filter: StageRequirement, synthetic: String?)? {
        guard let filter = pipeline.stages.last(where: { $0.type.name == "filter" && fingerprints[$0.name] != nil }) else {
            return nil
        }
        return textJudge(filter, pipeline: pipeline, fingerprints: fingerprints)
    }

    /// `filter` with its fingerprint, and the fingerprint of the synthetic captions it judged
    /// (those of the nearest caption stage upstream of it).
    static func textJudge(_ filter: StageDefinition, pipeline: PipelineDefinition, fingerprints: [String: String])
        -> (filter: StageRequirement, synthetic: String?)? {
        guard let fp = fingerprints[filter.name] else { return nil }
        let ancestors = pipeline.ancestors(of: filter.name)
        let caption = pipeline.stages.last { ancestors.contains($0.name) && $0.type.name == "caption" }
        return (StageRequirement(stage: filter.name, fingerprint: fp), caption.flatMap { fingerprints[$0.name] })
    }

    static func frequentFirst(_ a: FailureReasonCount, _ b: FailureReasonCount) -> Bool {
        if a.count != b.count { return a.count > b.count }
        if a.status != b.status { return a.status < b.status }
        return (a.reason ?? "") < (b.reason ?? "")
    }
}

extension PipelineRunner {
    /// Every shard's catalog, or nil for a shard that has none yet.
    func openCatalogs() throws -> [Catalog?] {
        try workspace.shards.map { shard in
            let path = workspace.catalogPath(shard)
            return FileManager.default.fileExists(atPath: path) ? try Catalog(path: path) : nil
        }
    }

    /// The counts over every shard with the current fingerprints.
    public func counts() throws -> DatasetCounts {
        try DatasetCounts.count(pipeline: pipeline, fingerprints: fingerprints(), catalogs: openCatalogs())
    }
}
