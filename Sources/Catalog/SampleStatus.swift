import GRDB

/// How one sample ended a stage: `ok`, or the word of a failure. The catalog's `status` columns
/// hold the raw value; Swift code sees this type.
///
/// A struct rather than an enum: statuses come from several vocabularies (a fetch's outcome, an
/// image decoder's error kinds, the stages' own words), and the catalog records whichever a
/// stage wrote. The words the project writes itself are the static members; the conversions
/// from the other vocabularies live where those types are known (the stages).
public struct SampleStatus: RawRepresentable, Hashable, Comparable, Sendable, Codable, CodingKeyRepresentable,
    CustomStringConvertible, CustomDebugStringConvertible, DatabaseValueConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The sample finished the stage: what downstream stages wait for.
    public static let ok = SampleStatus(rawValue: "ok")
    /// Fetched from a local archive (a WebDataset shard member) without the network: an image
    /// as good as an `ok` fetch. It names the fetch only; the sample's mark is `ok`.
    public static let local = SampleStatus(rawValue: "local")
    /// The sample has no (fetched) image.
    public static let noImage = SampleStatus(rawValue: "no_image")
    /// The sample's image could not be read or prepared for a model.
    public static let imageError = SampleStatus(rawValue: "image_error")
    /// A file could not be read or written.
    public static let io = SampleStatus(rawValue: "io")
    /// A manifest row that could not be read (the source stage's failures).
    public static let malformed = SampleStatus(rawValue: "malformed")

    public var description: String { rawValue }
    /// Quoted, as a string's: values that hold a status print as they did when it was a string.
    public var debugDescription: String { rawValue.debugDescription }

    public static func < (a: SampleStatus, b: SampleStatus) -> Bool { a.rawValue < b.rawValue }
}
