import Catalog
import Dispatch
import Foundation
import Imaging
import Pipeline
import Tensor

/// The files of a Hugging Face model folder that decide its outputs, digested for the stage
/// fingerprint: a new checkpoint in the same folder recomputes the stage.
func modelDigest(folder: String) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
        $0 == "config.json" || $0.hasSuffix(".safetensors") || $0 == "vocab.txt" || $0.hasPrefix("tokenizer")
            || $0 == "special_tokens_map.json"
    }.sorted()
    return try names.map { "\($0)=\(try FileDigest.sha256(path: folder + "/" + $0))" }
}

/// One sample's image, ready for the model, or why not.
struct ModelImage {
    var sample: SampleRecord
    var pixels: [Float]?
    var failure: StageFailure?
}

/// Decodes the samples' stored images and applies BLIP's test transform (resize to the model's
/// side, normalise), on all cores.
func loadModelImages(_ samples: [SampleRecord], size: Int, catalog: Catalog) throws -> [ModelImage] {
    let paths: [String?] = try catalog.read { session in
        try samples.map { s in try s.imageSHA256.flatMap { try session.image(sha256: $0) }?.blobPath }
    }
    let transform = BlipImageTransform(size: size)
    let out = UnsafeResults<ModelImage>(count: samples.count)
    DispatchQueue.concurrentPerform(iterations: samples.count) { i in
        guard let path = paths[i] else {
            out[i] = ModelImage(sample: samples[i], pixels: nil, failure: StageFailure("no_image", "the sample has no image"))
            return
        }
        do {
            let image = try ImageDecoder.decode(contentsOf: path)
            out[i] = ModelImage(sample: samples[i], pixels: transform(image), failure: nil)
        } catch {
            out[i] = ModelImage(sample: samples[i], pixels: nil, failure: StageFailure("image_error", "\(error)"))
        }
    }
    return (0..<samples.count).map { out[$0]! }
}

/// Stacks images' pixels into a [B, 3, S, S] tensor.
func stackPixels(_ images: [[Float]], size: Int) -> Tensor {
    var values = [Float]()
    values.reserveCapacity(images.count * 3 * size * size)
    for p in images { values += p }
    return Tensor(shape: [images.count, 3, size, size], values: values)
}
