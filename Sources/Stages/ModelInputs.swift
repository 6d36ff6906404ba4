import Basics
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
    let out = Locked([ModelImage?](repeating: nil, count: samples.count))
    DispatchQueue.concurrentPerform(iterations: samples.count) { i in
        guard let path = paths[i] else {
            out.withLock { $0[i] = ModelImage(sample: samples[i], pixels: nil, failure: StageFailure("no_image", "the sample has no image")) }
            return
        }
        do {
            let image = try ImageDecoder.decode(contentsOf: path)
            let pixels = transform(image)
            out.withLock { $0[i] = ModelImage(sample: samples[i], pixels: pixels, failure: nil) }
        } catch {
            out.withLock { $0[i] = ModelImage(sample: samples[i], pixels: nil, failure: StageFailure("image_error", "\(error)")) }
        }
    }
    return out.current.map { $0! }
}

/// Stacks images' pixels into a [B, 3, S, S] tensor.
func stackPixels(_ images: [[Float]], size: Int) -> Tensor {
    var values = [Float]()
    values.reserveCapacity(images.count * 3 * size * size)
    for p in images { values += p }
    return Tensor(shape: [images.count, 3, size, size], values: values)
}

/// BLIP's test transform of image files, decoded on all cores: each file's pixels or its error.
func transformImageFiles(_ paths: [String], size: Int) -> [Result<[Float], Error>] {
    let transform = BlipImageTransform(size: size)
    let out = Locked([Result<[Float], Error>?](repeating: nil, count: paths.count))
    DispatchQueue.concurrentPerform(iterations: paths.count) { i in
        let result = Result { transform(try ImageDecoder.decode(contentsOf: paths[i])) }
        out.withLock { $0[i] = result }
    }
    return out.current.map { $0! }
}

/// The JSON value of a file, or nil when it cannot be read or parsed.
func readJSON(path: String) -> Any? {
    FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) }
}

/// A Karpathy / BLIP json list (`[{image, caption: text or [texts]}]`): its first `limit` entries
/// (all when 0) that have an image and a caption, image paths resolved against `imageRoot`.
/// nil when `json` is not a list of objects.
func captionList(_ json: Any, imageRoot: String, limit: Int = 0) -> [(image: String, captions: [String])]? {
    guard let list = json as? [[String: Any]] else { return nil }
    return (limit > 0 ? Array(list.prefix(limit)) : list).compactMap { entry in
        guard let image = entry["image"] as? String else { return nil }
        let captions = (entry["caption"] as? [String]) ?? (entry["caption"] as? String).map { [$0] } ?? []
        guard !captions.isEmpty else { return nil }
        return (resolvedImagePath(image, root: imageRoot), captions)
    }
}

/// A manifest's image path: absolute as it is, relative under `root`.
func resolvedImagePath(_ path: String, root: String) -> String {
    path.hasPrefix("/") ? path : root + "/" + path
}
