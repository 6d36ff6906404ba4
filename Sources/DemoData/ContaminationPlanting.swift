import Imaging

/// Test images planted in the web split, as a web crawl picks up copies of a benchmark's images:
/// each a clean web row (its alt-text the true caption of the scene, in web style) whose image is
/// a test image, byte for byte (one in five) or re-encoded at another JPEG quality and, for most of
/// those, slightly cropped, rescaled or brightened. A decontaminate stage should find every one and nothing else; the truth is
/// `contamination/planted.json`. The rows come after the noisy web rows, so every other row keeps
/// its index and bytes.
public struct PlantedCopy: Sendable, Equatable {
    /// What was done to the test image besides re-encoding.
    public enum Edit: Sendable, Equatable {
        /// The test image's file as it is (a re-hosted copy: the same bytes).
        case identical
        case none
        /// `pixels` columns cut off the left and rows off the top.
        case cropped(pixels: Int)
        /// Resized (bicubic) to `side` x `side`.
        case rescaled(side: Int)
        /// `delta` added to every channel of every pixel (clamped).
        case brightened(delta: Int)

        public var description: String {
            switch self {
            case .identical: return "byte-identical"
            case .none: return "re-encoded"
            case .cropped(let n): return "cropped \(n) px left and top"
            case .rescaled(let side): return "rescaled to \(side) px"
            case .brightened(let delta): return "brightness \(delta > 0 ? "+" : "")\(delta)"
            }
        }
    }

    /// The web row (its CC3M key).
    public let webIndex: Int
    public let testIndex: Int
    public let edit: Edit
    public let jpegQuality: Int

    public init(webIndex: Int, testIndex: Int, edit: Edit, jpegQuality: Int) {
        self.webIndex = webIndex; self.testIndex = testIndex; self.edit = edit; self.jpegQuality = jpegQuality
    }

    /// The copy's pixels from the test image's.
    public func apply(to image: RGBImage) -> RGBImage {
        switch edit {
        case .identical, .none: return image
        case .cropped(let n):
            let (w, h) = (image.width - n, image.height - n)
            var pixels = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                for x in 0..<w {
                    let (r, g, b) = image[x + n, y + n]
                    pixels[(y * w + x) * 3] = r; pixels[(y * w + x) * 3 + 1] = g; pixels[(y * w + x) * 3 + 2] = b
                }
            }
            return RGBImage(width: w, height: h, pixels: pixels)
        case .rescaled(let side): return resize(image, width: side, height: side, filter: .bicubic)
        case .brightened(let delta):
            return RGBImage(width: image.width, height: image.height,
                            pixels: image.pixels.map { UInt8(max(0, min(255, Int($0) + delta))) })
        }
    }
}

extension DemoDataset {
    /// The random stream of the planting (distinct from the splits' 1 to 4 and the labelled / audit streams).
    static let contaminationStream: UInt64 = 0x636F_6E74

    /// Copies of `min(options.plantedTestCopies, test.count)` distinct test images, as web rows
    /// numbered from `firstIndex` on.
    static func plantedCopies(test: [AnnotatedImage], firstIndex: Int, options: DemoDataOptions) -> (rows: [WebRow], copies: [PlantedCopy]) {
        var rng = DemoRandom(seed: options.seed, stream: contaminationStream, index: 0)
        var order = Array(test.indices)
        rng.shuffle(&order)
        var rows: [WebRow] = []
        var copies: [PlantedCopy] = []
        for (k, t) in order.prefix(max(0, options.plantedTestCopies)).enumerated() {
            let edit: PlantedCopy.Edit
            switch k % 5 {
            case 0: edit = .identical
            case 1: edit = .none
            case 2: edit = .cropped(pixels: rng.int(in: 1...2))
            case 3: edit = .rescaled(side: options.imageSize + 8 * (rng.chance(1, in: 2) ? 1 : -1))
            default: edit = .brightened(delta: rng.int(in: 8...16) * (rng.chance(1, in: 2) ? 1 : -1))
            }
            // Edited copies get another quality than the test image's (the demo writes 90); an
            // identical one is the test file's bytes (the writer is deterministic).
            var quality = rng.int(in: 60...85)
            if quality == options.jpegQuality { quality -= 1 }
            if edit == .identical { quality = options.jpegQuality }
            let scene = test[t].scene
            let caption = CaptionWriter.caption(scene, style: style(.random(&rng, sentenceCase: false), options))
            let index = firstIndex + k
            rows.append(WebRow(index: index, scene: scene, kind: .clean, altText: caption, trueCaption: caption, changed: nil, swappedWith: nil))
            copies.append(PlantedCopy(webIndex: index, testIndex: t, edit: edit, jpegQuality: quality))
        }
        return (rows, copies)
    }

    /// The planted copy that web row `index` is, if it is one.
    public func plantedCopy(webIndex index: Int) -> PlantedCopy? {
        guard let first = planted.first, index >= first.webIndex, index - first.webIndex < planted.count else { return nil }
        return planted[index - first.webIndex]
    }
}
