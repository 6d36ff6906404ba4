/// An 8-bit RGB image. `pixels` is interleaved RGB, row-major, no row padding:
/// pixel (x, y) channel c lives at `(y * width + x) * 3 + c`.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size")
        precondition(pixels.count == width * height * 3, "pixel buffer does not match \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width >= 0 && height >= 0, "negative image size")
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = fill.0
            pixels[i + 1] = fill.1
            pixels[i + 2] = fill.2
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    @inlinable
    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case unsupportedFormat, corrupt, truncated, tooLarge, tooSmall, badAspectRatio, io
    }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind): \(reason)" }
}

/// Checks applied to the header dimensions before any pixel memory is allocated.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest accepted width * height. The default is Pillow's MAX_IMAGE_PIXELS.
    public var maxPixels: Int
    /// Smallest accepted min(width, height).
    public var minSide: Int
    /// Largest accepted max(width, height) / min(width, height).
    public var maxAspectRatio: Double

    public init(maxPixels: Int = 89_478_485, minSide: Int = 1, maxAspectRatio: Double = .infinity) {
        self.maxPixels = maxPixels
        self.minSide = minSide
        self.maxAspectRatio = maxAspectRatio
    }

    public static let `default` = DecodeLimits()

    /// Throws when an image of this size must be refused.
    public func check(width: Int, height: Int) throws(ImageError) {
        if let error = violation(width: width, height: height) { throw error }
    }

    /// The error an image of this size would raise, or nil when it is accepted.
    public func violation(width: Int, height: Int) -> ImageError? {
        guard width > 0, height > 0 else {
            return ImageError(.corrupt, "image has zero size \(width)x\(height)")
        }
        // Compare without overflowing: width * height may exceed Int for hostile headers.
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || product > maxPixels {
            return ImageError(.tooLarge, "\(width)x\(height) exceeds the limit of \(maxPixels) pixels")
        }
        if min(width, height) < minSide {
            return ImageError(.tooSmall, "\(width)x\(height) has a side below \(minSide)")
        }
        let ratio = Double(max(width, height)) / Double(min(width, height))
        if ratio > maxAspectRatio {
            return ImageError(.badAspectRatio, "\(width)x\(height) has aspect ratio \(ratio) above \(maxAspectRatio)")
        }
        return nil
    }
}

/// What to do with an alpha channel (or PNG/palette transparency) when producing RGB.
public enum AlphaMode: Sendable, Equatable {
    /// Composite onto white, as transformers' `convert_to_rgb` and img2dataset do.
    case compositeOnWhite
    /// Drop alpha, as Pillow's `Image.convert("RGB")` does.
    case drop
}

/// Container formats recognised from magic bytes.
public enum ImageFormat: Sendable, Equatable {
    case jpeg, png, webp, gif, bmp, tiff

    /// The format named by the leading bytes, or nil when unrecognised.
    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + prefix.count else { return false }
            for i in 0..<prefix.count where bytes[offset + i] != prefix[i] { return false }
            return true
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("BM".utf8)) { return .bmp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        return nil
    }
}
