import Foundation

/// One entry of a BLIP json list: `{"image": path, "caption": text or [texts], "image_id": any,
/// "match": true|false}`, the last two optional.
public struct BLIPListEntry: Sendable, Equatable {
    public var image: String
    /// A "caption" string gives one; a list gives all of them, in order.
    public var captions: [String]
    /// "image_id", a string or a number, as text.
    public var imageID: String?
    /// An audited pair's label: whether the caption matches the image.
    public var match: Bool?
}

/// BLIP's json lists read whole, for the small files that are read at once rather than ingested:
/// pretraining and Karpathy annotations, test splits, audited samples. (Ingest streams the large
/// ones record by record with `BLIPListReader`.) Each entry is read or rejected on its own, so a
/// caller chooses whether a bad entry is skipped or stops the read.
public enum BLIPJSONList {
    /// Why an entry is not a usable (image, captions) entry.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case notAnImage, notACaption

        public var description: String {
            switch self {
            case .notAnImage: return "expected an object with a string \"image\""
            case .notACaption: return "\"caption\" must be a string or a list of strings"
            }
        }
    }

    /// Every entry of a parsed JSON list, in order; nil when `json` is not a list.
    public static func entries(json: Any) -> [Result<BLIPListEntry, Problem>]? {
        guard let list = json as? [Any] else { return nil }
        return list.map { item in
            guard let object = item as? [String: Any], let image = object["image"] as? String else { return .failure(.notAnImage) }
            let captions: [String]
            if let caption = object["caption"] as? String { captions = [caption] }
            else if let list = object["caption"] as? [String], !list.isEmpty { captions = list }
            else { return .failure(.notACaption) }
            return .success(BLIPListEntry(image: image, captions: captions, imageID: object["image_id"].map { "\($0)" },
                                          match: object["match"] as? Bool))
        }
    }

    /// Every entry of a json list file's contents; nil when it is not JSON or not a list.
    public static func entries(_ data: Data) -> [Result<BLIPListEntry, Problem>]? {
        (try? JSONSerialization.jsonObject(with: data)).flatMap { entries(json: $0) }
    }
}
