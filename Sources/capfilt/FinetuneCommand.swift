import ArgumentParser
import Foundation
import MED
import Tensor
import Training

/// `capfilt finetune --task caption|retrieval`: BLIP's two fine-tunings for CapFilt.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a captioner (LM, --task caption) or a filter (ITC + ITM, --task retrieval).",
        discussion: """
            caption: a BlipForConditionalGeneration folder (--init) trained with the LM loss on \
            "a picture of " + caption, the prompt not predicted. retrieval: a BlipForImageTextRetrieval \
            folder trained with ITC (momentum, queue, image-id positives) and ITM (hard negatives). \
            Without --init the model starts from scratch (--config or the size options). \
            Checkpoints: OUTPUT/checkpoint-NNNNNN/{captioner or retrieval}/ and training-state.safetensors.
            """)

    enum Task: String, ExpressibleByArgument, CaseIterable { case caption, retrieval }

    @Option var task: Task
    @OptionGroup var training: TrainingRunOptions
    @OptionGroup var size: ModelSizeOptions
    @Option(name: .customLong("init"), help: "Hugging Face folder to start from (the task's model class).")
    var initFolder: String?
    @Option(help: "Captioner prompt (prepended to every caption, excluded from the loss).") var prompt = "a picture of "
    @Option(name: .customLong("queue-size"), help: "Retrieval: ITC feature queue length (a multiple of --batch-size).")
    var queueSize: Int = 57_600
    @Option(help: "Retrieval: weight of the momentum distillation targets (ramped over the first epoch).") var alpha: Float = 0.4

    func validate() throws {
        if task == .retrieval && (queueSize <= 0 || queueSize % training.batchSize != 0) {
            throw ValidationError("--queue-size must be a positive multiple of --batch-size")
        }
    }

    mutating func run() throws {
        let checkpoint = training.start()
        let folderName = task == .caption ? "captioner" : "retrieval"
        let config: BlipConfig
        if let checkpoint {
            config = try BlipConfig(contentsOf: checkpoint.appendingPathComponent(folderName + "/config.json"))
        } else if let initFolder {
            config = try ModelFolder(URL(fileURLWithPath: initFolder)).config
        } else {
            config = try size.config()
        }
        let tokenizer = try initFolder.map { try BertTokenizer(modelFolder: URL(fileURLWithPath: $0)) } ?? BertTokenizer.bundled()
        let pairs = try loadTrainingPairs(training)
        var data = DataLoaderOptions(batchSize: training.batchSize, imageSize: config.vision.imageSize, pretraining: false, seed: training.seed)
        if let m = training.maxTokens { data.maxTokens = m }
        data.padToMaxTokens = training.padding == .maxLength

        let objective: CheckpointedObjective
        switch task {
        case .caption:
            let model: BlipCaptionerTrainingModel
            if checkpoint == nil, let initFolder {
                model = try BlipCaptionerTrainingModel(folder: URL(fileURLWithPath: initFolder))
            } else {
                model = BlipCaptionerTrainingModel(config: config)
                if checkpoint == nil { model.initializeRandomly(seed: training.seed, std: size.initStd) }
            }
            data.prompt = prompt
            // BLIP: the prompt's tokens without [SEP] ("[DEC] a picture of") are not predicted.
            let promptLength = tokenizer.encode(prompt).count - 1
            objective = CaptionerObjective(model: model, promptLength: promptLength)
        case .retrieval:
            var settings = PretrainingConfig(queueSize: queueSize)
            settings.encTokenID = BertTokenizer.encID
            settings.decTokenID = config.text.bosTokenID
            settings.padTokenID = config.text.padTokenID
            let model = BlipPretrainingModel(config: config, settings: settings)
            if checkpoint == nil {
                if let initFolder {
                    try model.loadPretrained(retrieval: try ModelFolder(URL(fileURLWithPath: initFolder)).weights, captioner: nil)
                    model.initializeQueues(seed: training.seed)
                } else {
                    model.initializeRandomly(seed: training.seed, std: size.initStd)
                }
            }
            objective = PretrainingObjective(model: model, task: .retrieval, alpha: alpha, seed: training.seed)
        }
        let loader = TrainingDataLoader(pairs: pairs, tokenizer: tokenizer, options: data)
        trainingNote("finetune \(task.rawValue): \(pairs.count) pairs, \(loader.batchesPerEpoch) steps per epoch")
        try TrainingLoop(options: training, loader: loader, objective: objective).run(resumeFrom: checkpoint)
    }
}
