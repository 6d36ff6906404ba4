import Catalog
import Foundation
import Imaging
import MED
import Pipeline
import Tensor
import Training

/// Pre-trains a MED with BLIP's three losses (ITC + ITM + LM, `blip_pretrain.py`) from scratch
/// or from a checkpoint, on the noisy catalog pairs (`data: catalog`) or the export stage's
/// bootstrapped BLIP json (`data: export`). Writes `<workdir>/models/<stage>/retrieval` and
/// `/captioner` (Hugging Face folders) and `losses.jsonl`.
final class PretrainStage: DatasetStage {
    let setup: StageSetup
    let initFolder: String?
    /// A pretrain_vision stage's folder, whose ViT the model starts from.
    let visionFolder: String?

    /// The training transform: BLIP's, or just the resize and normalisation.
    static func transform(_ p: StageParameters, size: Int, pretraining: Bool) -> BlipTrainTransform {
        if p[TrainingKeys.augment] == "blip" { return BlipTrainTransform(size: size, scale: pretraining ? (0.2, 1) : (0.5, 1)) }
        return BlipTrainTransform(size: size, scale: (1, 1), ratio: (1, 1), flip: false, randAugment: nil)
    }

    /// The stage's own parameters, each declared once (the model and run settings are `TrainingKeys`).
    enum Keys {
        static let data = StageParameter("data", .choice(["catalog", "export", "annotations"]), default: "catalog", help: "catalog: every decoded sample's manifest texts; export: the export stage's blip_pretrain.json; annotations: the BLIP json list named by `annotations`")
        static let annotations = StageParameter<String?>.optional("annotations", .path(mustExist: true), help: "with data: annotations, a BLIP json list ({image, caption}) outside the catalog")
        static let imageRoot = StageParameter<String?>.optional("image_root", .path(mustExist: true), help: "folder the annotations' relative image paths are resolved against (default: the file's folder)")
        static let origins = StageParameter("origins", .list(.choice(["web", "human"])), default: [TextOrigin.web, .human], help: "with data: catalog, which texts")
        static let itcWeight = StageParameter("itc_weight", .double(0...100), default: 1.0, help: "weight of the ITC loss (BLIP: 1)")
        static let itmWeight = StageParameter("itm_weight", .double(0...100), default: 1.0, help: "weight of the ITM loss (BLIP: 1)")
        static let lmWeight = StageParameter("lm_weight", .double(0...100), default: 1.0, help: "weight of the LM loss (BLIP: 1)")
        static let initialModel = StageParameter<String?>.optional("init", .path(mustExist: true), help: "start from a BlipForImageTextRetrieval folder")
        static let initFrom = StageParameter<String?>.optional("init_from", .string, help: "start from another training stage's retrieval folder")
        static let initVisionFrom = StageParameter<String?>.optional("init_vision_from", .string, help: "a pretrain_vision stage: the ViT starts from its classifier (BLIP starts from an ImageNet ViT), the rest at random")

        static let all = [data.spec, annotations.spec, imageRoot.spec, origins.spec, itcWeight.spec, itmWeight.spec, lmWeight.spec, initialModel.spec, initFrom.spec, initVisionFrom.spec]
    }

    static let type = StageType(
        name: "pretrain", kind: .wholeDataset, summary: "Pre-train a MED (ITC + ITM + LM) on catalog or exported pairs.",
        parameters: TrainingKeys.sizeParameters + TrainingKeys.runParameters + Keys.all,
        fingerprintInputs: { p in
            try (p[Keys.initialModel].map { try modelDigest(folder: $0) } ?? [])
                + (try p[Keys.annotations].map { ["annotations=" + (try FileDigest.sha256(path: $0))] } ?? [])
        },
        make: { setup in try PretrainStage(setup) })

    init(_ setup: StageSetup) throws {
        self.setup = setup
        let p = setup.parameters
        if p[Keys.initialModel] != nil && p[Keys.initFrom] != nil {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name)",
                                "give at most one of `init` and `init_from`")
        }
        initFolder = try p[Keys.initialModel] ?? p[Keys.initFrom].map { try StageModelReference.resolve($0, key: "init_from", setup: setup) }
        if initFolder != nil && p[Keys.initVisionFrom] != nil {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name)",
                                "`init_vision_from` starts a model from scratch: give it without `init` or `init_from`")
        }
        visionFolder = try p[Keys.initVisionFrom].map { try StageModelReference.resolve($0, key: "init_vision_from", setup: setup) }
        let batch = p[TrainingKeys.batchSize], queue = p[TrainingKeys.queueSize]
        guard queue % batch == 0 else {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name).queue_size",
                                "must be a multiple of batch_size (\(batch))")
        }
    }

    /// The model sizes as a BLIP config (text vocabulary: the bundled BERT one).
    static func config(_ p: StageParameters) -> BlipConfig {
        let heads = p[TrainingKeys.heads]
        return BlipConfig.sized(visionWidth: p[TrainingKeys.visionWidth], visionLayers: p[TrainingKeys.visionLayers], visionHeads: heads,
                                imageSize: p[TrainingKeys.imageSize], patchSize: p[TrainingKeys.patchSize],
                                textWidth: p[TrainingKeys.textWidth], textLayers: p[TrainingKeys.textLayers], textHeads: heads,
                                embedDim: p[TrainingKeys.embedDim])
    }

    static func loop(_ p: StageParameters) -> StageTrainingLoop {
        StageTrainingLoop(steps: p[TrainingKeys.steps], learningRate: p[TrainingKeys.lr], warmupSteps: p[TrainingKeys.warmup],
                          weightDecay: Float(p[TrainingKeys.weightDecay]))
    }

    /// A retrieval-style model (ViT, shared text network, projections, ITM and LM heads) with
    /// BLIP's special tokens, initialised from `folder` or at random.
    static func pretrainingModel(_ p: StageParameters, from folder: String?, captioner: String?) throws -> BlipPretrainingModel {
        let seed = UInt64(p[TrainingKeys.seed])
        let config = try folder.map { try ModelFolder(URL(fileURLWithPath: $0)).config } ?? Self.config(p)
        var settings = PretrainingConfig(queueSize: p[TrainingKeys.queueSize])
        settings.momentum = Float(p[TrainingKeys.momentum])
        settings.encTokenID = BertTokenizer.encID
        settings.decTokenID = config.text.bosTokenID
        settings.padTokenID = config.text.padTokenID
        let model = BlipPretrainingModel(config: config, settings: settings)
        if let folder {
            let captionerWeights = try captioner.flatMap { c in
                FileManager.default.fileExists(atPath: c + "/model.safetensors") ? try ModelFolder(URL(fileURLWithPath: c)).weights : nil
            }
            try model.loadPretrained(retrieval: try ModelFolder(URL(fileURLWithPath: folder)).weights, captioner: captionerWeights)
            model.initializeQueues(seed: seed)
        } else {
            model.initializeRandomly(seed: seed, std: Float(p[TrainingKeys.initStd]))
        }
        model.temperature.value.fill(Float(p[TrainingKeys.temperature]))
        return model
    }

    /// What the optimiser updates: every parameter, less the temperature when it is fixed.
    static func trainedParameters(_ model: BlipPretrainingModel, _ p: StageParameters) -> [Parameter] {
        p[TrainingKeys.learnTemperature] ? model.parameters : model.parameters.filter { $0 !== model.temperature }
    }

    static func checkEnough(_ pairs: [TrainingPair], _ p: StageParameters, _ context: DatasetContext) throws {
        let batch = p[TrainingKeys.batchSize]
        guard pairs.count >= batch else {
            throw StageFailure(.noData, "\(context.name): \(pairs.count) training pairs, fewer than batch_size \(batch)")
        }
    }

    func run(_ context: DatasetContext) throws -> String {
        let p = context.parameters
        setEngineThreads(p[TrainingKeys.threads] ?? context.threads)
        let origins = Set(p[Keys.origins])
        let pairs = try StageTrainingData.pairs(context, data: p[Keys.data], origins: origins,
                                                annotations: p[Keys.annotations], imageRoot: p[Keys.imageRoot])
        try Self.checkEnough(pairs, p, context)
        let retrievalInit = initFolder.map { f in FileManager.default.fileExists(atPath: f + "/retrieval") ? f + "/retrieval" : f }
        let captionerInit = initFolder.map { f in (f as NSString).deletingLastPathComponent + "/captioner" }
        let model = try Self.pretrainingModel(p, from: retrievalInit, captioner: retrievalInit == initFolder ? nil : captionerInit)
        if let visionFolder {
            try model.loadVision(from: try SafeTensorsFile(url: URL(fileURLWithPath: visionFolder + "/model.safetensors")))
            context.logger.info("\(context.name): ViT from \(visionFolder)")
        }
        let seed = UInt64(p[TrainingKeys.seed])
        var options = DataLoaderOptions(batchSize: p[TrainingKeys.batchSize], imageSize: model.config.vision.imageSize,
                                        pretraining: true, seed: seed)
        options.transform = Self.transform(p, size: model.config.vision.imageSize, pretraining: true)
        options.maxTokens = p[TrainingKeys.maxTokens]
        options.padToMaxTokens = p[TrainingKeys.padding] == "max_length"
        let loader = TrainingDataLoader(pairs: pairs, tokenizer: try BertTokenizer.bundled(), options: options)
        let alpha = Float(p[TrainingKeys.alpha])
        let weights = LossWeights(itc: Float(p[Keys.itcWeight]), itm: Float(p[Keys.itmWeight]),
                                  lm: Float(p[Keys.lmWeight]))
        let perEpoch = loader.batchesPerEpoch
        context.logger.info("\(context.name): \(pairs.count) pairs, \(perEpoch) steps per epoch")
        let output = StageModelReference.folder(workdir: context.pipeline.workdir, stage: context.name)
        var final: [Double] = []
        try StageModelReference.replace(output) { folder in
            let objective = PretrainingObjective(model: model, task: .pretraining, alpha: alpha, seed: seed, weights: weights,
                                                 parameters: Self.trainedParameters(model, p), reportsTemperature: true)
            final = try Self.loop(p).run(objective, loader: loader, context: context, log: folder.appendingPathComponent("losses.jsonl"))
            try model.save(retrievalFolder: folder.appendingPathComponent("retrieval"),
                           captionerFolder: folder.appendingPathComponent("captioner"))
        }
        return String(format: "{\"pairs\":%d,\"steps\":%d,\"itc\":%.4f,\"itm\":%.4f,\"lm\":%.4f}", pairs.count,
                      p[TrainingKeys.steps], final[0], final[1], final[2])
    }
}
