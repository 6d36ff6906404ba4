import ArgumentParser
import Foundation
import MED
import Tensor
import Training

/// Options every training command shares: data, schedule, optimiser, checkpoints.
struct TrainingRunOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp(
        "Training data, repeatable: a BLIP json list ([{image, caption}]), a WebDataset folder or .tar shard, or an export folder (its webdataset/ shards, else its blip_pretrain.json).",
        valueName: "PATH"))
    var data: [String] = []

    @Option(name: .customLong("image-root"), help: "Folder that relative image paths of a json list are resolved against (default: the json's folder).")
    var imageRoot: String?

    @Option(help: "Run folder: checkpoints (checkpoint-NNNNNN/), losses.jsonl.")
    var output: String

    @Option(help: "Total optimiser steps of the schedule (default: --epochs full passes).")
    var steps: Int?
    @Option(help: "Epochs, when --steps is not given.")
    var epochs: Int = 1
    @Option(name: .customLong("max-steps"), help: "Stop after this global step (the schedule still spans --steps); resume later with --resume.")
    var maxSteps: Int?

    @Option(name: .customLong("batch-size")) var batchSize: Int = 16
    @Option(help: "Peak learning rate.") var lr: Double = 1e-4
    @Option(name: .customLong("min-lr")) var minLR: Double = 0
    @Option(name: .customLong("warmup-steps")) var warmupSteps: Int = 0
    @Option(help: "Decay after warm-up: cosine or linear.") var schedule: String = "cosine"
    @Option(name: .customLong("weight-decay")) var weightDecay: Float = 0.05
    @Option(name: .customLong("grad-clip"), help: "Maximum global gradient norm (0: no clipping).") var gradClip: Double = 0
    @Option var seed: UInt64 = 0
    @Option(help: "Compute threads.") var threads: Int = 2
    @Option(name: .customLong("max-tokens"), help: "Token limit with [CLS] and [SEP] (default 30 pre-training, 35 fine-tuning).")
    var maxTokens: Int?
    @Option(help: "longest: pad each batch to its longest text; max-length: pad every text to --max-tokens, as BLIP does. Padding is masked and carries no loss, so both give the same losses up to float rounding.")
    var padding: TextPadding = .longest
    @Option(name: .customLong("checkpoint-every"), help: "Save a checkpoint every N steps (0: only at the end).")
    var checkpointEvery: Int = 0
    @Flag(help: "Continue from the newest checkpoint in --output.") var resume = false
    @Option(name: .customLong("log-every"), help: "Progress line every N steps when stderr is not a terminal.")
    var logEvery: Int = 10

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data") }
        guard batchSize >= 1, threads >= 1, epochs >= 1, logEvery >= 1, checkpointEvery >= 0 else {
            throw ValidationError("--batch-size, --threads, --epochs, --log-every must be at least 1")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        guard LearningRateSchedule.Decay(rawValue: schedule) != nil else { throw ValidationError("--schedule: cosine or linear") }
    }

    /// What every training command does first: sets the engine's threads, and finds the
    /// checkpoint to continue from under `--resume` (nil, with a note, when there is none).
    func start() -> URL? {
        setEngineThreads(threads)
        let folder = URL(fileURLWithPath: output)
        let checkpoint = resume ? TrainingCheckpoints.newest(in: folder) : nil
        if resume && checkpoint == nil { trainingNote("--resume: no checkpoint in \(folder.path); starting anew") }
        return checkpoint
    }
}

/// The model's sizes for training from scratch: a config.json, or options.
struct ModelSizeOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "A Hugging Face BLIP config.json for a model trained from scratch.")
    var configFile: String?
    @Option(name: .customLong("vision-width")) var visionWidth: Int = 768
    @Option(name: .customLong("vision-layers")) var visionLayers: Int = 12
    @Option(name: .customLong("vision-heads")) var visionHeads: Int = 12
    @Option(name: .customLong("image-size")) var imageSize: Int = 224
    @Option(name: .customLong("patch-size")) var patchSize: Int = 16
    @Option(name: .customLong("text-width")) var textWidth: Int = 768
    @Option(name: .customLong("text-layers")) var textLayers: Int = 12
    @Option(name: .customLong("text-heads")) var textHeads: Int = 12
    @Option(name: .customLong("embed-dim"), help: "Width of the ITC projections.") var embedDim: Int = 256
    @Option(name: .customLong("init-std"), help: "Standard deviation of the random initialisation (initializer_range).")
    var initStd: Float = 0.02

    func config() throws -> BlipConfig {
        if let configFile { return try BlipConfig(contentsOf: URL(fileURLWithPath: configFile)) }
        let c = BlipConfig.sized(visionWidth: visionWidth, visionLayers: visionLayers, visionHeads: visionHeads,
                                 imageSize: imageSize, patchSize: patchSize, textWidth: textWidth, textLayers: textLayers,
                                 textHeads: textHeads, embedDim: embedDim)
        try c.validate()
        return c
    }
}

/// Reads every --data source into pairs.
func loadTrainingPairs(_ options: TrainingRunOptions) throws -> [TrainingPair] {
    var pairs: [TrainingPair] = []
    let fm = FileManager.default
    for path in options.data {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw TrainingDataError("\(path): no such file or folder") }
        if isDirectory.boolValue || url.pathExtension == "tar" {
            let shardsFolder = url.appendingPathComponent("webdataset")
            let json = url.appendingPathComponent("blip_pretrain.json")
            if isDirectory.boolValue && !fm.fileExists(atPath: shardsFolder.path) && fm.fileExists(atPath: json.path) {
                pairs += try jsonPairs(json, options)
                continue
            }
            let folder = fm.fileExists(atPath: shardsFolder.path) ? shardsFolder : url
            let (found, skipped) = try TrainingPair.webDataset(shards: try webDatasetShards(at: folder))
            if skipped > 0 { trainingNote("\(path): \(skipped) samples without an image or a caption skipped") }
            pairs += found
        } else {
            pairs += try jsonPairs(url, options)
        }
    }
    guard pairs.count >= options.batchSize else {
        throw TrainingDataError("\(pairs.count) pairs in the data, fewer than one batch of \(options.batchSize)")
    }
    return pairs
}

private func jsonPairs(_ url: URL, _ options: TrainingRunOptions) throws -> [TrainingPair] {
    let root = options.imageRoot.map { URL(fileURLWithPath: $0) } ?? url.deletingLastPathComponent()
    return try TrainingPair.blipAnnotations(try Data(contentsOf: url), imageRoot: root, fileName: url.lastPathComponent)
}

func trainingNote(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// How a training batch's texts are padded.
enum TextPadding: String, ExpressibleByArgument, CaseIterable {
    case longest
    case maxLength = "max-length"
}
