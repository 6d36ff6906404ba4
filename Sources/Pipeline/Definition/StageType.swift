/// How a stage walks the data.
public enum StageKind: String, Sendable {
    /// Reads manifests into the catalog (the ingest stage); resumes from a per-source cursor.
    case source
    /// Works sample by sample; progress is recorded per sample, in batches.
    case perSample
    /// Needs the whole dataset at once (dedup, assemble, export, report); runs after every shard's
    /// per-sample stages, and again only when its parameters or its inputs change.
    case wholeDataset
}

/// What a stage type is: its keys, what must run before it, and how to build it.
public struct StageType: Sendable {
    public var name: String
    public var kind: StageKind
    public var summary: String
    public var parameters: [ParameterSpec]
    /// Stage types that must be upstream of this one (anywhere among its `needs`, transitively).
    public var requires: [String]
    /// Extra inputs of the fingerprint beyond the parameters, e.g. a digest of the model files.
    public var fingerprintInputs: @Sendable (StageParameters) throws -> [String]
    /// Checks what the file names that the key types alone cannot (a model folder's config and
    /// tensors against what the stage needs, say), when the file is loaded, before any stage
    /// runs; throws a `PipelineError`. Skipped when the loader does not check paths.
    public var check: (@Sendable (StageSetup) throws -> Void)?
    /// Builds the runnable stage (once per run, after the whole pipeline validated).
    public var make: @Sendable (StageSetup) throws -> any PipelineStage
    /// Whether the runner stops when the stage fails too much of a source (docs/pipeline.md). A
    /// per-sample stage whose non-ok outcomes are decisions rather than failures (a gate that
    /// drops what its rules say) is not judged that way, and has no `max_failure_share` key.
    public var checksFailureShare: Bool
    /// Raised when the stage's results change for the same parameters and inputs (a fixed bug,
    /// a new section of the report), so that a work folder made by an earlier capfilt runs it,
    /// and what it feeds, again on the next run. Part of the fingerprint from 2 on.
    public var revision: Int

    public init(name: String, kind: StageKind, summary: String, parameters: [ParameterSpec], requires: [String] = [],
                fingerprintInputs: @escaping @Sendable (StageParameters) throws -> [String] = { _ in [] },
                check: (@Sendable (StageSetup) throws -> Void)? = nil, checksFailureShare: Bool = true, revision: Int = 1,
                make: @escaping @Sendable (StageSetup) throws -> any PipelineStage) {
        precondition(revision >= 1, "revisions count from 1")
        self.name = name; self.kind = kind; self.summary = summary; self.revision = revision
        self.checksFailureShare = kind == .perSample && checksFailureShare
        // Every per-sample stage that is judged may override the pipeline's failure limit (docs/pipeline.md).
        self.parameters = self.checksFailureShare ? parameters + [FailureShareKeys.maxFailureShare.spec] : parameters
        self.requires = requires; self.fingerprintInputs = fingerprintInputs; self.make = make; self.check = check
    }
}

/// The stage types a pipeline file may use.
public struct StageRegistry: Sendable {
    public private(set) var types: [String: StageType] = [:]
    public init(_ types: [StageType]) { for t in types { self.types[t.name] = t } }
    public subscript(_ name: String) -> StageType? { types[name] }
}

/// One stage as the pipeline file declares it, validated.
public struct StageDefinition: Sendable {
    public var name: String
    public var type: StageType
    public var needs: [String]
    public var parameters: StageParameters
    public var line: Int?
    /// The line of each key the file gives for this stage (for errors found after validation).
    public var keyLines: [String: Int] = [:]
}

/// A whole validated pipeline file.
public struct PipelineDefinition: Sendable {
    public var file: String
    public var dataset: String
    /// Absolute folder holding the shard catalogs, blobs, exports and reports.
    public var workdir: String
    public var shards: Int
    public var threads: Int
    /// Stages in dependency order (a stage comes after everything it needs; ties keep file order).
    public var stages: [StageDefinition]
    /// The whole `executor` mapping, if any (read by the scale-out executors).
    public var executor: [String: ParameterValue]
    /// How much of a source a per-sample stage may fail (`max_failure_share`,
    /// `failure_share_min_samples`); a stage's own `max_failure_share` overrides the share.
    public var failureLimit = FailureLimit.standard

    /// The failure limit of one stage: its own `max_failure_share` if it gives one.
    public func failureLimit(of stage: StageDefinition) -> FailureLimit {
        var limit = failureLimit
        if let share = stage.parameters[FailureShareKeys.maxFailureShare] { limit.maxShare = share }
        return limit
    }

    public func stage(_ name: String) -> StageDefinition? { stages.first { $0.name == name } }

    /// Every stage `name` depends on, transitively.
    public func ancestors(of name: String) -> Set<String> {
        var seen: Set<String> = []
        var stack = stage(name)?.needs ?? []
        while let n = stack.popLast() {
            if seen.insert(n).inserted { stack += stage(n)?.needs ?? [] }
        }
        return seen
    }

    /// Every stage that depends on `name`, transitively.
    public func descendants(of name: String) -> Set<String> {
        Set(stages.filter { ancestors(of: $0.name).contains(name) }.map(\.name))
    }
}
