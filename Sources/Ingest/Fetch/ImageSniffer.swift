/// Image formats recognised by their first bytes.
public enum SniffedFormat: String, Sendable, Codable {
    case jpeg, png, webp, gif, bmp, tiff

    /// Bytes needed to tell every format apart (WebP needs 12).
    static let prefixLength = 12

    /// The format whose signature `prefix` starts with, or nil.
    public static func sniff<C: Collection>(_ prefix: C) -> SniffedFormat? where C.Element == UInt8 {
        let b = Array(prefix.prefix(prefixLength))
        func starts(_ signature: [UInt8]) -> Bool { b.count >= signature.count && Array(b[0..<signature.count]) == signature }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if b.count >= 12 && starts(Array("RIFF".utf8)) && Array(b[8..<12]) == Array("WEBP".utf8) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts([0x42, 0x4D]) && b.count >= 6 { return .bmp }
        return nil
    }
}

/// Content-Type check, applied before the body is read.
///
/// Accepted: no Content-Type at all, any `image/*`, and the generic binary types that object
/// stores and download scripts send for images (`application/octet-stream`,
/// `binary/octet-stream`, `application/binary`, `application/x-binary`, `application/download`,
/// `application/force-download`, `application/x-download`). Anything else (`text/html`,
/// `application/json`, `video/mp4`, ...) is `not_image`. The body's first bytes are checked
/// either way.
public func contentTypeMayBeImage(_ contentType: String?) -> Bool {
    guard let contentType else { return true }
    let mime = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() } ?? ""
    if mime.isEmpty { return true }
    if mime.hasPrefix("image/") { return true }
    return binaryContentTypes.contains(mime)
}

private let binaryContentTypes: Set<String> = [
    "application/octet-stream", "binary/octet-stream", "application/binary", "application/x-binary",
    "application/download", "application/force-download", "application/x-download",
]
