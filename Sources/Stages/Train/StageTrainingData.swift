import Catalog
import Foundation
import Pipeline
import Training

/// Image-text pairs for a training stage: straight from the catalog (every sample that passed
/// decode, with its manifest texts of the chosen origins: the noisy web + human set), from the
/// export stage's BLIP json (the bootstrapped set) or from a BLIP json list outside the catalog. Image ids are sample ids (catalog) or BLIP's
/// numbering by image (json), so a sample's texts are positives of each other.
enum StageTrainingData {
    static func pairs(_ context: DatasetContext, data: String, origins: Set<String>,
                      annotations: String? = nil, imageRoot: String? = nil) throws -> [TrainingPair] {
        switch data {
        case "annotations":
            guard let path = annotations else { throw StageFailure("config", "data: annotations needs `annotations: <BLIP json list>`") }
            guard let bytes = FileManager.default.contents(atPath: path) else { throw StageFailure("io", "cannot read \(path)") }
            let root = URL(fileURLWithPath: imageRoot ?? (path as NSString).deletingLastPathComponent)
            return try TrainingPair.blipAnnotations(bytes, imageRoot: root, fileName: path)
        case "export":
            guard context.upstream(type: "export") != nil else {
                throw StageFailure("config", "data: export needs an `export` stage upstream of \(context.name)")
            }
            let path = context.workspace.exportFolder + "/blip_pretrain.json"
            guard let bytes = FileManager.default.contents(atPath: path) else { throw StageFailure("io", "cannot read \(path)") }
            return try TrainingPair.blipAnnotations(bytes, fileName: path)
        default:
            guard let decode = context.upstream(type: "decode") else {
                throw StageFailure("config", "data: catalog needs a `decode` stage upstream of \(context.name)")
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
