
/// What became of one fetched body with `--images`.
public struct FetchImageOutcome: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Decoded, resized, encoded and written to `path`.
        case ok
        /// The body is not a decodable JPEG, PNG or WebP (corrupt, truncated, over the pixel limit).
        case decodeError = "decode_error"
        /// An image format the decoders do not read (GIF, BMP, TIFF, animated WebP).
        case unsupportedFormat = "unsupported_format"
        case encodeError = "encode_error"
        /// The blob could not be read or the JPEG could not be written.
        case ioError = "io_error"
    }

    public var status: Status
    public var path: String? = nil
    public var width: Int? = nil
    public var height: Int? = nil
    public var originalWidth: Int? = nil
    public var originalHeight: Int? = nil
    public var error: String? = nil
}

/// One line of the results file: the fetcher's result, plus the image fields when `--images`
/// handled the body. The extra fields sit next to the result's own, so readers that decode only
/// `FetchResult` still read every line.
struct FetchResultLine: Encodable {
    var result: FetchResult
    var image: FetchImageOutcome?

    private enum ImageKeys: String, CodingKey {
        case image, width, height
        case imageStatus = "image_status"
        case imageError = "image_error"
        case originalWidth = "original_width"
        case originalHeight = "original_height"
    }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        guard let image else { return }
        // A second keyed container on the same encoder adds to the same JSON object.
        var container = encoder.container(keyedBy: ImageKeys.self)
        try container.encode(image.status.rawValue, forKey: .imageStatus)
        try container.encodeIfPresent(image.path, forKey: .image)
        try container.encodeIfPresent(image.width, forKey: .width)
        try container.encodeIfPresent(image.height, forKey: .height)
        try container.encodeIfPresent(image.originalWidth, forKey: .originalWidth)
        try container.encodeIfPresent(image.originalHeight, forKey: .originalHeight)
        try container.encodeIfPresent(image.error, forKey: .imageError)
    }
}
