import GRDB

/// Who wrote a text: the web (alt-text), the captioner (synthetic), or a person (human
/// annotations). A sample's origin is its manifest texts' (web or human). The catalog's `origin`
/// columns hold the raw value; Swift code sees only the enum.
public enum TextOrigin: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case web, synthetic, human
}
