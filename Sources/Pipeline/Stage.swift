import Foundation
import Catalog
import Logging

/// What a stage type's `make` receives.
public struct StageSetup: Sendable {
    public var definition: StageDefinition
    public var pipeline: PipelineDefinition
    public var parameters: StageParameters { definition.parameters }
}

/// A runnable stage. One of the three protocols below says how the runner drives it.
public protocol PipelineStage: AnyObject {}

/// Reads manifests into a shard's catalog, resuming from its own cursors.
public protocol SourceStage: PipelineStage {
    func ingest(_ context: StageContext) throws
}

/// Works on batches of samples: computes without writing, then the runner commits the batch's
/// writes and progress marks in one transaction. A kill loses at most the batch in flight.
public protocol SampleStage: PipelineStage {
    var batchSize: Int { get }
    func process(_ samples: [SampleRecord], context: StageContext) throws -> StageBatch
}

/// A per-sample stage that keeps many samples in flight (the fetcher): it pulls pending samples
/// lazily and hands finished ones to `commit`, which lands them in bounded transactions.
public protocol StreamingSampleStage: PipelineStage {
    func run(pending: PendingSamples, context: StageContext, commit: BatchCommitter) throws
}

/// Runs over the whole dataset (all shard catalogs). Returns a short JSON summary.
public protocol DatasetStage: PipelineStage {
    func run(_ context: DatasetContext) throws -> String
}

/// A batch's result: the catalog writes and the per-sample marks, applied together.
public struct StageBatch {
    public var marks: [ProgressMark]
    public var write: (CatalogSession) throws -> Void
    /// The stage read no image (it judged manifest data): its marks hold for whatever image the
    /// sample gets later, so fetching one does not make them stale.
    public var readNoImage: Bool

    public init(marks: [ProgressMark], readNoImage: Bool = false, write: @escaping (CatalogSession) throws -> Void = { _ in }) {
        self.marks = marks; self.readNoImage = readNoImage; self.write = write
    }
}

/// A stage upstream of the running one, as it ran in this pipeline.
public struct StageHandle: Sendable, Equatable {
    public var name: String
    public var type: String
    public var fingerprint: String
    public var requirement: StageRequirement { StageRequirement(stage: name, fingerprint: fingerprint) }
}

/// Everything a stage sees of the run, for one shard.
public final class StageContext: @unchecked Sendable {
    public let name: String
    public let fingerprint: String
    public let runID: Int64
    public let catalog: Catalog
    public let shard: ShardSpec
    public let workspace: Workspace
    public let parameters: StageParameters
    public let threads: Int
    public let logger: Logger
    public let progress: StageProgress
    let upstream: [StageHandle]
    let cancellation: Cancellation

    init(name: String, fingerprint: String, runID: Int64, catalog: Catalog, shard: ShardSpec, workspace: Workspace,
         parameters: StageParameters, threads: Int, logger: Logger, progress: StageProgress, upstream: [StageHandle],
         cancellation: Cancellation) {
        self.name = name; self.fingerprint = fingerprint; self.runID = runID; self.catalog = catalog; self.shard = shard
        self.workspace = workspace; self.parameters = parameters; self.threads = threads; self.logger = logger
        self.progress = progress; self.upstream = upstream; self.cancellation = cancellation
    }

    /// The nearest upstream stage of `type` (nil when the pipeline has none).
    public func upstream(type: String) -> StageHandle? { upstream.first { $0.type == type } }
    /// Every upstream stage of `type`, nearest first (a pipeline may gate at several points).
    public func upstream(allOfType type: String) -> [StageHandle] { upstream.filter { $0.type == type } }
    public var isCancelled: Bool { cancellation.isCancelled }

    /// Runs `body`; SIGINT / SIGTERM while it runs (or before) calls `abandon`, for work that
    /// must stop at once rather than after what is in flight (the fetcher's transfers).
    public func whileRunning<T>(onCancel abandon: @escaping @Sendable () -> Void, _ body: () throws -> T) rethrows -> T {
        try cancellation.whileRunning(onCancel: abandon, body)
    }
}

/// Everything a whole-dataset stage sees: all shard catalogs.
/// Thrown by a whole-dataset stage that stopped because the run was interrupted (Ctrl-C): the
/// runner records nothing for it, so the next run starts the stage again.
public struct StageCancelled: Error {
    public init() {}
}

public final class DatasetContext: @unchecked Sendable {
    public let name: String
    public let fingerprint: String
    public let runID: Int64
    public let catalogs: [Catalog]
    public let workspace: Workspace
    public let parameters: StageParameters
    public let pipeline: PipelineDefinition
    public let threads: Int
    public let logger: Logger
    public let progress: StageProgress
    let upstream: [StageHandle]
    /// What every stage did in this run so far (for the report).
    public let runLog: [StageRunRecord]
    /// When this invocation of the runner started (all its phases).
    public let runStartedAt: Date
    let cancellation: Cancellation

    init(name: String, fingerprint: String, runID: Int64, catalogs: [Catalog], workspace: Workspace,
         parameters: StageParameters, pipeline: PipelineDefinition, threads: Int, logger: Logger,
         progress: StageProgress, upstream: [StageHandle], runLog: [StageRunRecord], runStartedAt: Date = Date(),
         cancellation: Cancellation) {
        self.name = name; self.fingerprint = fingerprint; self.runID = runID; self.catalogs = catalogs
        self.workspace = workspace; self.parameters = parameters; self.pipeline = pipeline; self.threads = threads
        self.logger = logger; self.progress = progress; self.upstream = upstream; self.runLog = runLog
        self.runStartedAt = runStartedAt; self.cancellation = cancellation
    }

    /// Long stages (training) poll this and throw `StageCancelled` to stop without recording a result.
    public var isCancelled: Bool { cancellation.isCancelled }

    public func upstream(type: String) -> StageHandle? { upstream.first { $0.type == type } }
    public var allUpstream: [StageHandle] { upstream }
}
