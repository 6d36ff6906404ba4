import Foundation

/// The manifest columns a gate reads from a sample's stored metadata (the JSON object ingest
/// writes: every extra column under its name, LAION's lower-cased): `width`, `height`,
/// `similarity`, `punsafe`, `pwatermark`, matched without case.
public struct ManifestMetadata: Sendable, Equatable {
    public var width: GateValue = .absent
    public var height: GateValue = .absent
    public var similarity: GateValue = .absent
    public var punsafe: GateValue = .absent
    public var pwatermark: GateValue = .absent

    public init() {}

    /// Reads the columns out of `json`; metadata that is not a JSON object has none of them.
    public init(json: String) {
        guard json.count > 2,
              let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return }
        for (name, value) in object {
            let text: String?
            switch value {
            case let s as String: text = s
            case let n as NSNumber: text = n.stringValue
            case is NSNull: text = nil
            default: text = String(describing: value)
            }
            switch name.lowercased() {
            case "width": width = GateValue(text: text)
            case "height": height = GateValue(text: text)
            case "similarity": similarity = GateValue(text: text)
            case "punsafe": punsafe = GateValue(text: text)
            case "pwatermark": pwatermark = GateValue(text: text)
            default: break
            }
        }
    }
}
