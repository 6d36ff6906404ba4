import Catalog
import Foundation
import Logging

/// What to run.
public struct RunOptions: Sendable {
    /// Run only this shard's per-sample stages (nil: every shard, then the whole-dataset stages).
    public var shard: ShardSpec?
    /// Run only this stage.
    public var only: String?
    /// Run this stage and everything downstream of it.
    public var from: String?
    /// Leave out the whole-dataset stages (a shard task of a scale-out run).
    public var perSampleOnly = false
    /// Only the whole-dataset stages (the step after all shard tasks).
    public var datasetOnly = false
    /// The command line, recorded in the catalog.
    public var command = "capfilt run"
    public var interactive = false

    public init(shard: ShardSpec? = nil, only: String? = nil, from: String? = nil) {
        self.shard = shard; self.only = only; self.from = from
    }
}

/// Executes a pipeline's stage graph over one or all shards, resumably. Every per-sample result
/// lands in the shard's catalog together with its progress mark, in one transaction per batch,
/// so a kill at any instant loses at most the batches in flight; a rerun continues from the
/// marks. Stages whose fingerprint and inputs are unchanged do nothing.
public final class PipelineRunner {
    public let pipeline: PipelineDefinition
    public let workspace: Workspace
    let logger: Logger
    public let cancellation = Cancellation()

    public init(pipeline: PipelineDefinition, logger: Logger = Logger(label: "capfilt")) {
        self.pipeline = pipeline
        workspace = Workspace(root: pipeline.workdir, shardCount: pipeline.shards)
        self.logger = logger
        if FileManager.default.fileExists(atPath: pipeline.workdir) {
            FileDigest.cacheFile = pipeline.workdir + "/model-digests.json"
        }
    }

    /// Fingerprints of every stage, in pipeline order. A source stage shows downstream a
    /// constant: samples are identified by (source, key) and never change once ingested, so
    /// new manifest rows add work without invalidating what was done.
    public func fingerprints() throws -> [String: String] {
        var own: [String: String] = [:]
        var downstreamView: [String: String] = [:]
        for s in pipeline.stages {
            let inputs: [String]
            do { inputs = try s.type.fingerprintInputs(s.parameters) } catch let e as PipelineError { throw e } catch {
                throw PipelineError(file: pipeline.file, line: s.line, key: "stages.\(s.name)", "\(error)")
            }
            let fp = Fingerprint.of(type: s.type.name, revision: s.type.revision, parameters: s.parameters.canonical, inputs: inputs,
                                    upstream: s.needs.map { downstreamView[$0]! })
            own[s.name] = fp
            downstreamView[s.name] = s.type.kind == .source ? "source:\(s.type.name)" : fp
        }
        return own
    }

    func selected() throws -> [StageDefinition] {
        if let only = options.only {
            guard let s = pipeline.stage(only) else { throw unknownStage(only) }
            return [s]
        }
        if let from = options.from {
            guard pipeline.stage(from) != nil else { throw unknownStage(from) }
            let names = pipeline.descendants(of: from).union([from])
            return pipeline.stages.filter { names.contains($0.name) }
        }
        return pipeline.stages
    }

    private func unknownStage(_ name: String) -> PipelineError {
        PipelineError(file: pipeline.file, line: nil, key: name,
                      "no such stage (stages: \(pipeline.stages.map(\.name).joined(separator: ", ")))")
    }

    private var options = RunOptions()
    private var records: [StageRunRecord] = []
    private var runStarted = Date()

    public func run(_ options: RunOptions) throws -> RunSummary {
        self.options = options
        records = []
        runStarted = Date()
        let startedAt = timestamp()
        try workspace.create(nil)
        FileDigest.cacheFile = workspace.root + "/model-digests.json"
        let stages = try selected()
        let fps = try fingerprints()
        let built = try stages.map { s in (s, try s.type.make(StageSetup(definition: s, pipeline: pipeline))) }
        try workspace.create(nil)

        let shards = options.shard.map { [$0] } ?? workspace.shards
        let phases = options.shard == nil && !options.perSampleOnly && !options.datasetOnly
            ? Self.phases(built.map(\.0), pipeline: pipeline) : [built.map(\.0.name)]
        for phase in phases where !cancellation.isCancelled {
            let members = built.filter { phase.contains($0.0.name) }
            let perSample = members.filter { $0.0.type.kind != .wholeDataset }
            if !options.datasetOnly, !perSample.isEmpty {
                for shard in shards where !cancellation.isCancelled {
                    try runShard(shard, stages: perSample, fingerprints: fps)
                }
            }
            let datasetStages = members.filter { $0.0.type.kind == .wholeDataset }
            if options.shard == nil, !options.perSampleOnly, !datasetStages.isEmpty, !cancellation.isCancelled {
                try runDataset(datasetStages, fingerprints: fps)
            }
        }
        let summary = RunSummary(pipeline: pipeline.file, command: options.command, startedAt: startedAt,
                                 finishedAt: timestamp(), cancelled: cancellation.isCancelled, stages: records)
        try writeSummary(summary, shard: options.shard)
        return summary
    }

    /// The selected stages in the order they can run: per-sample stages (over every shard) and
    /// whole-dataset stages alternate only where a per-sample stage needs a whole-dataset one (a
    /// caption stage using a model that a training stage writes). A pipeline without such a need
    /// is one per-sample phase then one whole-dataset phase, as before.
    public static func phases(_ stages: [StageDefinition], pipeline: PipelineDefinition) -> [[String]] {
        var phase: [String: Int] = [:]
        // Even phases are per-sample, odd ones whole-dataset; `pipeline.stages` is in dependency order.
        for s in pipeline.stages {
            let base = s.needs.compactMap { phase[$0] }.max() ?? 0
            let wantOdd = s.type.kind == .wholeDataset
            phase[s.name] = base % 2 == (wantOdd ? 1 : 0) ? base : base + 1
        }
        let selected = Set(stages.map(\.name))
        let order = stages.map(\.name)
        return Array(Set(phase.values)).sorted().map { p in order.filter { selected.contains($0) && phase[$0] == p } }
            .filter { !$0.isEmpty }
    }

    // MARK: per shard

    private func runShard(_ shard: ShardSpec, stages: [(StageDefinition, any PipelineStage)], fingerprints fps: [String: String]) throws {
        try workspace.create(shard)
        let lock = try RunLock(path: workspace.lockPath(shard))
        defer { withExtendedLifetime(lock) {} }
        let catalog = try Catalog(path: workspace.catalogPath(shard))
        let runID = try catalog.write { try $0.startRun(pipeline: pipeline.file, command: options.command, startedAt: timestamp()) }
        var outcome = "failed"
        defer { try? catalog.write { try $0.finishRun(runID, outcome: outcome, finishedAt: timestamp()) } }

        for (definition, stage) in stages {
            if cancellation.isCancelled { break }
            let started = Date()
            let fp = fps[definition.name]!
            let label = pipeline.shards > 1 ? "\(definition.name) [\(shard)]" : definition.name
            let logger = stageLogger(definition.name, shard: pipeline.shards > 1 ? shard : nil)
            let context = StageContext(
                name: definition.name, fingerprint: fp, runID: runID, catalog: catalog, shard: shard,
                workspace: workspace, parameters: definition.parameters, threads: pipeline.threads,
                logger: logger, progress: StageProgress(label: label, total: 0, logger: logger, interactive: options.interactive),
                upstream: upstreamHandles(of: definition, fingerprints: fps), cancellation: cancellation)
            logger.info("\(label): started")
            context.progress.startDisplay()
            defer { context.progress.stopDisplay() }
            switch stage {
            case let source as SourceStage:
                try source.ingest(context)
            case let streaming as StreamingSampleStage:
                let requires = requirements(of: definition, fingerprints: fps)
                let counts = try catalog.read { try $0.counts(stage: definition.name, fingerprint: fp, requires: requires) }
                context.progress.setTotal(counts.pending)
                if counts.pending > 0 {
                    let pending = PendingSamples(catalog: catalog, stage: definition.name, fingerprint: fp, requires: requires,
                                                 pageSize: 1024, cancellation: cancellation)
                    let committer = BatchCommitter(context: context, maxBatch: 512, maxSeconds: 2)
                    try streaming.run(pending: pending, context: context, commit: committer)
                    committer.flush()
                    if let e = committer.firstError { throw e }
                }
            case let batched as SampleStage:
                let requires = requirements(of: definition, fingerprints: fps)
                let counts = try catalog.read { try $0.counts(stage: definition.name, fingerprint: fp, requires: requires) }
                context.progress.setTotal(counts.pending)
                var lastID: Int64 = 0
                while !cancellation.isCancelled {
                    let batch = try catalog.read {
                        try $0.pendingSamples(stage: definition.name, fingerprint: fp, requires: requires, afterID: lastID,
                                              limit: batched.batchSize)
                    }
                    guard let last = batch.last else { break }
                    let result = try batched.process(batch, context: context)
                    // Each result holds for the image the stage read: the marks say which.
                    let images = result.readNoImage
                        ? Dictionary(batch.map { ($0.id, ProgressMark.anyImage) }) { a, _ in a }
                        : Dictionary(batch.compactMap { s in s.imageSHA256.map { (s.id, $0) } }) { a, _ in a }
                    try catalog.write { session in
                        try result.write(session)
                        try session.mark(stage: definition.name, fingerprint: fp, runID: runID, result.marks, images: images)
                    }
                    context.progress.add(result.marks)
                    lastID = last.id
                }
            default:
                throw PipelineError(file: pipeline.file, line: definition.line, key: definition.name, "not a per-sample stage")
            }
            let (done, failed) = context.progress.counts
            let action = done > 0 ? "ran" : "up-to-date"
            records.append(StageRunRecord(stage: definition.name, type: definition.type.name, shard: shard.description,
                                          fingerprint: fp, action: action, processed: done, failed: failed,
                                          seconds: Date().timeIntervalSince(started)))
            // As `capfilt status` counts: ok apart from failed (a per-sample stage's `done` counts
            // every sample it finished; ingest's counts the samples it stored).
            let ok = definition.type.kind == .perSample ? done - failed : done
            logger.info("\(label): \(action == "ran" ? "\(ok) ok, \(failed) failed" : "up to date") in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            if definition.type.checksFailureShare, !cancellation.isCancelled {
                try checkFailureShare(definition, fingerprint: fp, catalog: catalog, shard: shard)
            }
        }
        if !cancellation.isCancelled { outcome = "ok" } else { outcome = "cancelled" }
    }

    /// Stops the run when the stage failed more of a source than its limit allows (outcomes of
    /// the current fingerprint, this run's and earlier ones'): a lost source is an error, not a
    /// smaller dataset. Checked before the next stage starts, so nothing downstream uses the rest.
    private func checkFailureShare(_ s: StageDefinition, fingerprint: String, catalog: Catalog, shard: ShardSpec) throws {
        let outcomes = try catalog.read { try $0.outcomesBySource(stage: s.name, fingerprint: fingerprint) }
        if let exceeded = FailureShareExceeded.check(stage: s.name, shard: pipeline.shards > 1 ? shard.description : nil,
                                                     outcomes: outcomes, limit: pipeline.failureLimit(of: s)) {
            throw exceeded
        }
    }

    /// The runner's logger with the stage (and the shard, when there are several) as metadata,
    /// which JSON log lines carry as fields.
    func stageLogger(_ stage: String, shard: ShardSpec?) -> Logger {
        var stageLogger = logger
        stageLogger[metadataKey: CapfiltLogHandler.stageKey] = .string(stage)
        if let shard { stageLogger[metadataKey: "shard"] = .string(shard.description) }
        return stageLogger
    }

    /// Direct per-sample needs: their ok marks are what this stage waits for.
    func requirements(of s: StageDefinition, fingerprints fps: [String: String]) -> [StageRequirement] {
        s.needs.compactMap { n in
            guard let u = pipeline.stage(n), u.type.kind == .perSample else { return nil }
            return StageRequirement(stage: n, fingerprint: fps[n]!)
        }
    }

    /// Every ancestor, nearest first.
    func upstreamHandles(of s: StageDefinition, fingerprints fps: [String: String]) -> [StageHandle] {
        let ancestors = pipeline.ancestors(of: s.name)
        return pipeline.stages.reversed().filter { ancestors.contains($0.name) }.map {
            StageHandle(name: $0.name, type: $0.type.name, fingerprint: fps[$0.name]!)
        }
    }

    // MARK: whole dataset

    private func runDataset(_ stages: [(StageDefinition, any PipelineStage)], fingerprints fps: [String: String]) throws {
        let lock = try RunLock(path: workspace.globalLockPath)
        defer { withExtendedLifetime(lock) {} }
        var catalogs: [Catalog] = []
        for shard in workspace.shards {
            try workspace.create(shard)
            catalogs.append(try Catalog(path: workspace.catalogPath(shard)))
        }
        let runIDs = try catalogs.map { c in
            try c.write { try $0.startRun(pipeline: pipeline.file, command: options.command + " (whole dataset)", startedAt: timestamp()) }
        }
        for (definition, stage) in stages {
            if cancellation.isCancelled { break }
            guard let datasetStage = stage as? DatasetStage else { continue }
            let started = Date()
            let fp = fps[definition.name]!
            let logger = stageLogger(definition.name, shard: nil)
            let version = try inputVersion(of: definition, catalogs: catalogs, fingerprints: fps)
            let upToDate = try catalogs.allSatisfy { c in
                try c.read { try $0.stageState(definition.name) }.map { $0.fingerprint == fp && $0.inputVersion == version } ?? false
            }
            if upToDate {
                records.append(StageRunRecord(stage: definition.name, type: definition.type.name, shard: nil, fingerprint: fp,
                                              action: "up-to-date", processed: 0, failed: 0, seconds: 0))
                logger.info("\(definition.name): up to date")
                continue
            }
            logger.info("\(definition.name): started")
            let context = DatasetContext(
                name: definition.name, fingerprint: fp, runID: runIDs[0], catalogs: catalogs, workspace: workspace,
                parameters: definition.parameters, pipeline: pipeline, threads: pipeline.threads, logger: logger,
                progress: StageProgress(label: definition.name, total: 0, logger: logger, interactive: options.interactive),
                upstream: upstreamHandles(of: definition, fingerprints: fps), runLog: records, runStartedAt: runStarted,
                cancellation: cancellation)
            context.progress.startDisplay()
            let summary: String
            do {
                summary = try datasetStage.run(context)
            } catch is StageCancelled {
                context.progress.stopDisplay()
                logger.info("\(definition.name): interrupted; it starts again on the next run")
                break
            }
            context.progress.stopDisplay()
            for (c, runID) in zip(catalogs, runIDs) {
                try c.write { try $0.setStageState(definition.name, fingerprint: fp, inputVersion: version, runID: runID, summary: summary) }
            }
            let seconds = Date().timeIntervalSince(started)
            records.append(StageRunRecord(stage: definition.name, type: definition.type.name, shard: nil, fingerprint: fp,
                                          action: "ran", processed: context.progress.counts.done, failed: 0, seconds: seconds))
            logger.info("\(definition.name): done in \(String(format: "%.1f", seconds)) s \(summary)")
        }
        for (c, runID) in zip(catalogs, runIDs) {
            try c.write { try $0.finishRun(runID, outcome: cancellation.isCancelled ? "cancelled" : "ok", finishedAt: timestamp()) }
        }
    }

    /// The version of a whole-dataset stage's inputs: the outcomes of every per-sample stage
    /// upstream of it, in every shard.
    func inputVersion(of s: StageDefinition, catalogs: [Catalog], fingerprints fps: [String: String]) throws -> String {
        let ancestors = pipeline.stages.filter { pipeline.ancestors(of: s.name).contains($0.name) && $0.type.kind != .wholeDataset }
        var parts: [String] = []
        for c in catalogs {
            try c.read { session in
                parts.append("samples:\(try session.lastSampleID())")
                for a in ancestors where a.type.kind == .perSample {
                    parts.append("\(a.name):\(try session.progressVersion(stage: a.name, fingerprint: fps[a.name]!))")
                }
            }
        }
        return Fingerprint.of(type: "inputs", parameters: parts.joined(separator: ";"), inputs: [], upstream: [])
    }

    private func writeSummary(_ summary: RunSummary, shard: ShardSpec?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(summary)
        let name = shard.map { "last-run-shard-\($0.folderName).json" } ?? "last-run.json"
        let path = workspace.runsFolder + "/" + name
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
