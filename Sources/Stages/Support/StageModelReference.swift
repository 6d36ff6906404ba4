import Foundation
import MED
import Pipeline

/// Models a pipeline trains land in `<workdir>/models/<stage name>/`. A caption, filter, finetune
/// or evaluate stage can name such a folder with `model_from: STAGE` or `STAGE/SUBFOLDER`
/// (e.g. `pretrain_noisy/captioner`) instead of a `model:` path: the folder may not exist yet
/// when the file is loaded, so it is resolved when the stage is built, and the referenced stage
/// must be upstream, which puts its fingerprint into this stage's.
enum StageModelReference {
    /// `model`: a model folder (the help names the Hugging Face class the stage expects).
    static func model(help: String) -> StageParameter<String?> {
        .optional("model", .path(mustExist: true), help: help)
    }

    /// How this file reads `model`, whatever help a stage gave it.
    private static let modelPath = model(help: "")

    /// `model_from`: a training stage's output instead of `model`.
    static let modelFrom = StageParameter<String?>.optional(
        "model_from", .string, help: "instead of model: a training stage's output, STAGE or STAGE/SUBFOLDER")

    static func modelsFolder(workdir: String) -> String { workdir + "/models" }

    static func folder(workdir: String, stage: String) -> String { modelsFolder(workdir: workdir) + "/" + stage }

    /// The folder `reference` names, after checking that its stage is upstream of `setup`'s stage.
    static func resolve(_ reference: String, key: String, setup: StageSetup) throws -> String {
        try resolve(reference, key: key, definition: setup.definition, pipeline: setup.pipeline)
    }

    static func resolve(_ reference: String, key: String, definition: StageDefinition, pipeline: PipelineDefinition) throws -> String {
        let setup = (definition: definition, pipeline: pipeline)
        let parts = reference.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let stage = parts.first, !parts.contains("..") else {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line,
                                key: "stages.\(setup.definition.name).\(key)", "expected STAGE or STAGE/SUBFOLDER")
        }
        guard setup.pipeline.ancestors(of: setup.definition.name).contains(stage) else {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line,
                                key: "stages.\(setup.definition.name).\(key)",
                                "`\(stage)` must be a stage upstream of this one (add it to `needs`)")
        }
        return folder(workdir: setup.pipeline.workdir, stage: parts.joined(separator: "/"))
    }

    /// A stage's model folder from exactly one of `model` (a path) and `model_from` (a stage's output).
    static func modelFolder(_ setup: StageSetup) throws -> String {
        try modelFolder(of: setup.definition, pipeline: setup.pipeline)
    }

    /// The model folder of stage `definition` of `pipeline` (another stage's, as decontaminate
    /// reads its filter's).
    static func modelFolder(of definition: StageDefinition, pipeline: PipelineDefinition) throws -> String {
        let setup = (definition: definition, pipeline: pipeline)
        let p = definition.parameters
        switch (p[modelPath], p[modelFrom]) {
        case (let path?, nil): return path
        case (nil, let reference?): return try resolve(reference, key: "model_from", definition: definition, pipeline: pipeline)
        default:
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name)",
                                "give exactly one of `model` (a folder) and `model_from` (a stage that trains one)")
        }
    }

    /// At load time, before any stage runs: a `model` folder's config.json and safetensors
    /// header against the model the stage builds (`architecture`), reported as one line (the
    /// first problem and how many more). A `model_from` folder is written by a training stage
    /// during the run, so it is not there to check yet.
    static func check(_ setup: StageSetup, architecture: BlipArchitecture) throws {
        guard let path = setup.parameters[modelPath] else { return }
        let problems = ModelFolderCheck.problems(folder: URL(fileURLWithPath: path), for: architecture)
        guard let summary = ModelFolderCheck.summary(problems) else { return }
        let name = setup.definition.name
        throw PipelineError(file: setup.pipeline.file, line: setup.definition.keyLines["model"] ?? setup.definition.line,
                            key: "stages.\(name).model",
                            "the `\(name)` stage cannot use \(path) as a \(architecture.rawValue): \(summary)")
    }

    /// The fingerprint inputs of a `model` / `model_from` pair: the model files' digests for a
    /// path; nothing extra for a stage's output (that stage's fingerprint is upstream already).
    static func fingerprintInputs(_ p: StageParameters) throws -> [String] {
        guard let path = p[modelPath] else { return [] }
        return try modelDigest(folder: path)
    }

    /// Writes a model folder under a temporary name, then swaps it in whole: a stopped run never
    /// leaves a half-written folder under the final name.
    static func replace(_ final: String, writing body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = (final as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let temporary = parent + "/." + (final as NSString).lastPathComponent + ".in-progress"
        try? fm.removeItem(atPath: temporary)
        try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        try body(URL(fileURLWithPath: temporary))
        try? fm.removeItem(atPath: final)
        try fm.moveItem(atPath: temporary, toPath: final)
    }
}
