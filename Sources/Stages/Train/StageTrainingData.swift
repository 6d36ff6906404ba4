import Catalog
import Foundation
import Pipeline
import Training

/// Image-text pairs for a training stage: straight from the catalog (every sample that passed
/// decode, with its manifest texts of the chosen origins: the noisy web + human set), from the
/// export stage's BLIP json (the bootstrapped set) or from a BLIP json list outside the catalog. Image ids are sample ids (catalog) or BLIP's
/// numbering by image (json), so a sample's texts are positives of each other.
enum StageTrainingData {
    /// The export's pretrain json; its image paths are relative to the file's folder (absolute
    /// ones, from exports before that, are taken as they are).
    static func exportPairs(path: String) throws -> [TrainingPair] {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw StageFailure(.io, "cannot read \(path)") }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try TrainingPair.blipAnnotations(bytes, imageRoot: folder, fileName: path).map { pair in
            var pair = pair
            pair.imagePath = URL(fileURLWithPath: pair.imagePath).standardizedFileURL.path
            return pair
        }
    }

    static func pairs(_ context: DatasetContext, data: String, origins: Set<TextOrigin>,
                      annotations: String? = nil, imageRoot: String? = nil) throws -> [TrainingPair] {
        switch data {
        case "annotations":
            guard let path = annotations else { throw StageFailure(.config, "data: annotations needs `annotations: <BLIP json list>`") }
            guard let bytes = FileManager.default.contents(atPath: path) else { throw StageFailure(.io, "cannot read \(path)") }
            let root = URL(fileURLWithPath: imageRoot ?? (path as NSString).deletingLastPathComponent)
            return try TrainingPair.blipAnnotations(bytes, imageRoot: root, fileName: path)
        case "export":
            guard context.upstream(type: "export") != nil else {
                throw StageFailure(.config, "data: export needs an `export` stage upstream of \(context.name)")
            }
            return try exportPairs(path: context.workspace.exportFolder + "/blip_pretrain.json")
        default:
            guard let decode = context.upstream(type: "decode") else {
                throw StageFailure(.config, "data: catalog needs a `decode` stage upstream of \(context.name)")
            }
            var out: [TrainingPair] = []
            for catalog in context.catalogs {
                out += try catalog.read { session -> [TrainingPair] in
                    var paths: [Int64: String?] = [:]
                    var pairs: [TrainingPair] = []
                    for t in try session.textsOfSamples(passing: decode.requirement, syntheticFingerprint: nil)
                    where origins.contains(t.origin) {
                        if paths[t.sampleID] == nil {
                            let sample = try session.sample(id: t.sampleID)
                            paths[t.sampleID] = try sample?.imageSHA256.flatMap { try session.image(sha256: $0) }?.blobPath
                        }
                        guard let path = paths[t.sampleID] ?? nil else { continue }
                        pairs.append(TrainingPair(imagePath: path, caption: t.text, imageID: Int(t.sampleID)))
                    }
                    return pairs
                }
            }
            return out
        }
    }
}
