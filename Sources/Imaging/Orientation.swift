/// EXIF orientation (tag 0x0112) and the transposition that undoes it, as Pillow's
/// `ImageOps.exif_transpose` applies it.
public enum ExifOrientation: Int, Sendable, Equatable, CaseIterable {
    case normal = 1
    case mirrorHorizontal = 2
    case rotate180 = 3
    case mirrorVertical = 4
    /// Mirror across the main diagonal (Pillow TRANSPOSE).
    case transpose = 5
    /// Stored rotated; displayed after turning 90 degrees clockwise (Pillow ROTATE_270).
    case rotate90Clockwise = 6
    /// Mirror across the anti-diagonal (Pillow TRANSVERSE).
    case transverse = 7
    /// Displayed after turning 90 degrees counter-clockwise (Pillow ROTATE_90).
    case rotate90CounterClockwise = 8

    /// Reads the orientation from JPEG APP1, PNG eXIf or WebP EXIF data; nil when absent or invalid.
    public static func read(from bytes: [UInt8]) -> ExifOrientation? {
        guard let tiff = exifPayload(bytes) else { return nil }
        return orientation(inTIFF: tiff).flatMap(ExifOrientation.init(rawValue:))
    }

    /// Returns the image as it should be displayed.
    public func apply(to image: RGBImage) -> RGBImage {
        let w = image.width
        let h = image.height
        let swaps = rawValue >= 5
        let ow = swaps ? h : w
        let oh = swaps ? w : h
        if self == .normal { return image }
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // For each output pixel (x, y) of an ow x oh image, the source pixel (sx, sy).
                for y in 0..<oh {
                    for x in 0..<ow {
                        let sx: Int
                        let sy: Int
                        switch self {
                        case .normal: (sx, sy) = (x, y)
                        case .mirrorHorizontal: (sx, sy) = (w - 1 - x, y)
                        case .rotate180: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .mirrorVertical: (sx, sy) = (x, h - 1 - y)
                        case .transpose: (sx, sy) = (y, x)
                        case .rotate90Clockwise: (sx, sy) = (y, h - 1 - x)
                        case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case .rotate90CounterClockwise: (sx, sy) = (w - 1 - y, x)
                        }
                        let s = (sy * w + sx) * 3
                        let d = (y * ow + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}

private func be16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
private func be32(_ b: [UInt8], _ i: Int) -> Int { be16(b, i) << 16 | be16(b, i + 2) }
private func le32(_ b: [UInt8], _ i: Int) -> Int {
    Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
}

/// The TIFF structure of the first EXIF block, without any "Exif\0\0" prefix.
func exifPayload(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
    let exifPrefix: [UInt8] = Array("Exif".utf8) + [0, 0]
    func strip(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        s.starts(with: exifPrefix) ? s.dropFirst(6) : s
    }
    switch ImageFormat.sniff(bytes) {
    case .jpeg:
        // Marker segments: FF xx, big-endian length including itself, until SOS.
        var i = 2
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            let length = be16(bytes, i + 2)
            guard length >= 2, i + 2 + length <= bytes.count else { return nil }
            let body = bytes[(i + 4)..<(i + 2 + length)]
            if marker == 0xE1 && body.starts(with: exifPrefix) { return body.dropFirst(6) }
            i += 2 + length
        }
        return nil
    case .png:
        // Chunks: length, type, data, CRC.
        var i = 8
        while i + 12 <= bytes.count {
            let length = be32(bytes, i)
            guard length >= 0, i + 12 + length <= bytes.count else { return nil }
            let type = bytes[(i + 4)..<(i + 8)]
            if type.elementsEqual("eXIf".utf8) { return strip(bytes[(i + 8)..<(i + 8 + length)]) }
            if type.elementsEqual("IEND".utf8) { return nil }
            i += 12 + length
        }
        return nil
    case .webp:
        // RIFF chunks after "RIFF size WEBP": fourcc, little-endian size, data padded to even.
        var i = 12
        while i + 8 <= bytes.count {
            let size = le32(bytes, i + 4)
            guard i + 8 + size <= bytes.count else { return nil }
            if bytes[i..<(i + 4)].elementsEqual("EXIF".utf8) { return strip(bytes[(i + 8)..<(i + 8 + size)]) }
            i += 8 + size + (size & 1)
        }
        return nil
    default:
        return nil
    }
}

/// Orientation tag of IFD0 in a TIFF structure, or nil.
func orientation(inTIFF tiff: ArraySlice<UInt8>) -> Int? {
    let t = Array(tiff)
    guard t.count >= 8 else { return nil }
    let little: Bool
    if t[0] == 0x49 && t[1] == 0x49 { little = true } else if t[0] == 0x4D && t[1] == 0x4D { little = false } else { return nil }
    func u16(_ i: Int) -> Int { little ? Int(t[i]) | Int(t[i + 1]) << 8 : Int(t[i]) << 8 | Int(t[i + 1]) }
    func u32(_ i: Int) -> Int { little ? u16(i) | u16(i + 2) << 16 : u16(i) << 16 | u16(i + 2) }
    guard u16(2) == 42 else { return nil }
    let ifd = u32(4)
    guard ifd >= 8, ifd + 2 <= t.count else { return nil }
    let entries = u16(ifd)
    for e in 0..<entries {
        let p = ifd + 2 + 12 * e
        guard p + 12 <= t.count else { return nil }
        if u16(p) == 0x0112 {
            let type = u16(p + 2)
            // SHORT (3) is standard; LONG (4) appears in some writers.
            if type == 3 { return u16(p + 8) }
            if type == 4 { return u32(p + 8) }
            return nil
        }
    }
    return nil
}
