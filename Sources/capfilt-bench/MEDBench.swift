import ArgumentParser
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
        let mid = median(seconds)
        var line = JSONLine()
        line.add("case", benchCase.rawValue); line.add("batch", batch); line.add("threads", threads)
        line.add("precision", precision.rawValue); line.add("kernels", Kernels.path.rawValue)
        line.add("seconds", seconds); line.add("median_seconds", mid)
        line.add("images_per_second", Double(batch) / mid); line.add("peak_rss_bytes", peakResidentBytes())
        line.print()
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
        let mid = median(seconds)
        var line = JSONLine()
        line.add("case", "sgemm"); line.add("threads", threads); line.add("m", m); line.add("k", k); line.add("n", n)
        line.add("seconds", seconds); line.add("median_seconds", mid)
        line.add("gflops", 2 * Double(m * k * n) / mid / 1e9); line.add("peak_rss_bytes", peakResidentBytes())
        line.print()
    }
}

/// The images after BLIP's test transform, stacked into [B, 3, S, S].
private func preparedPixels(_ paths: [String], size: Int) throws -> Tensor {
    let transform = BlipImageTransform(size: size)
    var values: [Float] = []
    values.reserveCapacity(paths.count * 3 * size * size)
    for path in paths {
        do {
            values += transform(try ImageDecoder.decode(contentsOf: path))
        } catch {
            throw BenchError("\(path): \(error)")
        }
    }
    return Tensor(shape: [paths.count, 3, size, size], values: values)
}
