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
        setEngineThreads(training.threads)
        let output = URL(fileURLWithPath: training.output)
        let checkpoint = training.resume ? TrainingCheckpoints.newest(in: output) : nil
        if training.resume && checkpoint == nil { trainingNote("--resume: no checkpoint in \(output.path); starting anew") }

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
        let objective = PretrainingObjective(model: model, alpha: alpha, seed: training.seed, retrieval: false)
        try TrainingLoop(options: training, loader: loader, objective: objective).run(resumeFrom: checkpoint)
    }
}

/// ITC + ITM + LM (pre-training) or ITC + ITM with image-id positives (retrieval fine-tuning).
final class PretrainingObjective: TrainingObjective {
    let model: BlipPretrainingModel
    let alpha: Float, seed: UInt64, retrieval: Bool

    init(model: BlipPretrainingModel, alpha: Float, seed: UInt64, retrieval: Bool) {
        self.model = model; self.alpha = alpha; self.seed = seed; self.retrieval = retrieval
    }

    var termNames: [String] { retrieval ? ["itc", "itm"] : ["itc", "itm", "lm"] }
    var parameters: [Parameter] { model.parameters }

    func forwardBackward(_ batch: LoadedBatch, step: Int, stepsPerEpoch: Int) -> [Double] {
        // BLIP ramps alpha over the first two epochs of pre-training and the first epoch of fine-tuning.
        let a = retrieval ? alpha * min(1, Float(step) / Float(max(1, stepsPerEpoch)))
                          : PretrainingConfig.rampedAlpha(alpha, step: step, stepsPerEpoch: stepsPerEpoch)
        // Negatives are drawn from a seed derived from the step, so a resumed run draws the same ones.
        let negatives = NegativeSource.sampled(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step))
        let losses = model.forwardBackward(batch.batch, alpha: a, negatives: negatives,
                                           weights: retrieval ? LossWeights(itc: 1, itm: 1, lm: 0) : .all,
                                           imageIDs: retrieval ? batch.imageIDs : nil)
        return retrieval ? [losses.itc, losses.itm] : [losses.itc, losses.itm, losses.lm]
    }

    func saveModel(in folder: URL) throws {
        if retrieval {
            try model.save(retrievalFolder: folder.appendingPathComponent("retrieval"), captionerFolder: nil)
        } else {
            try model.save(retrievalFolder: folder.appendingPathComponent("retrieval"),
                           captionerFolder: folder.appendingPathComponent("captioner"))
        }
    }

    func saveState(to url: URL, step: Int, optimizer: AdamW) throws {
        try model.saveTrainingState(to: url, step: step, optimizer: optimizer)
    }

    func loadState(from url: URL, optimizer: AdamW) throws -> Int {
        let file = try SafeTensorsFile(url: url)
        if let shape = file.shape(of: "queue.image"), shape[0] != model.settings.queueSize {
            throw ValidationError("\(url.path) has a queue of \(shape[0]) features; run with --queue-size \(shape[0])")
        }
        return try model.loadTrainingState(from: url, optimizer: optimizer)
    }
}
