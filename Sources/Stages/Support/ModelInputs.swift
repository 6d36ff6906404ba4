import Catalog
import Foundation
import Imaging
import Ingest
import Pipeline

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
/// side, normalise), on all cores (Imaging's `transformFiles`).
func loadModelImages(_ samples: [SampleRecord], size: Int, catalog: Catalog) throws -> [ModelImage] {
    let paths: [String?] = try catalog.read { session in
        try samples.map { s in try s.imageSHA256.flatMap { try session.image(sha256: $0) }?.blobPath }
    }
    let stored = paths.indices.filter { paths[$0] != nil }
    let decoded = BlipImageTransform(size: size).transformFiles(stored.map { paths[$0]! })
    var images = samples.map { ModelImage(sample: $0, pixels: nil, failure: StageFailure(.noImage, "the sample has no image")) }
    for (i, result) in zip(stored, decoded) {
        switch result {
        case .success(let pixels): images[i].pixels = pixels; images[i].failure = nil
        case .failure(let error): images[i].failure = StageFailure(.imageError, "\(error)")
        }
    }
    return images
}

/// The JSON value of a file, or nil when it cannot be read or parsed.
func readJSON(path: String) -> Any? {
    FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) }
}

/// A Karpathy / BLIP json list (`[{image, caption: text or [texts]}]`): its first `limit` entries
/// (all when 0) that have an image and a caption, image paths resolved against `imageRoot`.
/// nil when `json` is not a list.
func captionList(_ json: Any, imageRoot: String, limit: Int = 0) -> [(image: String, captions: [String])]? {
    guard let entries = BLIPJSONList.entries(json: json) else { return nil }
    return (limit > 0 ? Array(entries.prefix(limit)) : entries).compactMap { result in
        (try? result.get()).map { (resolvedImagePath($0.image, root: imageRoot), $0.captions) }
    }
}

/// A manifest's image path: absolute as it is, relative under `root`.
func resolvedImagePath(_ path: String, root: String) -> String {
    path.hasPrefix("/") ? path : root + "/" + path
}
