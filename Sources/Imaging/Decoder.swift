import Foundation
internal import CJPEG
internal import CPNG
internal import CWebP

/// Decodes JPEG, PNG and WebP into RGB. The format is sniffed from the magic bytes, never
/// from a file name. Header dimensions are checked against `DecodeLimits` before any pixel
/// memory is allocated.
public enum ImageDecoder {
    /// - Parameters:
    ///   - alpha: how transparency becomes RGB. The default composites onto white, which is
    ///     what BLIP's image processor and img2dataset do; `.drop` matches Pillow's
    ///     `convert("RGB")`. Formats without alpha are unaffected.
    ///   - minimumSize: when set, a JPEG at least twice as large as this in both dimensions is
    ///     decoded with libjpeg's DCT-domain scaling (1/2, 1/4 or 1/8) to the smallest scale
    ///     that still covers it, as Pillow's `draft` does. Other formats ignore it.
    ///   - applyOrientation: rotate/mirror by the EXIF orientation tag, as Pillow's
    ///     `ImageOps.exif_transpose` does. Off by default, like Pillow and transformers.
    public static func decode(
        _ bytes: [UInt8], limits: DecodeLimits = .default, alpha: AlphaMode = .compositeOnWhite,
        minimumSize: (width: Int, height: Int)? = nil, applyOrientation: Bool = false
    ) throws(ImageError) -> RGBImage {
        let image = try decodeRaw(bytes, limits: limits, minimumSize: minimumSize).toRGB(alpha: alpha)
        if applyOrientation, let orientation = ExifOrientation.read(from: bytes) {
            return orientation.apply(to: image)
        }
        return image
    }

    public static func decode(
        contentsOf path: String, limits: DecodeLimits = .default, alpha: AlphaMode = .compositeOnWhite,
        minimumSize: (width: Int, height: Int)? = nil, applyOrientation: Bool = false
    ) throws(ImageError) -> RGBImage {
        let bytes = try readFile(path)
        return try decode(
            bytes, limits: limits, alpha: alpha, minimumSize: minimumSize, applyOrientation: applyOrientation)
    }

    /// Width and height from the header alone, without decoding pixels.
    public static func dimensions(_ bytes: [UInt8]) throws(ImageError) -> (width: Int, height: Int) {
        let format = try sniffOrThrow(bytes)
        switch format {
        case .jpeg:
            let result: Result<(Int, Int), ImageError> = bytes.withUnsafeBufferPointer { buf in
                var message = [CChar](repeating: 0, count: 256)
                var header = cjpeg_header()
                var decoder: OpaquePointer?
                let code = cjpeg_open(buf.baseAddress, buf.count, &decoder, &header, &message, message.count)
                defer { cjpeg_destroy(decoder) }
                guard code == Int32(CJPEG_OK) else { return .failure(jpegError(code, message)) }
                return .success((Int(header.width), Int(header.height)))
            }
            let (w, h) = try result.get()
            return (w, h)
        case .png:
            let result: Result<(Int, Int), ImageError> = bytes.withUnsafeBufferPointer { buf in
                var message = [CChar](repeating: 0, count: 256)
                var header = cpng_header()
                var decoder: OpaquePointer?
                let code = cpng_open(buf.baseAddress, buf.count, &decoder, &header, &message, message.count)
                defer { cpng_destroy(decoder) }
                guard code == Int32(CPNG_OK) else { return .failure(pngError(code, message)) }
                return .success((Int(header.width), Int(header.height)))
            }
            let (w, h) = try result.get()
            return (w, h)
        case .webp:
            var header = cwebp_header()
            let code = bytes.withUnsafeBufferPointer { cwebp_probe($0.baseAddress, $0.count, &header) }
            guard code == Int32(CWEBP_OK) else { throw webpError(code) }
            return (Int(header.width), Int(header.height))
        default:
            throw ImageError(.unsupportedFormat, "\(format) images are not supported")
        }
    }

    static func readFile(_ path: String) throws(ImageError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError(.io, "cannot read \(path)")
        }
        return [UInt8](data)
    }

    static func sniffOrThrow(_ bytes: [UInt8]) throws(ImageError) -> ImageFormat {
        if bytes.isEmpty { throw ImageError(.truncated, "empty input") }
        guard let format = ImageFormat.sniff(bytes) else {
            // A short input that is the start of a known signature was cut off, not foreign.
            let signatures: [[UInt8]] = [[0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], Array("RIFF".utf8)]
            for signature in signatures where bytes.count < 12 {
                let n = min(bytes.count, signature.count)
                if bytes[0..<n].elementsEqual(signature[0..<n]) {
                    throw ImageError(.truncated, "input ends inside the file signature")
                }
            }
            throw ImageError(.unsupportedFormat, "unrecognised image signature")
        }
        return format
    }

    static func decodeRaw(
        _ bytes: [UInt8], limits: DecodeLimits, minimumSize: (width: Int, height: Int)? = nil
    ) throws(ImageError) -> RawPixels {
        switch try sniffOrThrow(bytes) {
        case .jpeg: return try decodeJPEG(bytes, limits: limits, minimumSize: minimumSize)
        case .png: return try decodePNG(bytes, limits: limits)
        case .webp: return try decodeWebP(bytes, limits: limits)
        case let other: throw ImageError(.unsupportedFormat, "\(other) images are not supported")
        }
    }

    // MARK: JPEG

    static func jpegError(_ code: Int32, _ message: [CChar]) -> ImageError {
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch code {
        case Int32(CJPEG_ERR_TRUNCATED): return ImageError(.truncated, "JPEG: \(text)")
        case Int32(CJPEG_ERR_UNSUPPORTED): return ImageError(.unsupportedFormat, "JPEG: \(text)")
        default: return ImageError(.corrupt, "JPEG: \(text)")
        }
    }

    /// Largest DCT scale denominator (8, 4, 2, 1) whose output still covers `target`,
    /// from min(width / target width, height / target height) as Pillow's `draft` computes it.
    static func jpegScaleDenominator(width: Int, height: Int, target: (width: Int, height: Int)?) -> Int {
        guard let target, target.width > 0, target.height > 0 else { return 1 }
        let scale = min(width / target.width, height / target.height)
        for denom in [8, 4, 2] where scale >= denom { return denom }
        return 1
    }

    static func decodeJPEG(
        _ bytes: [UInt8], limits: DecodeLimits, minimumSize: (width: Int, height: Int)?
    ) throws(ImageError) -> RawPixels {
        let result: Result<RawPixels, ImageError> = bytes.withUnsafeBufferPointer { buf in
            var message = [CChar](repeating: 0, count: 256)
            var header = cjpeg_header()
            var decoder: OpaquePointer?
            var code = cjpeg_open(buf.baseAddress, buf.count, &decoder, &header, &message, message.count)
            defer { cjpeg_destroy(decoder) }
            guard code == Int32(CJPEG_OK) else { return .failure(jpegError(code, message)) }
            if let error = limits.violation(width: Int(header.width), height: Int(header.height)) {
                return .failure(error)
            }
            let denom = jpegScaleDenominator(
                width: Int(header.width), height: Int(header.height), target: minimumSize)
            var width: Int32 = 0
            var height: Int32 = 0
            code = cjpeg_scaled_size(decoder, Int32(denom), &width, &height, &message, message.count)
            guard code == Int32(CJPEG_OK) else { return .failure(jpegError(code, message)) }
            let channels = Int(header.out_layout)
            // Not zero-filled: on success libjpeg writes every byte; on failure it is discarded.
            var samples = [UInt8](unsafeUninitializedCapacity: Int(width) * Int(height) * channels) { out, initialized in
                code = cjpeg_decode(decoder, out.baseAddress, out.count, &message, message.count)
                initialized = out.count
            }
            guard code == Int32(CJPEG_OK) else { return .failure(jpegError(code, message)) }
            let isCMYK = channels == 4
            if isCMYK {
                // Pillow reads every CMYK JPEG with Adobe polarity (stored inverted).
                for i in samples.indices { samples[i] = 255 &- samples[i] }
            }
            return .success(RawPixels(
                width: Int(width), height: Int(height), channels: channels, isCMYK: isCMYK, samples: samples))
        }
        return try result.get()
    }

    // MARK: PNG

    static func pngError(_ code: Int32, _ message: [CChar]) -> ImageError {
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch code {
        case Int32(CPNG_ERR_TRUNCATED): return ImageError(.truncated, "PNG: \(text)")
        case Int32(CPNG_ERR_UNSUPPORTED): return ImageError(.unsupportedFormat, "PNG: \(text)")
        default: return ImageError(.corrupt, "PNG: \(text)")
        }
    }

    static func decodePNG(_ bytes: [UInt8], limits: DecodeLimits) throws(ImageError) -> RawPixels {
        let result: Result<RawPixels, ImageError> = bytes.withUnsafeBufferPointer { buf in
            var message = [CChar](repeating: 0, count: 256)
            var header = cpng_header()
            var decoder: OpaquePointer?
            var code = cpng_open(buf.baseAddress, buf.count, &decoder, &header, &message, message.count)
            defer { cpng_destroy(decoder) }
            guard code == Int32(CPNG_OK) else { return .failure(pngError(code, message)) }
            if let error = limits.violation(width: Int(header.width), height: Int(header.height)) {
                return .failure(error)
            }
            let channels = Int(header.channels)
            var samples = [UInt8](repeating: 0, count: Int(header.width) * Int(header.height) * channels)
            code = samples.withUnsafeMutableBufferPointer { out in
                cpng_decode(decoder, out.baseAddress, out.count, &message, message.count)
            }
            guard code == Int32(CPNG_OK) else { return .failure(pngError(code, message)) }
            return .success(RawPixels(
                width: Int(header.width), height: Int(header.height), channels: channels, samples: samples))
        }
        return try result.get()
    }

    // MARK: WebP

    static func webpError(_ code: Int32) -> ImageError {
        switch code {
        case Int32(CWEBP_ERR_TRUNCATED): return ImageError(.truncated, "WebP: not enough data")
        case Int32(CWEBP_ERR_UNSUPPORTED): return ImageError(.unsupportedFormat, "WebP: unsupported feature")
        case Int32(CWEBP_ERR_NOMEM): return ImageError(.tooLarge, "WebP: out of memory")
        default: return ImageError(.corrupt, "WebP: invalid bitstream")
        }
    }

    static func decodeWebP(_ bytes: [UInt8], limits: DecodeLimits) throws(ImageError) -> RawPixels {
        var header = cwebp_header()
        var code = bytes.withUnsafeBufferPointer { cwebp_probe($0.baseAddress, $0.count, &header) }
        guard code == Int32(CWEBP_OK) else { throw webpError(code) }
        if header.has_animation != 0 {
            throw ImageError(.unsupportedFormat, "animated WebP is not supported")
        }
        try limits.check(width: Int(header.width), height: Int(header.height))
        let channels = header.has_alpha != 0 ? 4 : 3
        var samples = [UInt8](repeating: 0, count: Int(header.width) * Int(header.height) * channels)
        code = bytes.withUnsafeBufferPointer { src in
            samples.withUnsafeMutableBufferPointer { out in
                cwebp_decode(src.baseAddress, src.count, Int32(channels), out.baseAddress, out.count)
            }
        }
        guard code == Int32(CWEBP_OK) else { throw webpError(code) }
        return RawPixels(width: Int(header.width), height: Int(header.height), channels: channels, samples: samples)
    }
}
