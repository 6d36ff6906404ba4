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

    static let sizeParameters: [ParameterSpec] = [
        ParameterSpec("vision_width", .int(8...4096), default: .int(64)),
        ParameterSpec("vision_layers", .int(1...48), default: .int(2)),
        ParameterSpec("text_width", .int(8...4096), default: .int(64)),
        ParameterSpec("text_layers", .int(1...48), default: .int(2)),
        ParameterSpec("heads", .int(1...64), default: .int(4)),
        ParameterSpec("image_size", .int(8...1024), default: .int(64)),
        ParameterSpec("patch_size", .int(2...64), default: .int(8)),
        ParameterSpec("embed_dim", .int(8...4096), default: .int(64)),
        ParameterSpec("init_std", .double(0.000_001...1), default: .double(0.02)),
    ]

    /// What every training stage takes besides the model.
    static let runParameters: [ParameterSpec] = [
        ParameterSpec("steps", .int(1...10_000_000), default: .int(1000)),
        ParameterSpec("batch_size", .int(1...4096), default: .int(32)),
        ParameterSpec("lr", .double(0...1), default: .double(0.001)),
        ParameterSpec("warmup", .int(0...10_000_000), default: .int(100)),
        ParameterSpec("weight_decay", .double(0...1), default: .double(0.05)),
        ParameterSpec("alpha", .double(0...1), default: .double(0.4), help: "momentum distillation weight"),
        ParameterSpec("queue_size", .int(1...1_000_000), default: .int(1024), help: "a multiple of batch_size"),
        ParameterSpec("momentum", .double(0...1), default: .double(0.995),
                      help: "momentum encoders' EMA factor (BLIP: 0.995); 0 makes them copies of the online model"),
        ParameterSpec("temperature", .double(0.001...0.5), default: .double(0.07), help: "ITC temperature at the start (BLIP: 0.07)"),
        ParameterSpec("learn_temperature", .bool, default: .bool(true),
                      help: "BLIP learns it (clamped to 0.001...0.5); false keeps it fixed, see docs/demo-results.md"),
        ParameterSpec("max_tokens", .int(4...512), default: .int(30)),
        // Padding tokens are masked out of attention and carry no loss, so both give the same
        // losses up to float rounding (like `threads`); longest skips work on padding rows.
        ParameterSpec("padding", .choice(["longest", "max_length"]), default: .string("longest"), affectsResults: false,
                      help: "longest pads each batch to its longest text; max_length pads every text to max_tokens, as BLIP does"),
        ParameterSpec("seed", .int(0...Int.max), default: .int(0)),
        ParameterSpec("augment", .choice(["none", "blip"]), default: .string("none"),
                      help: "blip: RandomResizedCrop, flips and RandAugment; none keeps positions and colours, which the demo's captions name"),
        ParameterSpec("threads", .int(1...1024), optional: true, affectsResults: false),
    ]

    /// The training transform: BLIP's, or just the resize and normalisation.
    static func transform(_ p: StageParameters, size: Int, pretraining: Bool) -> BlipTrainTransform {
        if p.string("augment") == "blip" { return BlipTrainTransform(size: size, scale: pretraining ? (0.2, 1) : (0.5, 1)) }
        return BlipTrainTransform(size: size, scale: (1, 1), ratio: (1, 1), flip: false, randAugment: nil)
    }

    static let type = StageType(
        name: "pretrain", kind: .wholeDataset, summary: "Pre-train a MED (ITC + ITM + LM) on catalog or exported pairs.",
        parameters: sizeParameters + runParameters + [
            ParameterSpec("data", .choice(["catalog", "export", "annotations"]), default: .string("catalog"),
                          help: "catalog: every decoded sample's manifest texts; export: the export stage's blip_pretrain.json; annotations: the BLIP json list named by `annotations`"),
            ParameterSpec("annotations", .path(mustExist: true), optional: true,
                          help: "with data: annotations, a BLIP json list ({image, caption}) outside the catalog"),
            ParameterSpec("image_root", .path(mustExist: true), optional: true,
                          help: "folder the annotations' relative image paths are resolved against (default: the file's folder)"),
            ParameterSpec("origins", .list(.choice(["web", "human"])), default: .list([.string("web"), .string("human")]),
                          help: "with data: catalog, which texts"),
            ParameterSpec("itc_weight", .double(0...100), default: .double(1), help: "weight of the ITC loss (BLIP: 1)"),
            ParameterSpec("itm_weight", .double(0...100), default: .double(1), help: "weight of the ITM loss (BLIP: 1)"),
            ParameterSpec("lm_weight", .double(0...100), default: .double(1), help: "weight of the LM loss (BLIP: 1)"),
            ParameterSpec("init", .path(mustExist: true), optional: true, help: "start from a BlipForImageTextRetrieval folder"),
            ParameterSpec("init_from", .string, optional: true, help: "start from another training stage's retrieval folder"),
            ParameterSpec("init_vision_from", .string, optional: true,
                          help: "a pretrain_vision stage: the ViT starts from its classifier (BLIP starts from an ImageNet ViT), the rest at random"),
        ],
        fingerprintInputs: { p in
            try (p.string("init").map { try modelDigest(folder: $0) } ?? [])
                + (try p.string("annotations").map { ["annotations=" + (try FileDigest.sha256(path: $0))] } ?? [])
        },
        make: { setup in try PretrainStage(setup) })

    init(_ setup: StageSetup) throws {
        self.setup = setup
        let p = setup.parameters
        if p.string("init") != nil && p.string("init_from") != nil {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name)",
                                "give at most one of `init` and `init_from`")
        }
        initFolder = try p.string("init") ?? p.string("init_from").map { try StageModelReference.resolve($0, key: "init_from", setup: setup) }
        if initFolder != nil && p.string("init_vision_from") != nil {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name)",
                                "`init_vision_from` starts a model from scratch: give it without `init` or `init_from`")
        }
        visionFolder = try p.string("init_vision_from").map { try StageModelReference.resolve($0, key: "init_vision_from", setup: setup) }
        let batch = p.int("batch_size") ?? 32, queue = p.int("queue_size") ?? 1024
        guard queue % batch == 0 else {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name).queue_size",
                                "must be a multiple of batch_size (\(batch))")
        }
    }

    /// The model sizes as a BLIP config (text vocabulary: the bundled BERT one).
    static func config(_ p: StageParameters) -> BlipConfig {
        let vw = p.int("vision_width") ?? 64, tw = p.int("text_width") ?? 64, heads = p.int("heads") ?? 4
        let vision = BlipVisionConfig(hiddenSize: vw, intermediateSize: 4 * vw, numHiddenLayers: p.int("vision_layers") ?? 2,
                                      numAttentionHeads: heads, imageSize: p.int("image_size") ?? 64, patchSize: p.int("patch_size") ?? 8)
        let text = BlipTextConfig(vocabSize: 30524, hiddenSize: tw, encoderHiddenSize: vw, intermediateSize: 4 * tw,
                                  numHiddenLayers: p.int("text_layers") ?? 2, numAttentionHeads: heads)
        return BlipConfig(vision: vision, text: text, imageTextHiddenSize: p.int("embed_dim") ?? 64)
    }

    static func loop(_ p: StageParameters) -> StageTrainingLoop {
        StageTrainingLoop(steps: p.int("steps") ?? 1000, learningRate: p.double("lr") ?? 0.001, warmupSteps: p.int("warmup") ?? 100,
                          weightDecay: Float(p.double("weight_decay") ?? 0.05))
    }

    /// A retrieval-style model (ViT, shared text network, projections, ITM and LM heads) with
    /// BLIP's special tokens, initialised from `folder` or at random.
    static func pretrainingModel(_ p: StageParameters, from folder: String?, captioner: String?) throws -> BlipPretrainingModel {
        let seed = UInt64(p.int("seed") ?? 0)
        let config = try folder.map { try ModelFolder(URL(fileURLWithPath: $0)).config } ?? Self.config(p)
        var settings = PretrainingConfig(queueSize: p.int("queue_size") ?? 1024)
        settings.momentum = Float(p.double("momentum") ?? 0.995)
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
            model.initializeRandomly(seed: seed, std: Float(p.double("init_std") ?? 0.02))
        }
        model.temperature.value.fill(Float(p.double("temperature") ?? 0.07))
        return model
    }

    /// What the optimiser updates: every parameter, less the temperature when it is fixed.
    static func trainedParameters(_ model: BlipPretrainingModel, _ p: StageParameters) -> [Parameter] {
        p.bool("learn_temperature") ?? true ? model.parameters : model.parameters.filter { $0 !== model.temperature }
    }

    static func checkEnough(_ pairs: [TrainingPair], _ p: StageParameters, _ context: DatasetContext) throws {
        let batch = p.int("batch_size") ?? 32
        guard pairs.count >= batch else {
            throw StageFailure("no_data", "\(context.name): \(pairs.count) training pairs, fewer than batch_size \(batch)")
        }
    }

    func run(_ context: DatasetContext) throws -> String {
        let p = context.parameters
        setEngineThreads(p.int("threads") ?? context.threads)
        let origins = Set(p.list("origins").compactMap(\.stringValue))
        let pairs = try StageTrainingData.pairs(context, data: p.string("data") ?? "catalog", origins: origins,
                                                annotations: p.string("annotations"), imageRoot: p.string("image_root"))
        try Self.checkEnough(pairs, p, context)
        let retrievalInit = initFolder.map { f in FileManager.default.fileExists(atPath: f + "/retrieval") ? f + "/retrieval" : f }
        let captionerInit = initFolder.map { f in (f as NSString).deletingLastPathComponent + "/captioner" }
        let model = try Self.pretrainingModel(p, from: retrievalInit, captioner: retrievalInit == initFolder ? nil : captionerInit)
        if let visionFolder {
            try model.loadVision(from: try SafeTensorsFile(url: URL(fileURLWithPath: visionFolder + "/model.safetensors")))
            context.logger.info("\(context.name): ViT from \(visionFolder)")
        }
        let seed = UInt64(p.int("seed") ?? 0)
        var options = DataLoaderOptions(batchSize: p.int("batch_size") ?? 32, imageSize: model.config.vision.imageSize,
                                        pretraining: true, seed: seed)
        options.transform = Self.transform(p, size: model.config.vision.imageSize, pretraining: true)
        options.maxTokens = p.int("max_tokens") ?? 30
        options.padToMaxTokens = p.string("padding") == "max_length"
        let loader = TrainingDataLoader(pairs: pairs, tokenizer: try BertTokenizer.bundled(), options: options)
        let alpha = Float(p.double("alpha") ?? 0.4)
        let weights = LossWeights(itc: Float(p.double("itc_weight") ?? 1), itm: Float(p.double("itm_weight") ?? 1),
                                  lm: Float(p.double("lm_weight") ?? 1))
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
                      p.int("steps") ?? 1000, final[0], final[1], final[2])
    }
}
