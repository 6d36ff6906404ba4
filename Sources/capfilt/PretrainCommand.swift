import ArgumentParser
import Foundation
import MED
import Tensor
import Training

/// `capfilt pretrain`: BLIP's pre-training (ITC + ITM + LM) on image-text pairs.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pre-train BLIP (ITC + ITM + LM) on BLIP json or WebDataset shards.",
        discussion: """
            Starts from a BlipForImageTextRetrieval folder (--init, with an optional \
            BlipForConditionalGeneration folder for the decoder: --init-captioner) or from scratch \
            (--config or the size options). Checkpoints: OUTPUT/checkpoint-NNNNNN/{retrieval,captioner}/ \
            (Hugging Face folders) and training-state.safetensors; the loss log is OUTPUT/losses.jsonl.
            """)

    @OptionGroup var training: TrainingRunOptions
    @OptionGroup var size: ModelSizeOptions
    @Option(name: .customLong("init"), help: "BlipForImageTextRetrieval folder to start from.") var initFolder: String?
    @Option(name: .customLong("init-captioner"), help: "BlipForConditionalGeneration folder for the decoder's self-attention and LM head.")
    var initCaptioner: String?
    @Option(name: .customLong("queue-size"), help: "ITC feature queue length (a multiple of --batch-size).")
    var queueSize: Int = 57_600
    @Option(help: "Weight of the momentum distillation targets (ramped over the first two epochs).") var alpha: Float = 0.4

    func validate() throws {
        guard queueSize > 0 && queueSize % training.batchSize == 0 else {
            throw ValidationError("--queue-size must be a positive multiple of --batch-size")
        }
    }

    mutating func run() throws {
        let checkpoint = training.start()

        var settings = PretrainingConfig(queueSize: queueSize)
        let config: BlipConfig
        let tokenizer: BertTokenizer
        if let checkpoint {
            config = try BlipConfig(contentsOf: checkpoint.appendingPathComponent("retrieval/config.json"))
        } else if let initFolder {
            config = try ModelFolder(URL(fileURLWithPath: initFolder)).config
        } else {
            config = try size.config()
        }
        tokenizer = try initFolder.map { try BertTokenizer(modelFolder: URL(fileURLWithPath: $0)) } ?? BertTokenizer.bundled()
        settings.encTokenID = BertTokenizer.encID
        settings.decTokenID = config.text.bosTokenID
        settings.padTokenID = config.text.padTokenID
        let model = BlipPretrainingModel(config: config, settings: settings)
        if checkpoint == nil {
            if let initFolder {
                let retrieval = try ModelFolder(URL(fileURLWithPath: initFolder)).weights
                let captioner = try initCaptioner.map { try ModelFolder(URL(fileURLWithPath: $0)).weights }
                try model.loadPretrained(retrieval: retrieval, captioner: captioner)
                model.initializeQueues(seed: training.seed)
            } else {
                model.initializeRandomly(seed: training.seed, std: size.initStd)
            }
        }

        let pairs = try loadTrainingPairs(training)
        var data = DataLoaderOptions(batchSize: training.batchSize, imageSize: config.vision.imageSize, pretraining: true, seed: training.seed)
        if let m = training.maxTokens { data.maxTokens = m }
        data.padToMaxTokens = training.padding == .maxLength
        let loader = TrainingDataLoader(pairs: pairs, tokenizer: tokenizer, options: data)
        trainingNote("pretrain: \(pairs.count) pairs, \(loader.batchesPerEpoch) steps per epoch, "
                     + "\(model.parameters.reduce(0) { $0 + $1.count }) parameters")
        let objective = PretrainingObjective(model: model, task: .pretraining, alpha: alpha, seed: training.seed)
        try TrainingLoop(options: training, loader: loader, objective: objective).run(resumeFrom: checkpoint)
    }
}
