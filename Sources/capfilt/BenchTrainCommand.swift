import ArgumentParser
import Foundation
import MED
import Tensor
import Training

/// Times BLIP pre-training steps (zero gradients, ITC + ITM + LM forward and backward with the
/// momentum update and queue, AdamW) of a randomly initialised model on a random batch, for
/// `make bench` (scripts/bench_training.py runs the same step in PyTorch). Prints one JSON line.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train", abstract: "Time pre-training steps (used by make bench).", shouldDisplay: false)

    @OptionGroup var size: ModelSizeOptions
    @Option var batch = 16
    @Option(name: .customLong("seq"), help: "Tokens per caption ([CLS] ... [SEP], no padding).") var sequence = 20
    @Option(name: .customLong("queue-size")) var queueSize = 57_600
    @Option(help: "Untimed steps first.") var warmup = 2
    @Option(help: "Timed steps.") var steps = 5
    @Option var threads = 2
    @Option var seed: UInt64 = 0

    func run() throws {
        setEngineThreads(threads)
        let config = try size.config()
        let model = BlipPretrainingModel(config: config, settings: PretrainingConfig(queueSize: queueSize))
        model.initializeRandomly(seed: seed)
        let optimizer = AdamW(parameters: model.parameters)
        var rng = SplitMixBench(seed: seed)
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
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = benchTrainCPUSeconds()
            model.zeroGradients()
            let l = model.forwardBackward(input, alpha: 0.4, negatives: .sampled(seed: UInt64(step)))
            optimizer.update(learningRate: 1e-4)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step >= warmup { times.append(seconds); cpu.append(benchTrainCPUSeconds() - cpuStart) }
            losses.append(l.total)
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let median = times.sorted()[times.count / 2], cpuMedian = cpu.sorted()[cpu.count / 2]
        let parameters = model.parameters.reduce(0) { $0 + $1.count }
        print("{\"impl\":\"capfilt\",\"threads\":\(threads),\"parameters\":\(parameters),\"median_s\":\(median),\"cpu_median_s\":\(cpuMedian),"
              + "\"step_s\":[\(times.map { String(format: "%.4f", $0) }.joined(separator: ","))],"
              + "\"peak_rss_mb\":\(String(format: "%.1f", Double(usage.ru_maxrss) / 1024)),"
              + "\"losses\":[\(losses.map { String(format: "%.4f", $0) }.joined(separator: ","))]}")
    }
}

/// User + system CPU seconds of the whole process (all threads): robust when other work shares the cores.
private func benchTrainCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// A small seeded generator for the benchmark's random inputs.
struct SplitMixBench {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
