import Basics
import Foundation

/// The seeded generator the training transforms are specified with (it lives in Basics, which
/// every module that draws seeded numbers imports).
public typealias SplitMix64 = Basics.SplitMix64

/// The draws the transforms make, defined on top of `next()` so that a seed gives the same
/// augmentation on every platform and Swift version.
extension RandomNumberGenerator {
    /// Uniform in [0, 1): the top 53 bits of one `next()` scaled by 2^-53.
    mutating func unitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }
    /// Uniform in [a, b).
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unitDouble() }
    /// Uniform integer in 0..<n, as Int(unitDouble() * n).
    mutating func index(_ n: Int) -> Int { min(n - 1, Int(unitDouble() * Double(n))) }
}

/// torchvision's RandomResizedCrop parameter search: up to ten tries of an area fraction in
/// `scale` and a log-uniform aspect ratio in `ratio`, falling back to a centre crop clamped to
/// the ratio range. Returns (x, y, width, height) of the crop.
public func randomResizedCropBox(
    width: Int, height: Int, scale: (Double, Double), ratio: (Double, Double),
    using rng: inout some RandomNumberGenerator
) -> (x: Int, y: Int, width: Int, height: Int) {
    let area = Double(width * height)
    let logRatio = (log(ratio.0), log(ratio.1))
    for _ in 0..<10 {
        let targetArea = area * rng.uniform(scale.0, scale.1)
        let aspect = exp(rng.uniform(logRatio.0, logRatio.1))
        let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
        let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
        if w > 0 && w <= width && h > 0 && h <= height {
            let y = rng.index(height - h + 1)
            let x = rng.index(width - w + 1)
            return (x, y, w, h)
        }
    }
    let inRatio = Double(width) / Double(height)
    var w = width
    var h = height
    if inRatio < min(ratio.0, ratio.1) {
        h = Int((Double(w) / min(ratio.0, ratio.1)).rounded(.toNearestOrEven))
    } else if inRatio > max(ratio.0, ratio.1) {
        w = Int((Double(h) * max(ratio.0, ratio.1)).rounded(.toNearestOrEven))
    }
    return ((width - w) / 2, (height - h) / 2, w, h)
}

/// Operations of BLIP's `RandomAugment` (transform/randaugment.py), with its magnitudes.
public enum RandAugmentOp: String, Sendable, CaseIterable {
    case identity = "Identity"
    case autoContrast = "AutoContrast"
    case brightness = "Brightness"
    case sharpness = "Sharpness"
    case equalize = "Equalize"
    case shearX = "ShearX"
    case shearY = "ShearY"
    case translateX = "TranslateX"
    case translateY = "TranslateY"
    case rotate = "Rotate"
}

/// BLIP's RandomAugment(N, M): pick N operations uniformly with replacement, then apply each
/// with probability 0.5. Magnitude M of 10 maps to: enhance factor M/10 * 1.8 + 0.1 (exactly 1,
/// a no-op, at M = 5), shear M/10 * 0.3, translation M/10 * 10 pixels, rotation M/10 * 30
/// degrees, each of the last three negated with probability 0.5. Geometric ops fill with 128.
///
/// Random draws, in order: N op indices; then per op one draw for the 0.5 gate and, when it
/// passes and the op is signed, one draw for the sign (a draw above 0.5 negates).
public struct RandAugment: Sendable {
    public var count: Int
    public var magnitude: Double
    public var ops: [RandAugmentOp]
    public var fill: UInt8

    public static let blipOps: [RandAugmentOp] = [
        .identity, .autoContrast, .brightness, .sharpness, .equalize,
        .shearX, .shearY, .translateX, .translateY, .rotate,
    ]

    public init(count: Int = 2, magnitude: Double = 5, ops: [RandAugmentOp] = RandAugment.blipOps, fill: UInt8 = 128) {
        precondition(!ops.isEmpty, "RandAugment needs at least one op")
        self.count = count
        self.magnitude = magnitude
        self.ops = ops
        self.fill = fill
    }

    public func callAsFunction(_ image: RGBImage, using rng: inout some RandomNumberGenerator) -> RGBImage {
        let chosen = (0..<count).map { _ in ops[rng.index(ops.count)] }
        var out = image
        for op in chosen {
            if rng.unitDouble() > 0.5 { continue }
            out = apply(op, to: out, using: &rng)
        }
        return out
    }

    /// One operation at this magnitude; signed ops draw their sign from `rng`.
    public func apply(_ op: RandAugmentOp, to image: RGBImage, using rng: inout some RandomNumberGenerator) -> RGBImage {
        let level = magnitude / 10
        func signed(_ v: Double) -> Double { rng.unitDouble() > 0.5 ? -v : v }
        // BLIP builds the shear and translation matrices with np.float32.
        func float32(_ v: Double) -> Double { Double(Float(v)) }
        switch op {
        case .identity: return image
        case .autoContrast: return autoContrast(image)
        case .equalize: return equalize(image)
        case .brightness: return brightness(image, factor: level * 1.8 + 0.1)
        case .sharpness: return sharpness(image, factor: level * 1.8 + 0.1)
        case .shearX: return warpAffine(image, [1, float32(signed(level * 0.3)), 0, 0, 1, 0], fill: fill)
        case .shearY: return warpAffine(image, [1, 0, 0, float32(signed(level * 0.3)), 1, 0], fill: fill)
        case .translateX: return warpAffine(image, [1, 0, float32(-signed(level * 10)), 0, 1, 0], fill: fill)
        case .translateY: return warpAffine(image, [1, 0, 0, 0, 1, float32(-signed(level * 10))], fill: fill)
        case .rotate:
            return warpAffine(image, rotationMatrix(
                centerX: Double(image.width) / 2, centerY: Double(image.height) / 2, degrees: signed(level * 30)), fill: fill)
        }
    }
}

/// Per channel, stretch [min, max] to [0, 255]: table = v * 255 / (max - min) - min * scale,
/// clipped and truncated to 8 bits (float64, as numpy computes it).
public func autoContrast(_ image: RGBImage) -> RGBImage {
    var out = image
    for c in 0..<3 {
        var lo = 255, hi = 0
        for i in stride(from: c, to: image.pixels.count, by: 3) {
            lo = min(lo, Int(image.pixels[i]))
            hi = max(hi, Int(image.pixels[i]))
        }
        if hi <= lo { continue }
        let scale = 255.0 / Double(hi - lo)
        let offset = -Double(lo) * scale
        let table = (0..<256).map { v -> UInt8 in UInt8(min(255, max(0, Double(v) * scale + offset))) }
        for i in stride(from: c, to: out.pixels.count, by: 3) { out.pixels[i] = table[Int(out.pixels[i])] }
    }
    return out
}

/// Per-channel histogram equalisation as BLIP's randaugment defines it: step is the pixel
/// count outside the last non-empty bin divided by 255; table[v] = (step / 2 + pixels below
/// v) / step, clipped. A channel with step 0 is left alone.
public func equalize(_ image: RGBImage) -> RGBImage {
    var out = image
    for c in 0..<3 {
        var hist = [Int](repeating: 0, count: 256)
        for i in stride(from: c, to: image.pixels.count, by: 3) { hist[Int(image.pixels[i])] += 1 }
        let nonZero = hist.filter { $0 != 0 }
        let step = nonZero.dropLast().reduce(0, +) / 255
        if step == 0 { continue }
        var table = [UInt8](repeating: 0, count: 256)
        var running = step / 2
        for v in 0..<256 {
            table[v] = UInt8(min(255, running / step))
            running += hist[v]
        }
        for i in stride(from: c, to: out.pixels.count, by: 3) { out.pixels[i] = table[Int(out.pixels[i])] }
    }
    return out
}

/// v * factor in float32, clipped and truncated.
public func brightness(_ image: RGBImage, factor: Double) -> RGBImage {
    let f = Float(factor)
    let table = (0..<256).map { v -> UInt8 in UInt8(min(255, max(0, Float(v) * f))) }
    var out = image
    for i in out.pixels.indices { out.pixels[i] = table[Int(out.pixels[i])] }
    return out
}

/// Blend with a 3x3 smoothing of the image (kernel 1 1 1 / 1 5 1 / 1 1 1, divided by 13):
/// out = smooth + factor * (image - smooth) on interior pixels, border pixels unchanged.
/// Factor 1 returns the image; results are clipped to 0...255.
public func sharpness(_ image: RGBImage, factor: Double) -> RGBImage {
    if factor == 1.0 { return image }
    let w = image.width, h = image.height
    guard w >= 3, h >= 3 else { return image }
    var out = image
    let f = Float(factor)
    for y in 1..<(h - 1) {
        for x in 1..<(w - 1) {
            for c in 0..<3 {
                var sum: Float = 0
                for dy in -1...1 {
                    for dx in -1...1 {
                        let v = Float(image.pixels[((y + dy) * w + x + dx) * 3 + c])
                        sum += v * ((dx == 0 && dy == 0) ? 5 : 1)
                    }
                }
                let smooth = (sum / 13).rounded(.toNearestOrEven)
                let orig = Float(image.pixels[(y * w + x) * 3 + c])
                out.pixels[(y * w + x) * 3 + c] = UInt8(min(255, max(0, smooth + f * (orig - smooth))))
            }
        }
    }
    return out
}

/// OpenCV's getRotationMatrix2D: counter-clockwise rotation by `degrees` about the centre.
/// The angle is `degrees * (pi / 180)`, grouped as OpenCV does (it rounds differently for e.g. 3).
func rotationMatrix(centerX: Double, centerY: Double, degrees: Double) -> [Double] {
    let radians = degrees * (Double.pi / 180)
    let a = cos(radians)
    let b = sin(radians)
    return [a, b, (1 - a) * centerX - b * centerY, -b, a, b * centerX + (1 - a) * centerY]
}

/// Affine warp with bilinear sampling in the fixed-point form OpenCV's warpAffine uses:
/// the forward matrix `m` (row-major 2x3, source -> destination) is inverted, source
/// coordinates are quantised to 1/32 pixel, weights are products of 1/32 steps scaled to
/// 2^15, and each output is (sum + 2^14) >> 15. Neighbours outside the image read `fill`.
/// Bit-exact with OpenCV 4.14's `cv2.warpAffine(..., borderValue=fill)` (WarpAffineTests).
public func warpAffine(_ image: RGBImage, _ m: [Double], fill: UInt8) -> RGBImage {
    precondition(m.count == 6, "affine matrix must have 6 entries")
    let w = image.width, h = image.height
    var det = m[0] * m[4] - m[1] * m[3]
    det = det != 0 ? 1 / det : 0
    let i00 = m[4] * det, i01 = -m[1] * det, i10 = -m[3] * det, i11 = m[0] * det
    let i02 = -i00 * m[2] - i01 * m[5]
    let i12 = -i10 * m[2] - i11 * m[5]
    let abScale = 1024.0
    let roundDelta = 16  // AB_SCALE / INTER_TAB_SIZE / 2
    func rint(_ v: Double) -> Int { Int(v.rounded(.toNearestOrEven)) }
    let adelta = (0..<w).map { rint(i00 * Double($0) * abScale) }
    let bdelta = (0..<w).map { rint(i10 * Double($0) * abScale) }
    var out = [UInt8](repeating: 0, count: w * h * 3)
    let src = image.pixels
    for y in 0..<h {
        let x0 = rint((i01 * Double(y) + i02) * abScale) + roundDelta
        let y0 = rint((i11 * Double(y) + i12) * abScale) + roundDelta
        for x in 0..<w {
            let fx = (x0 + adelta[x]) >> 5  // 1/32-pixel units
            let fy = (y0 + bdelta[x]) >> 5
            let sx = fx >> 5, sy = fy >> 5
            let ax = fx & 31, ay = fy & 31
            let d = (y * w + x) * 3
            if sx >= w || sx + 1 < 0 || sy >= h || sy + 1 < 0 {
                out[d] = fill; out[d + 1] = fill; out[d + 2] = fill
                continue
            }
            // Weights of (sx, sy), (sx+1, sy), (sx, sy+1), (sx+1, sy+1); they sum to 32768.
            let w00 = (32 - ax) * (32 - ay) * 32, w01 = ax * (32 - ay) * 32
            let w10 = (32 - ax) * ay * 32, w11 = ax * ay * 32
            for c in 0..<3 {
                func px(_ xx: Int, _ yy: Int) -> Int {
                    (xx >= 0 && xx < w && yy >= 0 && yy < h) ? Int(src[(yy * w + xx) * 3 + c]) : Int(fill)
                }
                let v = px(sx, sy) * w00 + px(sx + 1, sy) * w01 + px(sx, sy + 1) * w10 + px(sx + 1, sy + 1) * w11
                out[d + c] = UInt8(clamping: (v + (1 << 14)) >> 15)
            }
        }
    }
    return RGBImage(width: w, height: h, pixels: out)
}

/// BLIP's training transform: RandomResizedCrop to size x size (bicubic), horizontal flip with
/// probability 0.5, RandAugment, then torchvision ToTensor (v / 255 in float32) and Normalize
/// ((x - mean) / std in float32). Output is float32 CHW [3, size, size].
///
/// Draws, in order: the crop search, one flip draw (< 0.5 flips), then RandAugment's.
public struct BlipTrainTransform: Sendable {
    public var size: Int
    public var scale: (Double, Double)
    public var ratio: (Double, Double)
    public var flip: Bool
    public var randAugment: RandAugment?
    public var mean: (Float, Float, Float)
    public var std: (Float, Float, Float)

    public init(
        size: Int = 384, scale: (Double, Double) = (0.5, 1.0), ratio: (Double, Double) = (3.0 / 4.0, 4.0 / 3.0),
        flip: Bool = true, randAugment: RandAugment? = RandAugment(),
        mean: (Float, Float, Float) = BlipImageTransform.clipMean, std: (Float, Float, Float) = BlipImageTransform.clipStd
    ) {
        self.size = size
        self.scale = scale
        self.ratio = ratio
        self.flip = flip
        self.randAugment = randAugment
        self.mean = mean
        self.std = std
    }

    /// The 8-bit augmented image before tensor conversion.
    public func augment(_ image: RGBImage, using rng: inout some RandomNumberGenerator) -> RGBImage {
        let box = randomResizedCropBox(width: image.width, height: image.height, scale: scale, ratio: ratio, using: &rng)
        var out = resize(crop(image, x: box.x, y: box.y, width: box.width, height: box.height),
                         width: size, height: size, filter: .bicubic)
        if flip && rng.unitDouble() < 0.5 { out = ExifOrientation.mirrorHorizontal.apply(to: out) }
        if let randAugment { out = randAugment(out, using: &rng) }
        return out
    }

    public func callAsFunction(_ image: RGBImage, using rng: inout some RandomNumberGenerator) -> [Float] {
        let augmented = augment(image, using: &rng)
        let means = [mean.0, mean.1, mean.2]
        let stds = [std.0, std.1, std.2]
        let plane = size * size
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 {
                out[c * plane + i] = (Float(augmented.pixels[3 * i + c]) / 255 - means[c]) / stds[c]
            }
        }
        return out
    }
}
