/// What tells a copy of an image from a look-alike: the fine texture of its flat regions.
///
/// A re-hosted copy (re-encoded, slightly cropped, rescaled or brightened) keeps the grain, noise
/// and fine texture of its original; a different photo of a similar scene, even one with the same
/// layout and a perceptual hash 0 bits away, has its own. Edges do not help: any two images of
/// one composition have edges in the same places. So a signature is the image's fine detail (a
/// band of high frequencies that survives JPEG and small rescaling) on a canonical grey square,
/// and which pixels are flat (no edge nearby). Two images are compared (Decontamination's
/// `correlation(with:)`) by the correlation of their residuals over the pixels flat in both, at
/// the best of a few small shifts (a crop moves the content). Copy detection systems verify
/// candidates the same way, by aligning them and comparing local detail.
///
/// Canonical form: Pillow's `convert("L")`, bicubic resize to `side` x `side` (aspect not kept:
/// a copy keeps its original's aspect, near enough); residual = the grey image blurred by the
/// separable [1 2 1] / 4 minus it blurred by [1 4 6 4 1] / 16 (borders replicated: a band-pass,
/// which scored copies 2.5x their look-alikes on the demo where grey minus the wide blur scored
/// 2.2x); flat = the wide blur's gradient (central differences) below `flatGradient` grey levels
/// per pixel, in the pixel and its four neighbours.
public struct CopySignature: Sendable, Equatable {
    /// The canonical side: 64 keeps the texture of a thumbnail-sized copy; a signature holds two
    /// padded planes, about 40 KB.
    public static let side = 64
    /// The largest shift tried, in canonical pixels each way (about 5% of the side: a small crop).
    public static let maxShift = 3
    /// Gradient (grey levels per pixel) below which a pixel is flat.
    public static let flatGradient: Float = 2
    /// Standard deviation of the residual (grey levels) below which an image has no fine texture
    /// to compare, as a flat drawing: no evidence either way. The demo's renders have 0.37 to 0.54
    /// at JPEG quality 60 to 90; flat colours 0.02 to 0.07 (their JPEG ringing).
    public static let minimumDetail: Double = 0.15
    /// The side of the thumbnail candidates are ranked by.
    public static let thumbnailSide = 16
    /// Side of the padded planes: the canonical square with `maxShift` zeros around it, so a
    /// shifted comparison reads no out-of-range pixel (the padding's masks are 0).
    package static let padded = side + 2 * maxShift

    /// `thumbnailSide`^2 block means of the canonical grey image, mean removed (all zeros for a
    /// flat image): a brightness-free layout; the Euclidean distance between two ranks candidates.
    /// (Distances ranked the demo's copies higher among their look-alikes than cosines did.)
    public let thumbnail: [Float]
    /// [padded, padded] residual, 0 in the padding.
    package let residual: [Float]
    /// [padded, padded] 1 where the pixel is flat, 0 elsewhere and in the padding.
    package let flat: [Float]
    /// [padded, padded] 1 inside the canonical square, 0 in the padding (the same for every image).
    package static let valid: [Float] = (0..<(padded * padded)).map { q in
        let (y, x) = (q / padded - maxShift, q % padded - maxShift)
        return (0..<side).contains(y) && (0..<side).contains(x) ? 1 : 0
    }

    public init(_ image: RGBImage) {
        let n = Self.side
        let small = resample(grayscale(image), width: n, height: n, filter: .bicubic, verticalFirst: nil)
        let grey = small.samples.map(Float.init)
        let blurred = Self.blur(grey, side: n, kernel: Self.wide)
        let detail = Self.blur(grey, side: n, kernel: Self.narrow)
        let p = Self.padded, m = Self.maxShift
        var residual = [Float](repeating: 0, count: p * p)
        var flat = [Float](repeating: 0, count: p * p)
        var smooth = [Bool](repeating: false, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                // numpy.gradient: central differences inside, one-sided at the borders.
                let gx = x == 0 ? blurred[y * n + 1] - blurred[y * n]
                    : x == n - 1 ? blurred[y * n + x] - blurred[y * n + x - 1]
                    : (blurred[y * n + x + 1] - blurred[y * n + x - 1]) / 2
                let gy = y == 0 ? blurred[n + x] - blurred[x]
                    : y == n - 1 ? blurred[y * n + x] - blurred[(y - 1) * n + x]
                    : (blurred[(y + 1) * n + x] - blurred[(y - 1) * n + x]) / 2
                smooth[y * n + x] = (gx * gx + gy * gy).squareRoot() < Self.flatGradient
            }
        }
        for y in 0..<n {
            for x in 0..<n {
                let q = (y + m) * p + x + m
                residual[q] = detail[y * n + x] - blurred[y * n + x]
                // Eroded by one pixel (a neighbour outside the square does not count against it).
                let isFlat = smooth[y * n + x] && (x == 0 || smooth[y * n + x - 1]) && (x == n - 1 || smooth[y * n + x + 1])
                    && (y == 0 || smooth[(y - 1) * n + x]) && (y == n - 1 || smooth[(y + 1) * n + x])
                flat[q] = isFlat ? 1 : 0
            }
        }
        self.residual = residual
        self.flat = flat
        thumbnail = Self.thumbnail(grey, side: n)
    }

    static let narrow: [Float] = [1 / 4, 2 / 4, 1 / 4]
    static let wide: [Float] = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]

    /// The separable blur of a `side` x `side` plane by an odd binomial `kernel`, borders replicated.
    static func blur(_ plane: [Float], side n: Int, kernel k: [Float]) -> [Float] {
        let r = k.count / 2
        func at(_ i: Int) -> Int { min(n - 1, max(0, i)) }
        var rows = [Float](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                var s: Float = 0
                for t in k.indices { s += k[t] * plane[y * n + at(x + t - r)] }
                rows[y * n + x] = s
            }
        }
        var out = [Float](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                var s: Float = 0
                for t in k.indices { s += k[t] * rows[at(y + t - r) * n + x] }
                out[y * n + x] = s
            }
        }
        return out
    }

    static func thumbnail(_ grey: [Float], side n: Int) -> [Float] {
        let t = thumbnailSide, block = n / t
        var out = [Float](repeating: 0, count: t * t)
        for y in 0..<n { for x in 0..<n { out[(y / block) * t + x / block] += grey[y * n + x] } }
        let area = Float(block * block)
        let mean = out.reduce(0, +) / (area * Float(out.count))
        return out.map { $0 / area - mean }
    }
}
