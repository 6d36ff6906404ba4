import Foundation

extension TrainingPair {
    /// Pairs from a BLIP annotation file: a JSON list of {"image": path, "caption": text or [texts],
    /// "image_id": any (optional)} (BLIP's pre-training and COCO Karpathy json, and capfilt's BLIP
    /// json export). A list of captions gives one pair per caption. Image ids, strings or numbers,
    /// become 0, 1, 2, ... in order of first appearance (as BLIP's coco_karpathy_train numbers
    /// them); without image_id, each distinct image path gets one. Relative paths are resolved
    /// against `imageRoot`.
    public static func blipAnnotations(_ data: Data, imageRoot: URL? = nil, fileName: String = "annotations.json") throws -> [TrainingPair] {
        guard let list = try JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw TrainingDataError("\(fileName): expected a JSON list of {\"image\", \"caption\"} objects")
        }
        var ids: [String: Int] = [:]
        var pairs: [TrainingPair] = []
        for (i, entry) in list.enumerated() {
            guard let object = entry as? [String: Any], let image = object["image"] as? String else {
                throw TrainingDataError("\(fileName): entry \(i): expected an object with a string \"image\"")
            }
            let captions: [String]
            if let caption = object["caption"] as? String { captions = [caption] }
            else if let list = object["caption"] as? [String], !list.isEmpty { captions = list }
            else { throw TrainingDataError("\(fileName): entry \(i): \"caption\" must be a string or a list of strings") }
            let key = object["image_id"].map { "\($0)" } ?? "path:" + image
            let id = ids[key] ?? ids.count
            ids[key] = id
            let path = image.hasPrefix("/") || imageRoot == nil ? image : imageRoot!.appendingPathComponent(image).path
            pairs += captions.map { TrainingPair(imagePath: path, caption: $0, imageID: id) }
        }
        return pairs
    }
}

/// A problem with a training data file, on one line naming the file and the entry.
public struct TrainingDataError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
