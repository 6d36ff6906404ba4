import ArgumentParser
import Basics
import Foundation
import MED
import Tensor
import Training

/// `capfilt-bench caption-n`: what best-of-N captioning costs. Times the caption stage's model
/// work (one vision pass per image, then nucleus sampling of N captions per image) on a randomly
/// initialised BLIP-base captioner, for each N of `--captions`, and prints the cost per image of
/// each N relative to the first. N sequences of an image share its vision pass and its
/// cross-attention keys and values, and are decoded in one batch with the other images'.
struct CaptionCountBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption-n", abstract: "Time N nucleus-sampled captions per image against one (best-of-N).")

    @Option(help: "Captions per image to compare, the first being the baseline.") var captions = "1,5"
    @Option(help: "Images decoded together (the caption stage's batch_size).") var images = 4
    @Option(name: .customLong("image-size"), help: "BLIP's captioning models read 384 px.") var imageSize = 384
    @Option(name: .customLong("max-length"), help: "BLIP: 30.") var maxLength = 30
    @Option(name: .customLong("min-length"), help: "BLIP: 10.") var minLength = 10
    @Option(name: .customLong("repeat"), help: "Timed runs of each N after one warm-up; the best counts.") var repeats = 3
    @Option var threads = 2
    @Option var seed: UInt64 = 0

    func counts() throws -> [Int] {
        let values = captions.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--captions takes counts of at least 1, comma-separated (e.g. 1,5)")
        }
        return values.map { $0! }
    }

    func validate() throws {
        _ = try counts()
        guard threads >= 1, images >= 1, repeats >= 1 else { throw ValidationError("--threads, --images and --repeat must be at least 1") }
    }

    func run() throws {
        setEngineThreads(threads)
        let model = try randomCaptioner()
        var rng = SplitMix(seed: seed)
        let pixels = Tensor(shape: [images, 3, imageSize, imageSize])
        for i in 0..<pixels.count { pixels[flat: i] = Float(rng.uniform() * 4 - 2) }
        var config = GenerationConfig()
        config.strategy = .sample(topP: 0.9, topK: 0, temperature: 1)
        config.repetitionPenalty = 1.1
        config.maxLength = maxLength; config.minLength = minLength
        config.bosTokenID = model.config.text.bosTokenID
        config.eosTokenID = model.config.text.sepTokenID
        config.padTokenID = model.config.text.padTokenID
        let generator = CaptionGenerator(model: model)
        let seeds = (0..<images).map { UInt64($0) &+ seed }

        // Wall seconds, and CPU seconds of the whole process (not counting waits for a core that
        // other work holds: the machines these run on are often shared).
        var results: [(n: Int, seconds: [Double], cpuSeconds: [Double], tokens: Int)] = []
        for n in try counts() {
            var c = config
            c.numReturnSequences = n
            var tokens = 0
            let body = {
                let states = model.encodeImages(pixels)
                let out = generator.generate(imageStates: states, prompt: [c.bosTokenID], config: c, imageSeeds: seeds)
                tokens = out.joined().map(\.tokenIDs.count).reduce(0, +)
            }
            body()  // warm-up
            var seconds: [Double] = [], cpuSeconds: [Double] = []
            for _ in 0..<repeats {
                let t0 = monotonicSeconds(), c0 = processCPUSeconds()
                body()
                seconds.append(monotonicSeconds() - t0)
                cpuSeconds.append(processCPUSeconds() - c0)
            }
            results.append((n, seconds, cpuSeconds, tokens))
        }
        let base = results[0].seconds.min()! / Double(images)
        let cpuBase = results[0].cpuSeconds.min()! / Double(images)
        Output.json(.orderedObject([
            ("case", .string("caption-n")), ("cpu", .string(cpuDescription())), ("kernels", .string(Kernels.path.rawValue)),
            ("threads", .int(threads)), ("images", .int(images)), ("image_size", .int(imageSize)),
            ("max_length", .int(maxLength)), ("min_length", .int(minLength)),
            ("runs", .array(results.map { r in
                let best = r.seconds.min()! / Double(images), cpuBest = r.cpuSeconds.min()! / Double(images)
                return .orderedObject([
                    ("captions_per_image", .int(r.n)), ("seconds", .array(r.seconds.map { JSONValue.printed($0) })),
                    ("cpu_seconds", .array(r.cpuSeconds.map { JSONValue.printed($0) })),
                    ("best_seconds_per_image", .printed(best)), ("best_cpu_seconds_per_image", .printed(cpuBest)),
                    ("tokens", .int(r.tokens)), ("cost_vs_first", .printed(best / base)), ("cpu_cost_vs_first", .printed(cpuBest / cpuBase)),
                ])
            })),
            ("peak_rss_bytes", .int(peakResidentBytes())),
        ]))
    }

    /// BLIP-base's captioner with random weights: a pre-training model of BLIP-base's sizes,
    /// saved as a BlipForConditionalGeneration folder and loaded as the caption stage loads one.
    private func randomCaptioner() throws -> BlipCaptioningModel {
        var blip = BlipConfig.blipBase(architectures: ["BlipForConditionalGeneration"])
        blip.vision.imageSize = imageSize
        try blip.validate()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-bench-caption-n-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            let pretraining = BlipPretrainingModel(config: blip, settings: PretrainingConfig(queueSize: 16))
            pretraining.initializeRandomly(seed: seed)
            try blip.jsonData().write(to: folder.appendingPathComponent("config.json"), options: .atomic)
            try SafeTensorsWriter.write(pretraining.captionerTensors(), to: folder.appendingPathComponent("model.safetensors"))
        }
        return try BlipCaptioningModel(folder: folder)
    }
}
