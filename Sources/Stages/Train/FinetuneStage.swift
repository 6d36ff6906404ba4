import Catalog
import Foundation
import Imaging
import MED
import Pipeline
import Tensor
import Training

/// CapFilt's two fine-tunings of a pre-trained MED on the human pairs: the captioner (LM on
/// "a picture of " + caption, the prompt not predicted; a BlipForConditionalGeneration folder)
/// and the filter (ITC with image-id positives + ITM with hard negatives, BLIP's retrieval
/// fine-tuning; a BlipForImageTextRetrieval folder). Writes `<workdir>/models/<stage>/`.
final class FinetuneStage: DatasetStage {
    let initFolder: String

    /// The stage's parameters, each declared once.
    enum Keys {
        static let task = StageParameter<String>.required("task", .choice(["captioner", "filter"]), help: "captioner: LM loss on the captioner; filter: ITC + ITM on the retrieval model")
        static let from = StageParameter<String>.required("from", .string, help: "the pretrain stage to start from (its captioner or retrieval folder)")
        static let origins = StageParameter("origins", .list(.choice(["web", "human"])), default: [TextOrigin.human], help: "which texts of the catalog to train on")
        static let prompt = StageParameter("prompt", .string, default: "a picture of ", help: "text the captioner is trained to continue")

        static let all = [task.spec, from.spec, origins.spec, prompt.spec]
    }

    static let type = StageType(
        name: "finetune", kind: .wholeDataset, summary: "Fine-tune a captioner (LM) or a filter (ITC + ITM) on catalog pairs.",
        parameters: TrainingKeys.runParameters + Keys.all,
        make: { setup in try FinetuneStage(setup) })

    init(_ setup: StageSetup) throws {
        let p = setup.parameters
        let sub = p[Keys.task] == "captioner" ? "captioner" : "retrieval"
        initFolder = try StageModelReference.resolve((p[Keys.from]) + "/" + sub, key: "from", setup: setup)
        let batch = p[TrainingKeys.batchSize], queue = p[TrainingKeys.queueSize]
        guard queue % batch == 0 else {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name).queue_size",
                                "must be a multiple of batch_size (\(batch))")
        }
    }

    func run(_ context: DatasetContext) throws -> String {
        let p = context.parameters
        setEngineThreads(p[TrainingKeys.threads] ?? context.threads)
        let origins = Set(p[Keys.origins])
        let pairs = try StageTrainingData.pairs(context, data: "catalog", origins: origins)
        try PretrainStage.checkEnough(pairs, p, context)
        let seed = UInt64(p[TrainingKeys.seed])
        let tokenizer = try BertTokenizer.bundled()
        let output = StageModelReference.folder(workdir: context.pipeline.workdir, stage: context.name)
        let loop = PretrainStage.loop(p)
        let log = { (folder: URL) in folder.appendingPathComponent("losses.jsonl") }
        var final: [Double] = []
        var options = DataLoaderOptions(batchSize: p[TrainingKeys.batchSize], imageSize: 0, pretraining: false, seed: seed)
        options.maxTokens = p[TrainingKeys.maxTokens]
        options.padToMaxTokens = p[TrainingKeys.padding] == "max_length"
        if p[Keys.task] == "captioner" {
            let model = try BlipCaptionerTrainingModel(folder: URL(fileURLWithPath: initFolder))
            options.transform = PretrainStage.transform(p, size: model.config.vision.imageSize, pretraining: false)
            let prompt = p[Keys.prompt]
            options.prompt = prompt
            // BLIP: the prompt's tokens without [SEP] ("[DEC] a picture of") are not predicted.
            let promptLength = prompt.isEmpty ? 0 : tokenizer.encode(prompt).count - 1
            let loader = TrainingDataLoader(pairs: pairs, tokenizer: tokenizer, options: options)
            try StageModelReference.replace(output) { folder in
                final = try loop.run(CaptionerObjective(model: model, promptLength: promptLength), loader: loader, context: context,
                                     log: log(folder))
                try model.save(folder: folder)
            }
            return String(format: "{\"pairs\":%d,\"lm\":%.4f}", pairs.count, final[0])
        }
        let model = try PretrainStage.pretrainingModel(p, from: initFolder, captioner: nil)
        options.transform = PretrainStage.transform(p, size: model.config.vision.imageSize, pretraining: false)
        let loader = TrainingDataLoader(pairs: pairs, tokenizer: tokenizer, options: options)
        let objective = PretrainingObjective(model: model, task: .retrieval, alpha: Float(p[TrainingKeys.alpha]), seed: seed,
                                             parameters: PretrainStage.trainedParameters(model, p), reportsTemperature: true)
        try StageModelReference.replace(output) { folder in
            final = try loop.run(objective, loader: loader, context: context, log: log(folder))
            // The filter folder is the retrieval model itself, so `model_from: STAGE` names it.
            try model.save(retrievalFolder: folder, captionerFolder: nil)
        }
        return String(format: "{\"pairs\":%d,\"itc\":%.4f,\"itm\":%.4f}", pairs.count, final[0], final[1])
    }
}
