import ArgumentParser
import Foundation
import MED
import Tensor
import Training

/// `capfilt-bench train`: times BLIP pre-training steps (zero gradients, ITC + ITM + LM forward
/// and backward with the momentum update and queue, AdamW) of a randomly initialised model on a
/// random batch; scripts/bench_training.py runs the same step in PyTorch. Prints one JSON line.
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Time pre-training steps (scripts/bench_training.py).")

    @Option(name: .customLong("config"), help: "A Hugging Face BLIP config.json (instead of the sizes below).")
    var configFile: String?
    @Option(name: .customLong("vision-width")) var visionWidth = 768
    @Option(name: .customLong("vision-layers")) var visionLayers = 12
    @Option(name: .customLong("vision-heads")) var visionHeads = 12
    @Option(name: .customLong("image-size")) var imageSize = 224
    @Option(name: .customLong("patch-size")) var patchSize = 16
    @Option(name: .customLong("text-width")) var textWidth = 768
    @Option(name: .customLong("text-layers")) var textLayers = 12
    @Option(name: .customLong("text-heads")) var textHeads = 12
    @Option(name: .customLong("embed-dim"), help: "Width of the ITC projections.") var embedDim = 256
    @Option var batch = 16
    @Option(name: .customLong("seq"), help: "Tokens per caption ([CLS] ... [SEP], no padding).") var sequence = 20
    @Option(name: .customLong("queue-size")) var queueSize = 57_600
    @Option(help: "Untimed steps first.") var warmup = 2
    @Option(help: "Timed steps.") var steps = 5
    @Option var threads = 2
    @Option var seed: UInt64 = 0

    func validate() throws {
        guard threads >= 1, batch >= 1, steps >= 1, warmup >= 0 else {
            throw ValidationError("--threads, --batch and --steps must be at least 1, --warmup at least 0")
        }
        guard sequence >= 2 else { throw ValidationError("--seq must be at least 2 ([CLS] and [SEP])") }
    }

    /// The model's sizes: the config file, or the options (BLIP's vocabulary, MLPs 4x wide).
    func config() throws -> BlipConfig {
        if let configFile { return try BlipConfig(contentsOf: URL(fileURLWithPath: configFile)) }
        let c = BlipConfig.sized(visionWidth: visionWidth, visionLayers: visionLayers, visionHeads: visionHeads,
                                 imageSize: imageSize, patchSize: patchSize, textWidth: textWidth, textLayers: textLayers,
                                 textHeads: textHeads, embedDim: embedDim)
        try c.validate()
        return c
    }

    func run() throws {
        setEngineThreads(threads)
        let config = try config()
        let model = BlipPretrainingModel(config: config, settings: PretrainingConfig(queueSize: queueSize))
        model.initializeRandomly(seed: seed)
        let optimizer = AdamW(parameters: model.parameters)
        var rng = SplitMix(seed: seed)
        let s = config.vision.imageSize
        let pixels = Tensor(shape: [batch, 3, s, s])
        for i in 0..<pixels.count { pixels[flat: i] = Float(rng.uniform() * 2 - 1) }
        var ids: [Int] = []
        for _ in 0..<batch {
            ids += [BertTokenizer.clsID] + (1..<(sequence - 1)).map { _ in 1000 + Int(rng.uniform() * 28_000) } + [BertTokenizer.sepID]
        }
        let input = PretrainingBatch(pixels: pixels, ids: ids, attentionMask: [Float](repeating: 1, count: batch * sequence))
        var times: [Double] = [], cpu: [Double] = [], losses: [Double] = []
        for step in 0..<(warmup + steps) {
            let start = monotonicSeconds(), cpuStart = processCPUSeconds()
            model.zeroGradients()
            let l = model.forwardBackward(input, alpha: 0.4, negatives: .sampled(seed: UInt64(step)))
            optimizer.update(learningRate: 1e-4)
            let seconds = monotonicSeconds() - start
            if step >= warmup { times.append(seconds); cpu.append(processCPUSeconds() - cpuStart) }
            losses.append(l.total)
        }
        let parameters = model.parameters.reduce(0) { $0 + $1.count }
        print("{\"impl\":\"capfilt\",\"threads\":\(threads),\"parameters\":\(parameters),\"median_s\":\(median(times)),\"cpu_median_s\":\(median(cpu)),"
              + "\"step_s\":[\(times.map { String(format: "%.4f", $0) }.joined(separator: ","))],"
              + "\"peak_rss_mb\":\(String(format: "%.1f", Double(peakResidentBytes()) / 1_048_576)),"
              + "\"losses\":[\(losses.map { String(format: "%.4f", $0) }.joined(separator: ","))]}")
    }
}
