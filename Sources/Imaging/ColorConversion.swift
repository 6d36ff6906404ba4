/// Pixel conversions to RGB that reproduce Pillow's integer arithmetic.

/// Pillow's CMYK -> RGB: each channel is (255 - k) minus c * (255 - k) / 255, with the
/// product divided by 255 by the rounded shift trick ((t >> 8) + t) >> 8, t = c * nk + 128.
@inlinable
func cmykChannelToRGB(_ c: UInt8, _ k: UInt8) -> UInt8 {
    let nk = 255 - Int(k)
    let t = Int(c) * nk + 128
    let product = ((t >> 8) + t) >> 8
    return UInt8(clamping: nk - product)
}

/// One channel of `alpha_composite(white, pixel)`: Pillow's 7-bit fixed-point blend of
/// a straight-alpha pixel over an opaque background of value 255.
@inlinable
func compositeOnWhite(_ value: UInt8, alpha: UInt8) -> UInt8 {
    if alpha == 0 { return 255 }
    if alpha == 255 { return value }
    let a = Int(alpha)
    // Background alpha is 255, so the output alpha term (a * 255 + 255 * (255 - a)) is 255 * 255
    // and the source coefficient reduces to a << 7 exactly.
    let precision = 7
    let outAlpha255 = a * 255 + 255 * (255 - a)
    let coef1 = a * 255 * 255 * (1 << precision) / outAlpha255
    let coef2 = 255 * (1 << precision) - coef1
    let t = Int(value) * coef1 + 255 * coef2 + (0x80 << precision)
    return UInt8(truncatingIfNeeded: (((t >> 8) + t) >> 8) >> precision)
}

/// Decoded pixels before conversion to RGB: interleaved 8-bit samples with
/// `channels` per pixel: 1 = L, 2 = LA, 3 = RGB, 4 = RGBA, or CMYK when `isCMYK`.
struct RawPixels {
    var width: Int
    var height: Int
    var channels: Int
    var isCMYK = false
    var samples: [UInt8]

    func toRGB(alpha: AlphaMode) -> RGBImage {
        let count = width * height
        if channels == 3 && !isCMYK {
            return RGBImage(width: width, height: height, pixels: samples)
        }
        var out = [UInt8](repeating: 0, count: count * 3)
        samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                switch (channels, isCMYK, alpha) {
                case (1, _, _):
                    for i in 0..<count {
                        let v = src[i]
                        dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                    }
                case (2, _, .drop):
                    for i in 0..<count {
                        let v = src[2 * i]
                        dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                    }
                case (2, _, .compositeOnWhite):
                    for i in 0..<count {
                        let v = compositeOnWhite(src[2 * i], alpha: src[2 * i + 1])
                        dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                    }
                case (4, true, _):
                    // Samples are already un-inverted CMYK.
                    for i in 0..<count {
                        let k = src[4 * i + 3]
                        dst[3 * i] = cmykChannelToRGB(src[4 * i], k)
                        dst[3 * i + 1] = cmykChannelToRGB(src[4 * i + 1], k)
                        dst[3 * i + 2] = cmykChannelToRGB(src[4 * i + 2], k)
                    }
                case (4, false, .drop):
                    for i in 0..<count {
                        dst[3 * i] = src[4 * i]; dst[3 * i + 1] = src[4 * i + 1]; dst[3 * i + 2] = src[4 * i + 2]
                    }
                case (4, false, .compositeOnWhite):
                    for i in 0..<count {
                        let a = src[4 * i + 3]
                        dst[3 * i] = compositeOnWhite(src[4 * i], alpha: a)
                        dst[3 * i + 1] = compositeOnWhite(src[4 * i + 1], alpha: a)
                        dst[3 * i + 2] = compositeOnWhite(src[4 * i + 2], alpha: a)
                    }
                default:
                    preconditionFailure("unexpected channel layout \(channels)")
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
