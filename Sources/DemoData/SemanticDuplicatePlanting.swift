import Imaging

/// Semantic duplicates planted in the web split: a fiftieth of the web rows (60 of the demo's
/// 3,000) are shown again as new rows after the others, re-rendered with small changes (moved a
/// few pixels, a tinted background, or zoomed in slightly, and always re-encoded at a lower JPEG
/// quality) and published with another true caption of the same scene. Exact and perceptual-hash
/// dedup should miss most of them; SemDeDup on image embeddings is what finds them. The truth is
/// `semantic/planted_pairs.json` (CC3M row keys of the original and the variant).
public enum SemanticDuplicatePlanting {
    public enum Change: String, Sendable, CaseIterable { case shift, background, rescale, reencode }

    /// An original web row and the row that shows it again.
    public struct Pair: Sendable, Equatable {
        public let original: Int
        public let variant: Int
        public let changes: [Change]
    }

    /// The stream the choice of originals and each variant's changes are drawn from.
    static let stream: UInt64 = 0x7365_6d00

    static func count(webRows: Int) -> Int { webRows / 50 }

    /// The planted rows (numbered after `base`) and their pairs.
    static func plant(after base: [DemoDataset.WebRow], options: DemoDataOptions,
                      style: (CaptionStyle) -> CaptionStyle) -> (rows: [DemoDataset.WebRow], pairs: [Pair]) {
        var rng = DemoRandom(seed: options.seed, stream: stream, index: 0)
        var indices = Array(base.indices)
        rng.shuffle(&indices)
        let originals = indices.prefix(count(webRows: base.count)).sorted()
        var rows: [DemoDataset.WebRow] = [], pairs: [Pair] = []
        for (j, original) in originals.enumerated() {
            var own = DemoRandom(seed: options.seed, stream: stream, index: UInt64(1 + j))
            let scene = base[original].scene
            // Another wording of the same scene than the original row published.
            var caption = CaptionWriter.caption(scene, style: style(.random(&own, sentenceCase: false)))
            for _ in 0..<16 where caption == base[original].altText || caption == base[original].trueCaption {
                caption = CaptionWriter.caption(scene, style: style(.random(&own, sentenceCase: false)))
            }
            let index = base.count + j
            rows.append(DemoDataset.WebRow(index: index, scene: scene, kind: .clean, altText: caption, trueCaption: caption,
                                           changed: nil, swappedWith: nil))
            pairs.append(Pair(original: original, variant: index, changes: [[.shift, .background, .rescale][j % 3], .reencode]))
        }
        return (rows, pairs)
    }

    /// The variant's pixels: the original's image with the pair's changes.
    static func image(_ pair: Pair, original: RGBImage, scene: SceneAttributes, options: DemoDataOptions) -> RGBImage {
        var rng = DemoRandom(seed: options.seed, stream: stream &+ 1, index: UInt64(pair.variant))
        var image = original
        for change in pair.changes {
            switch change {
            case .shift:
                let dx = rng.pick([-3, -2, 2, 3]), dy = rng.pick([-3, -2, 0, 2, 3])
                image = resample(image) { x, y in (Double(x - dx), Double(y - dy)) }
            case .background:
                image = tint(image, background: SceneRenderer.backgroundRGB(scene.background).map(Int.init),
                             by: [rng.int(in: 8...14), rng.int(in: -10 ... -4), rng.int(in: 4...10)])
            case .rescale:
                // Zoom in 6 to 10% about the centre.
                let zoom = 1 + Double(rng.int(in: 6...10)) / 100, c = Double(image.width - 1) / 2
                image = resample(image) { x, y in (c + (Double(x) - c) / zoom, c + (Double(y) - c) / zoom) }
            case .reencode:
                if let bytes = try? ImageEncoder.jpeg(image, quality: 45 + rng.int(in: 0...15)),
                   let decoded = try? ImageDecoder.decode(bytes) { image = decoded }
            }
        }
        return image
    }

    /// Bilinear sampling of `image` at `source(x, y)` for every output pixel (edges repeated).
    private static func resample(_ image: RGBImage, _ source: (Int, Int) -> (Double, Double)) -> RGBImage {
        let w = image.width, h = image.height
        var out = [UInt8](repeating: 0, count: w * h * 3)
        func pixel(_ x: Int, _ y: Int, _ c: Int) -> Double {
            Double(image.pixels[(min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)) * 3 + c])
        }
        for y in 0..<h {
            for x in 0..<w {
                let (sx, sy) = source(x, y)
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                let fx = sx - Double(x0), fy = sy - Double(y0)
                for c in 0..<3 {
                    let top = pixel(x0, y0, c) * (1 - fx) + pixel(x0 + 1, y0, c) * fx
                    let bottom = pixel(x0, y0 + 1, c) * (1 - fx) + pixel(x0 + 1, y0 + 1, c) * fx
                    out[(y * w + x) * 3 + c] = UInt8(min(255, max(0, (top * (1 - fy) + bottom * fy).rounded())))
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Adds `delta` to the pixels within the grain of the background colour.
    private static func tint(_ image: RGBImage, background: [Int], by delta: [Int]) -> RGBImage {
        var pixels = image.pixels
        for p in 0..<(image.width * image.height) where (0..<3).allSatisfy({ abs(Int(pixels[p * 3 + $0]) - background[$0]) <= 8 }) {
            for c in 0..<3 { pixels[p * 3 + c] = UInt8(min(255, max(0, Int(pixels[p * 3 + c]) + delta[c]))) }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }
}
