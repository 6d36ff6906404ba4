/// BLIP's image preprocessing as transformers 5.x `BlipImageProcessorPil` does it: Pillow
/// bicubic resize of the RGB image to size x size, then rescale and normalise.
///
/// The arithmetic matches numpy step for step: `Float(Double(v) * (1 / 255))` (transformers
/// upcasts to float64, multiplies by `rescale_factor` and casts to float32), then
/// `(x - mean) / std` in float32. Because the input is 8-bit, the whole per-channel mapping is
/// a 256-entry table, so results are bit-identical to the reference.
public struct BlipImageTransform: Sendable {
    /// OPENAI_CLIP_MEAN, rounded to float32 via float64 as numpy does.
    public static let clipMean: (Float, Float, Float) = (
        Float(0.48145466 as Double), Float(0.4578275 as Double), Float(0.40821073 as Double))
    /// OPENAI_CLIP_STD, rounded to float32 via float64 as numpy does.
    public static let clipStd: (Float, Float, Float) = (
        Float(0.26862954 as Double), Float(0.26130258 as Double), Float(0.27577711 as Double))

    public let size: Int
    public let mean: (Float, Float, Float)
    public let std: (Float, Float, Float)
    /// table[c * 256 + v] is the output value of channel c for 8-bit input v.
    private let table: [Float]

    public init(
        size: Int = 384, mean: (Float, Float, Float) = BlipImageTransform.clipMean,
        std: (Float, Float, Float) = BlipImageTransform.clipStd
    ) {
        precondition(size > 0, "size must be positive")
        self.size = size
        self.mean = mean
        self.std = std
        let means = [mean.0, mean.1, mean.2]
        let stds = [std.0, std.1, std.2]
        let rescaleFactor = 1.0 / 255.0
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 {
                let rescaled = Float(Double(v) * rescaleFactor)
                table[c * 256 + v] = (rescaled - means[c]) / stds[c]
            }
        }
        self.table = table
    }

    /// Number of floats one image produces: 3 * size * size.
    public var outputCount: Int { 3 * size * size }

    /// Float32 CHW `[3, size, size]`.
    public func callAsFunction(_ image: RGBImage) -> [Float] {
        var out = [Float](repeating: 0, count: outputCount)
        write(image, into: &out, at: 0)
        return out
    }

    /// Writes the CHW floats of one image into `buffer[offset ..< offset + outputCount]`,
    /// e.g. one slot of a `[batch, 3, size, size]` batch.
    public func write(_ image: RGBImage, into buffer: inout [Float], at offset: Int) {
        precondition(offset >= 0 && offset + outputCount <= buffer.count, "buffer too small")
        let resized = resize(image, width: size, height: size, filter: .bicubic)
        let plane = size * size
        resized.pixels.withUnsafeBufferPointer { src in
            table.withUnsafeBufferPointer { lut in
                buffer.withUnsafeMutableBufferPointer { dst in
                    // src: interleaved RGB (HWC); dst: three planes of size*size (CHW).
                    for i in 0..<plane {
                        dst[offset + i] = lut[Int(src[3 * i])]
                        dst[offset + plane + i] = lut[256 + Int(src[3 * i + 1])]
                        dst[offset + 2 * plane + i] = lut[512 + Int(src[3 * i + 2])]
                    }
                }
            }
        }
    }
}
