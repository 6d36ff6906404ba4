import Tensor

/// The vision encoder's input: images' pixels after BLIP's transform stacked into one tensor.
public enum ImageBatch {
    /// [B, 3, S, S] from B images of [3, S, S] values each.
    public static func stack(_ images: [[Float]], size: Int) -> Tensor {
        var values = [Float]()
        values.reserveCapacity(images.count * 3 * size * size)
        for pixels in images { values += pixels }
        return Tensor(shape: [images.count, 3, size, size], values: values)
    }
}
