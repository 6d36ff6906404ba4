/// Resize modes of img2dataset's resizer, for exporting shards.
///
/// Geometry follows img2dataset (with albumentations' helpers): sizes are rounded half to even,
/// crops and pads are split with the smaller half first, borders are white. Pixels come from
/// this module's Pillow-exact filters rather than OpenCV's, so values differ slightly from
/// img2dataset's output: `downscaleFilter` `.box` stands in for cv2 INTER_AREA and
/// `upscaleFilter` `.lanczos` for INTER_LANCZOS4.
public enum ExportResizeMode: String, Sendable, CaseIterable {
    /// Keep the image as it is.
    case no
    /// Longest side to `imageSize`, then pad to a square with white.
    case border
    /// Shortest side to `imageSize`.
    case keepRatio = "keep_ratio"
    /// Longest side to `imageSize`.
    case keepRatioLargest = "keep_ratio_largest"
    /// Shortest side to `imageSize`, then a centred square crop.
    case centerCrop = "center_crop"
}

public struct ExportResizer: Sendable {
    public var imageSize: Int
    public var mode: ExportResizeMode
    /// Leave images alone unless the relevant side is larger than `imageSize`.
    public var resizeOnlyIfBigger: Bool
    public var downscaleFilter: ResampleFilter
    public var upscaleFilter: ResampleFilter

    public init(
        imageSize: Int = 256, mode: ExportResizeMode = .border, resizeOnlyIfBigger: Bool = false,
        downscaleFilter: ResampleFilter = .box, upscaleFilter: ResampleFilter = .lanczos
    ) {
        precondition(imageSize > 0, "imageSize must be positive")
        self.imageSize = imageSize
        self.mode = mode
        self.resizeOnlyIfBigger = resizeOnlyIfBigger
        self.downscaleFilter = downscaleFilter
        self.upscaleFilter = upscaleFilter
    }

    public func callAsFunction(_ image: RGBImage) -> RGBImage {
        let w = image.width
        let h = image.height
        switch mode {
        case .no:
            return image
        case .keepRatio, .centerCrop:
            let downscale = min(w, h) > imageSize
            if resizeOnlyIfBigger && !downscale { return image }
            var out = scaled(image, side: min(w, h), downscale: downscale)
            if mode == .centerCrop {
                out = crop(out, x: (out.width - imageSize) / 2, y: (out.height - imageSize) / 2,
                           width: min(imageSize, out.width), height: min(imageSize, out.height))
            }
            return out
        case .border, .keepRatioLargest:
            let downscale = max(w, h) > imageSize
            if resizeOnlyIfBigger && !downscale { return image }
            let out = scaled(image, side: max(w, h), downscale: downscale)
            return mode == .border ? padToSquare(out, size: imageSize, fill: (255, 255, 255)) : out
        }
    }

    /// Scales so that `side` becomes `imageSize`; each dimension rounds half to even.
    private func scaled(_ image: RGBImage, side: Int, downscale: Bool) -> RGBImage {
        let scale = Double(imageSize) / Double(side)
        if scale == 1.0 { return image }
        let nw = max(1, Int((Double(image.width) * scale).rounded(.toNearestOrEven)))
        let nh = max(1, Int((Double(image.height) * scale).rounded(.toNearestOrEven)))
        return resize(image, width: nw, height: nh, filter: downscale ? downscaleFilter : upscaleFilter)
    }
}

/// The `width` x `height` region whose top-left corner is (x, y); it must lie inside the image.
public func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
    precondition(x >= 0 && y >= 0 && width >= 0 && height >= 0, "negative crop")
    precondition(x + width <= image.width && y + height <= image.height, "crop outside the image")
    var out = [UInt8]()
    out.reserveCapacity(width * height * 3)
    for row in y..<(y + height) {
        let start = (row * image.width + x) * 3
        out.append(contentsOf: image.pixels[start..<(start + width * 3)])
    }
    return RGBImage(width: width, height: height, pixels: out)
}

/// Pads each side shorter than `size` to `size`, the smaller half of the padding before the image.
public func padToSquare(_ image: RGBImage, size: Int, fill: (UInt8, UInt8, UInt8)) -> RGBImage {
    let ow = max(size, image.width)
    let oh = max(size, image.height)
    if ow == image.width && oh == image.height { return image }
    let left = (ow - image.width) / 2
    let top = (oh - image.height) / 2
    var out = RGBImage(width: ow, height: oh, fill: fill)
    for row in 0..<image.height {
        let src = row * image.width * 3
        let dst = ((row + top) * ow + left) * 3
        out.pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
    }
    return out
}
