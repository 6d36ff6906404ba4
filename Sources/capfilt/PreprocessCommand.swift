import ArgumentParser
import Foundation
import Imaging

/// Writes the model input for one image as a float32 [3, N, N] .npy file, so users can compare
/// what capfilt feeds the model with their own pipeline (`numpy.load`).
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Write one image's float32 [3, N, N] model input as a .npy file.",
        discussion: """
            test: BLIP's evaluation transform (bicubic resize to N x N, rescale, CLIP mean/std), \
            bit-identical to transformers' BlipImageProcessor pixel_values. \
            train: BLIP's training transform (RandomResizedCrop, flip, RandAugment(2, 5)), \
            drawn from SplitMix64(--seed).
            """)

    enum Transform: String, ExpressibleByArgument, CaseIterable {
        case test, train
    }

    @Argument(help: "Image file (JPEG, PNG or WebP).") var image: String
    @Option(help: "Output side N.") var size = 384
    @Option(help: "Output .npy path.") var out: String
    @Option var transform: Transform = .test
    @Option(help: "Seed of the train transform's random draws.") var seed: UInt64 = 0
    @Option(name: .customLong("scale-min"), help: "Smallest crop area fraction of the train transform (BLIP uses 0.5 for captioning, 0.2 for pre-training).")
    var scaleMin = 0.5
    @Flag(name: .customLong("exif-transpose"), help: "Apply the EXIF orientation first (transformers does not).")
    var exifTranspose = false

    func validate() throws {
        guard size >= 1 && size <= 8192 else { throw ValidationError("--size must be in 1...8192") }
        guard scaleMin > 0 && scaleMin <= 1 else { throw ValidationError("--scale-min must be in (0, 1]") }
    }

    func run() throws {
        let decoded: RGBImage
        do {
            decoded = try ImageDecoder.decode(contentsOf: image, applyOrientation: exifTranspose)
        } catch {
            Output.error("error: \(image): \(error)")
            throw ExitCode(2)
        }
        let values: [Float]
        switch transform {
        case .test:
            values = BlipImageTransform(size: size)(decoded)
        case .train:
            var rng = SplitMix64(seed: seed)
            values = BlipTrainTransform(size: size, scale: (scaleMin, 1.0))(decoded, using: &rng)
        }
        let bytes = NumpyFile.float32(values, shape: [3, size, size])
        guard FileManager.default.createFile(atPath: out, contents: Data(bytes)) else {
            Output.error("error: cannot write \(out)")
            throw ExitCode(1)
        }
    }
}
