import Foundation
import Ingest

extension TrainingPair {
    /// Pairs from a BLIP annotation file: a JSON list of {"image": path, "caption": text or [texts],
    /// "image_id": any (optional)} (BLIP's pre-training and COCO Karpathy json, and capfilt's BLIP
    /// json export). A list of captions gives one pair per caption. Image ids, strings or numbers,
    /// become 0, 1, 2, ... in order of first appearance (as BLIP's coco_karpathy_train numbers
    /// them); without image_id, each distinct image path gets one. Relative paths are resolved
    /// against `imageRoot`.
    public static func blipAnnotations(_ data: Data, imageRoot: URL? = nil, fileName: String = "annotations.json") throws -> [TrainingPair] {
        guard let entries = BLIPJSONList.entries(data) else {
            throw TrainingDataError("\(fileName): expected a JSON list of {\"image\", \"caption\"} objects")
        }
        var ids: [String: Int] = [:]
        var pairs: [TrainingPair] = []
        for (i, result) in entries.enumerated() {
            let entry: BLIPListEntry
            switch result {
            case .success(let e): entry = e
            case .failure(let problem): throw TrainingDataError("\(fileName): entry \(i): \(problem)")
            }
            let key = entry.imageID ?? "path:" + entry.image
            let id = ids[key] ?? ids.count
            ids[key] = id
            let path = entry.image.hasPrefix("/") || imageRoot == nil ? entry.image : imageRoot!.appendingPathComponent(entry.image).path
            pairs += entry.captions.map { TrainingPair(imagePath: path, caption: $0, imageID: id) }
        }
        return pairs
    }
}

/// A problem with a training data file, on one line naming the file and the entry.
public struct TrainingDataError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
