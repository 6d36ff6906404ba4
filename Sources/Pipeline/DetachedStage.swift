import Catalog
import Foundation

/// A per-sample stage built and given its context as the runner would, for calling it outside
/// the runner: a tool that times the stage's own work, or steps through one batch. Nothing is
/// marked on its behalf; its run ID is 0.
public struct DetachedStage {
    public let definition: StageDefinition
    public let stage: any PipelineStage
    public let context: StageContext
    /// The upstream marks its pending samples are read with (`CatalogSession.pendingSamples`).
    public let requirements: [StageRequirement]
}

extension PipelineRunner {
    /// Builds per-sample stage `name` for `shard`, working on `catalog` (the shard's own, as a
    /// rule: `workspace.catalogPath(shard)`).
    public func detachedStage(_ name: String, shard: ShardSpec, catalog: Catalog) throws -> DetachedStage {
        guard let definition = pipeline.stage(name), definition.type.kind == .perSample else {
            throw PipelineError(file: pipeline.file, line: nil, key: name, "not a per-sample stage")
        }
        let fps = try fingerprints()
        let stage = try definition.type.make(StageSetup(definition: definition, pipeline: pipeline))
        let context = StageContext(
            name: name, fingerprint: fps[name]!, runID: 0, catalog: catalog, shard: shard, workspace: workspace,
            parameters: definition.parameters, threads: pipeline.threads, logger: logger,
            progress: StageProgress(label: name, total: 0, logger: logger, interactive: false),
            upstream: upstreamHandles(of: definition, fingerprints: fps), cancellation: cancellation)
        return DetachedStage(definition: definition, stage: stage, context: context,
                             requirements: requirements(of: definition, fingerprints: fps))
    }
}
