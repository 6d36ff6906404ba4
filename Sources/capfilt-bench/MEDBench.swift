import ArgumentParser
import Basics
import Foundation
import Imaging
import MED
import Tensor

/// `capfilt-bench med`: times one model case on already-preprocessed images (decode and resize
/// are excluded, as in the PyTorch half of `make bench`; scripts/bench_med.py), or one
/// ViT-B-shaped matrix product. Prints one JSON line.
struct MEDBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "med",
        abstract: "Time a model case or the sgemm of a ViT-B MLP (scripts/bench_med.py).")

    enum Case: String, ExpressibleByArgument, CaseIterable {
        case vision, itm, itc, captionBeam = "caption-beam", captionNucleus = "caption-nucleus", sgemm
    }

    @Option(help: "Model folder (captioner for vision / caption cases, retrieval model for itm / itc).")
    var model: String?
    @Option(name: .customLong("case")) var benchCase: Case
    @Option var batch = 8
    @Option(name: .customLong("repeat"), help: "Timed runs after one warm-up.") var repeats = 3
    @Option var threads = 2
    @Option(help: "Weight format of the model (fp32 or bf16).") var precision: Precision = .fp32
    @Option(name: .customLong("max-length")) var maxLength = 20
    @Option(name: .customLong("min-length")) var minLength = 5
    @Option(help: "Text scored against every image in the itm / itc cases.")
    var text = "a man riding a red bicycle down a busy city street next to a bus"
    @Flag(help: "Accepted for older callers; the output is always one JSON line.") var json = false
    @Argument var images: [String] = []

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        setEngineThreads(threads)
        if benchCase == .sgemm { return benchGemm() }
        guard let model else { throw ValidationError("--model is required for case \(benchCase.rawValue)") }
        let folder = URL(fileURLWithPath: model)
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        let paths = (0..<batch).map { images[$0 % images.count] }

        let body: () -> Void
        switch benchCase {
        case .vision, .captionBeam, .captionNucleus:
            let m = try BlipCaptioningModel(folder: folder, precision: precision)
            let pixels = try preparedPixels(paths, size: m.config.vision.imageSize)
            let generator = CaptionGenerator(model: m)
            var config = GenerationConfig()
            config.maxLength = maxLength; config.minLength = minLength
            config.strategy = benchCase == .captionNucleus ? .sample(topP: 0.9, topK: 0, temperature: 1) : .beam(width: 3)
            let benchCase = benchCase
            body = {
                let states = m.encodeImages(pixels)
                if benchCase != .vision { _ = generator.generate(imageStates: states, prompt: [config.bosTokenID], config: config) }
            }
        case .itm, .itc:
            let m = try BlipRetrievalModel(folder: folder, precision: precision)
            let tokenizer = try BertTokenizer(modelFolder: folder)
            let pixels = try preparedPixels(paths, size: m.config.vision.imageSize)
            let ids = Array(repeating: tokenizer.encode(text), count: batch).flatMap { $0 }
            let (batch, itm) = (batch, benchCase == .itm)
            body = {
                let states = m.encodeImages(pixels)
                if itm {
                    _ = m.itmLogits(groundedHidden: m.groundedHidden(ids: ids, sequences: batch, keyValid: nil, imageStates: states))
                } else {
                    _ = m.imageFeatures(imageStates: states)
                    _ = m.textFeatures(textHidden: m.textHidden(ids: ids, sequences: batch, keyValid: nil))
                }
            }
        case .sgemm:
            return
        }
        body()  // warm-up
        var seconds: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = monotonicSeconds()
            body()
            seconds.append(monotonicSeconds() - t0)
        }
        let median = median(seconds)
        Output.json(.orderedObject([
            ("case", .string(benchCase.rawValue)), ("batch", .int(batch)), ("threads", .int(threads)),
            ("precision", .string(precision.rawValue)), ("kernels", .string(Kernels.path.rawValue)),
            ("bf16_products", .string(BF16Products.active.rawValue)),
            ("seconds", .array(seconds.map { JSONValue.printed($0) })), ("median_seconds", .printed(median)),
            ("images_per_second", .printed(Double(batch) / median)), ("peak_rss_bytes", .int(peakResidentBytes())),
        ]))
    }

    /// GFLOP/s of one ViT-B MLP-shaped product: [8·577, 768] x [768, 3072].
    func benchGemm() {
        let m = 8 * 577, k = 768, n = 3072
        let a = Tensor(shape: [m, k]), w = Tensor(shape: [n, k]), out = Tensor(shape: [m, n])
        for i in 0..<a.count { a[flat: i] = Float(i % 7) * 0.01 }
        for i in 0..<w.count { w[flat: i] = Float(i % 5) * 0.01 }
        linear(a, weight: w, bias: nil, out: out)
        var seconds: [Double] = []
        for _ in 0..<max(3, repeats) {
            let t0 = monotonicSeconds()
            linear(a, weight: w, bias: nil, out: out)
            seconds.append(monotonicSeconds() - t0)
        }
        let median = median(seconds)
        Output.json(.orderedObject([
            ("case", .string("sgemm")), ("threads", .int(threads)), ("m", .int(m)), ("k", .int(k)), ("n", .int(n)),
            ("seconds", .array(seconds.map { JSONValue.printed($0) })), ("median_seconds", .printed(median)),
            ("gflops", .printed(2 * Double(m * k * n) / median / 1e9)), ("peak_rss_bytes", .int(peakResidentBytes())),
        ]))
    }

    /// The images as one model batch; an unreadable file stops the benchmark.
    private func modelInput(_ paths: [String], size: Int) throws -> Tensor {
        ImageBatch.stack(try BlipImageTransform(size: size).transformFiles(paths).map { try $0.get() }, size: size)
    }
}

/// The images after BLIP's test transform, stacked into [B, 3, S, S].
private func preparedPixels(_ paths: [String], size: Int) throws -> Tensor {
    var pixels: [[Float]] = []
    for (path, result) in zip(paths, BlipImageTransform(size: size).transformFiles(paths)) {
        switch result {
        case .success(let values): pixels.append(values)
        case .failure(let error): throw BenchError("\(path): \(error)")
        }
    }
    return ImageBatch.stack(pixels, size: size)
}
