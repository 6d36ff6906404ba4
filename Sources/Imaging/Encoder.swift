internal import CJPEG

/// Image encoding.
public enum ImageEncoder {
    /// Baseline JPEG with libjpeg's standard tables scaled to `quality` (1...100), 4:2:0 chroma,
    /// ISLOW DCT and a JFIF header: the settings Pillow uses for `save(..., quality=q)`.
    public static func jpeg(_ image: RGBImage, quality: Int = 95) throws(ImageError) -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw ImageError(.corrupt, "JPEG quality must be in 1...100, got \(quality)")
        }
        guard image.width > 0, image.height > 0, image.width <= 65500, image.height <= 65500 else {
            throw ImageError(.tooLarge, "JPEG cannot hold \(image.width)x\(image.height)")
        }
        var message = [CChar](repeating: 0, count: 256)
        var data: UnsafeMutablePointer<UInt8>?
        var length = 0
        let code = image.pixels.withUnsafeBufferPointer { px in
            cjpeg_encode(px.baseAddress, Int32(image.width), Int32(image.height), 3, Int32(quality),
                         &data, &length, &message, message.count)
        }
        defer { cjpeg_free(data) }
        guard code == Int32(CJPEG_OK), let data else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ImageError(.corrupt, "JPEG encode: \(text)")
        }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }
}
