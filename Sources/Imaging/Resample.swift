import Foundation

/// Resampling filters with Pillow's definitions (Resample.c semantics).
public enum ResampleFilter: Sendable, Equatable, CaseIterable {
    case nearest, box, bilinear, bicubic, lanczos

    /// Filter support radius at scale 1.
    var support: Double {
        switch self {
        case .nearest: return 0
        case .box: return 0.5
        case .bilinear: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// Kernel value at distance x. The expression shapes follow Pillow's so that the
    /// doubles, and therefore the rounded fixed-point weights, come out identical.
    @inline(__always)
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest:
            return 0
        case .box:
            return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0
        case .bilinear:
            let ax = x < 0 ? -x : x
            return ax < 1.0 ? 1.0 - ax : 0.0
        case .bicubic:
            let a = -0.5
            let ax = x < 0 ? -x : x
            if ax < 1.0 { return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1 }
            if ax < 2.0 { return (((ax - 5) * ax + 8) * ax - 4) * a }
            return 0.0
        case .lanczos:
            // sinc(x) * sinc(x / 3), truncated to [-3, 3).
            if -3.0 <= x && x < 3.0 { return Self.sinc(x) * Self.sinc(x / 3) }
            return 0.0
        }
    }

    @inline(__always)
    static func sinc(_ x: Double) -> Double {
        if x == 0.0 { return 1.0 }
        let px = x * Double.pi
        return sin(px) / px
    }
}

/// Fixed-point bits of the 8-bit resampling weights: 32 - 8 - 2, leaving room for the
/// 8-bit sample and the sign/overflow of negative lobes in a 32-bit accumulator.
let resamplePrecisionBits = 22

/// Per-output-sample source windows and weights along one axis.
/// `bounds[2 * i]` is the first source index, `bounds[2 * i + 1]` the tap count;
/// `weights[i * taps ..< i * taps + count]` are that sample's fixed-point weights.
struct ResampleAxis {
    let taps: Int
    let bounds: [Int]
    let weights: [Int32]

    init(inSize: Int, outSize: Int, filter: ResampleFilter) {
        // The whole source range: Pillow's default box (0, 0, width, height).
        let in0 = 0.0
        let in1 = Double(inSize)
        let scale = (in1 - in0) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var bounds = [Int](repeating: 0, count: outSize * 2)
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        let inverseScale = 1.0 / filterScale
        let one = Double(1 << resamplePrecisionBits)
        for xx in 0..<outSize {
            let center = in0 + (Double(xx) + 0.5) * scale
            // Int(_:) truncates toward zero like the C cast.
            var xmin = Int(center - support + 0.5)
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var total = 0.0
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverseScale)
                k[x] = w
                total += w
            }
            for x in 0..<xmax {
                let w = total != 0.0 ? k[x] / total : k[x]
                // Round half away from zero, as (int)(w * one +/- 0.5).
                weights[xx * taps + x] = Int32(w < 0 ? (-0.5 + w * one) : (0.5 + w * one))
            }
            bounds[2 * xx] = xmin
            bounds[2 * xx + 1] = max(xmax, 0)
        }
        self.taps = taps
        self.bounds = bounds
        self.weights = weights
    }
}

@inline(__always)
private func clip8(_ v: Int32) -> UInt8 {
    if v >= Int32(1 << (resamplePrecisionBits + 8)) { return 255 }
    if v <= 0 { return 0 }
    return UInt8(truncatingIfNeeded: v >> Int32(resamplePrecisionBits))
}

/// Pillow's `Image.resize` on an RGB image: separable convolution, each pass skipped when that
/// axis keeps its size, and 8-bit clipping after each pass. The horizontal pass runs first, over
/// only the source rows the vertical pass will read, except when the height shrinks by more than
/// twice as many pixels as the width (Pillow 13), where the vertical pass runs first. `.nearest`
/// follows Pillow's affine scaling.
/// Returns the input unchanged when the size does not change.
public func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter = .bicubic) -> RGBImage {
    precondition(width > 0 && height > 0, "resize target must be positive, got \(width)x\(height)")
    precondition(image.width > 0 && image.height > 0, "cannot resize an empty image")
    let out = resample(
        Plane(width: image.width, height: image.height, channels: 3, samples: image.pixels),
        width: width, height: height, filter: filter, verticalFirst: nil)
    return RGBImage(width: out.width, height: out.height, pixels: out.samples)
}

/// Interleaved 8-bit samples: `channels` per pixel, rows of `width * channels` bytes.
struct Plane {
    var width: Int
    var height: Int
    var channels: Int
    var samples: [UInt8]
}

/// Pillow 13's pass order: the vertical pass runs first when the height shrinks by more than
/// twice as many pixels as the width does (`inHeight - outHeight > 2 * (inWidth - outWidth)`),
/// which includes every case where the width grows and the height shrinks. Found by bisecting
/// Pillow 13.0's output over sizes; the order changes rounding, so it must match.
func pillowResizesVerticallyFirst(inWidth: Int, inHeight: Int, outWidth: Int, outHeight: Int) -> Bool {
    outHeight < inHeight && inHeight - outHeight > 2 * (inWidth - outWidth)
}

/// `verticalFirst` nil picks Pillow's order (`pillowResizesVerticallyFirst`).
func resample(_ image: Plane, width: Int, height: Int, filter: ResampleFilter, verticalFirst: Bool?) -> Plane {
    if width == image.width && height == image.height { return image }
    if filter == .nearest { return resampleNearest(image, width: width, height: height) }

    let needHorizontal = width != image.width
    let needVertical = height != image.height
    let horizontal = needHorizontal ? ResampleAxis(inSize: image.width, outSize: width, filter: filter) : nil
    var vertical = needVertical ? ResampleAxis(inSize: image.height, outSize: height, filter: filter) : nil

    let verticalFirst = verticalFirst ?? pillowResizesVerticallyFirst(
        inWidth: image.width, inHeight: image.height, outWidth: width, outHeight: height)
    if verticalFirst, let horizontal, let vertical {
        let tmp = resampleVertical(image, axis: vertical, outHeight: height)
        return resampleHorizontal(tmp, axis: horizontal, firstRow: 0, rowCount: height)
    }
    var current = image
    if let horizontal {
        // Only rows first..<last of the source feed the vertical pass.
        var first = 0
        var last = image.height
        if let v = vertical {
            first = v.bounds[0]
            last = v.bounds[2 * height - 2] + v.bounds[2 * height - 1]
            if first != 0 {
                var shifted = v.bounds
                for i in 0..<height { shifted[2 * i] -= first }
                vertical = ResampleAxis(taps: v.taps, bounds: shifted, weights: v.weights)
            }
        }
        current = resampleHorizontal(image, axis: horizontal, firstRow: first, rowCount: last - first)
    }
    if let vertical {
        current = resampleVertical(current, axis: vertical, outHeight: height)
    }
    return current
}

extension ResampleAxis {
    init(taps: Int, bounds: [Int], weights: [Int32]) {
        self.taps = taps
        self.bounds = bounds
        self.weights = weights
    }
}

/// Horizontal pass: source rows firstRow..<firstRow+rowCount, each `width * channels` bytes,
/// to rows of `outWidth * channels` bytes. Specialised for 3 (RGB) and 1 (L) channels.
private func resampleHorizontal(_ image: Plane, axis: ResampleAxis, firstRow: Int, rowCount: Int) -> Plane {
    if image.channels == 3 { return resampleHorizontalRGB(image, axis: axis, firstRow: firstRow, rowCount: rowCount) }
    let outWidth = axis.bounds.count / 2
    let channels = image.channels
    let inStride = image.width * channels
    let outStride = outWidth * channels
    let taps = axis.taps
    var out = [UInt8](repeating: 0, count: outStride * rowCount)
    let half = Int32(1 << (resamplePrecisionBits - 1))
    image.samples.withUnsafeBufferPointer { src in
        axis.bounds.withUnsafeBufferPointer { bounds in
            axis.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<rowCount {
                        let inRow = (y + firstRow) * inStride
                        let outRow = y * outStride
                        for xx in 0..<outWidth {
                            let xmin = bounds[2 * xx]
                            let count = bounds[2 * xx + 1]
                            let k = xx * taps
                            if channels == 3 {
                                var s0 = half, s1 = half, s2 = half
                                var p = inRow + xmin * 3
                                for x in 0..<count {
                                    let w = weights[k + x]
                                    s0 &+= Int32(src[p]) &* w
                                    s1 &+= Int32(src[p + 1]) &* w
                                    s2 &+= Int32(src[p + 2]) &* w
                                    p += 3
                                }
                                let o = outRow + xx * 3
                                dst[o] = clip8(s0)
                                dst[o + 1] = clip8(s1)
                                dst[o + 2] = clip8(s2)
                            } else {
                                for c in 0..<channels {
                                    var acc = half
                                    var p = inRow + xmin * channels + c
                                    for x in 0..<count {
                                        acc &+= Int32(src[p]) &* weights[k + x]
                                        p += channels
                                    }
                                    dst[outRow + xx * channels + c] = clip8(acc)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return Plane(width: outWidth, height: rowCount, channels: channels, samples: out)
}

/// Rows the RGB horizontal pass convolves together: 8 rows x 3 channels = 24 lanes.
private let blockRows = 8
private let blockLanes = blockRows * 3

/// Horizontal pass for RGB, eight source rows at a time. Within a block the rows are first
/// interleaved column by column, `block[x * 24 + r * 3 + c]` = channel c of pixel x in row r,
/// so that one tap of one output pixel is a single 24-byte load for all eight rows, multiplied
/// by one broadcast weight: the same fixed-point sums as the scalar loop, in SIMD lanes.
private func resampleHorizontalRGB(_ image: Plane, axis: ResampleAxis, firstRow: Int, rowCount: Int) -> Plane {
    let outWidth = axis.bounds.count / 2
    let width = image.width
    let inStride = width * 3
    let outStride = outWidth * 3
    let taps = axis.taps
    let half = Int32(1 << (resamplePrecisionBits - 1))
    // Four slack bytes: the interleave writes 4 bytes for each 3-byte pixel.
    var block = [UInt8](repeating: 0, count: width * blockLanes + 4)
    // The block's output, interleaved the same way: oblk[xx * 24 + r * 3 + c].
    var outBlock = [UInt8](repeating: 0, count: outWidth * blockLanes + 8)
    let out = [UInt8](unsafeUninitializedCapacity: outStride * rowCount) { dst, initialized in
        image.samples.withUnsafeBufferPointer { src in
            axis.bounds.withUnsafeBufferPointer { bounds in
                axis.weights.withUnsafeBufferPointer { weights in
                    block.withUnsafeMutableBytes { blk in outBlock.withUnsafeMutableBytes { oblk in
                        let oblkBase = oblk.baseAddress!
                        let srcBase = UnsafeRawPointer(src.baseAddress!)
                        let blkBase = blk.baseAddress!
                        let dstBase = UnsafeMutableRawPointer(dst.baseAddress!)
                        var y0 = 0
                        while y0 < rowCount {
                            let rows = min(blockRows, rowCount - y0)
                            // Interleave: x outer so that each 4-byte store's spare byte lands in
                            // the slot written next. The last pixel of a row is copied bytewise:
                            // a 4-byte load there could read past the end of the image.
                            let rowBase = srcBase + (firstRow + y0) * inStride
                            @inline(__always) func interleave(_ rows: Int) {
                                for x in 0..<(width - 1) {
                                    for r in 0..<rows {
                                        let v = rowBase.loadUnaligned(fromByteOffset: r * inStride + x * 3, as: UInt32.self)
                                        blkBase.storeBytes(of: v, toByteOffset: x * blockLanes + r * 3, as: UInt32.self)
                                    }
                                }
                            }
                            // A constant row count lets the compiler unroll the full blocks.
                            if rows == blockRows { interleave(blockRows) } else { interleave(rows) }
                            for r in 0..<rows {
                                for c in 0..<3 {
                                    blk[(width - 1) * blockLanes + r * 3 + c] =
                                        src[(firstRow + y0 + r) * inStride + (width - 1) * 3 + c]
                                }
                            }
                            for xx in 0..<outWidth {
                                let xmin = bounds[2 * xx]
                                let count = bounds[2 * xx + 1]
                                let k = xx * taps
                                var acc0 = SIMD16<Int32>(repeating: half)
                                var acc1 = SIMD8<Int32>(repeating: half)
                                var p = xmin * blockLanes
                                for t in 0..<count {
                                    let w = weights[k + t]
                                    let v0 = blkBase.loadUnaligned(fromByteOffset: p, as: SIMD16<UInt8>.self)
                                    let v1 = blkBase.loadUnaligned(fromByteOffset: p + 16, as: SIMD8<UInt8>.self)
                                    acc0 &+= SIMD16<Int32>(truncatingIfNeeded: v0) &* w
                                    acc1 &+= SIMD8<Int32>(truncatingIfNeeded: v1) &* w
                                    p += blockLanes
                                }
                                // clip8 per lane: >= 2^30 -> 255, <= 0 -> 0.
                                let shift = Int32(resamplePrecisionBits)
                                let c0 = SIMD16<UInt8>(truncatingIfNeeded: (acc0 &>> shift).clamped(
                                    lowerBound: .zero, upperBound: SIMD16(repeating: 255)))
                                let c1 = SIMD8<UInt8>(truncatingIfNeeded: (acc1 &>> shift).clamped(
                                    lowerBound: .zero, upperBound: SIMD8(repeating: 255)))
                                oblkBase.storeBytes(of: c0, toByteOffset: xx * blockLanes, as: SIMD16<UInt8>.self)
                                oblkBase.storeBytes(of: c1, toByteOffset: xx * blockLanes + 16, as: SIMD8<UInt8>.self)
                            }
                            // De-interleave: oblk[xx * 24 + r * 3 + c] -> row y0 + r, pixel xx, channel c.
                            // 4-byte moves in ascending xx; the last pixel of a row bytewise.
                            for r in 0..<rows {
                                let outRow = (y0 + r) * outStride
                                for xx in 0..<(outWidth - 1) {
                                    let v = UnsafeRawPointer(oblkBase).loadUnaligned(
                                        fromByteOffset: xx * blockLanes + r * 3, as: UInt32.self)
                                    dstBase.storeBytes(of: v, toByteOffset: outRow + xx * 3, as: UInt32.self)
                                }
                                for c in 0..<3 {
                                    dst[outRow + (outWidth - 1) * 3 + c] = oblk[(outWidth - 1) * blockLanes + r * 3 + c]
                                }
                            }
                            y0 += rows
                        }
                    } }
                }
            }
        }
        initialized = outStride * rowCount
    }
    return Plane(width: outWidth, height: rowCount, channels: 3, samples: out)
}

/// Vertical pass: each output row is a weighted sum of `count` consecutive source rows
/// (`width * channels` bytes each). Sixteen samples at a time are accumulated in registers
/// across all taps, then clipped; the tail is done one sample at a time.
private func resampleVertical(_ image: Plane, axis: ResampleAxis, outHeight: Int) -> Plane {
    let stride = image.width * image.channels
    let taps = axis.taps
    var out = [UInt8](repeating: 0, count: stride * outHeight)
    let half = Int32(1 << (resamplePrecisionBits - 1))
    let vectorEnd = stride - stride % 16
    image.samples.withUnsafeBufferPointer { src in
        axis.bounds.withUnsafeBufferPointer { bounds in
            axis.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { dst in
                    let srcBase = UnsafeRawPointer(src.baseAddress!)
                    let dstBase = UnsafeMutableRawPointer(dst.baseAddress!)
                    for yy in 0..<outHeight {
                        let ymin = bounds[2 * yy]
                        let count = bounds[2 * yy + 1]
                        let k = yy * taps
                        let o = yy * stride
                        var i = 0
                        while i < vectorEnd {
                            var acc = SIMD16<Int32>(repeating: half)
                            for y in 0..<count {
                                let p = srcBase.loadUnaligned(fromByteOffset: (ymin + y) * stride + i, as: SIMD16<UInt8>.self)
                                acc &+= SIMD16<Int32>(truncatingIfNeeded: p) &* weights[k + y]
                            }
                            // Same as clip8 per lane: >= 2^30 -> 255, <= 0 -> 0.
                            let shifted = acc &>> Int32(resamplePrecisionBits)
                            let clipped = shifted.clamped(lowerBound: .zero, upperBound: SIMD16(repeating: 255))
                            dstBase.storeBytes(
                                of: SIMD16<UInt8>(truncatingIfNeeded: clipped), toByteOffset: o + i, as: SIMD16<UInt8>.self)
                            i += 16
                        }
                        while i < stride {
                            var acc = half
                            for y in 0..<count {
                                acc &+= Int32(src[(ymin + y) * stride + i]) &* weights[k + y]
                            }
                            dst[o + i] = clip8(acc)
                            i += 1
                        }
                    }
                }
            }
        }
    }
    return Plane(width: image.width, height: outHeight, channels: image.channels, samples: out)
}

/// Pillow's NEAREST resize is an affine scale: source coordinates start at half a step and
/// advance by in/out per output pixel, accumulated in doubles and truncated.
private func resampleNearest(_ image: Plane, width: Int, height: Int) -> Plane {
    let channels = image.channels
    let stepX = Double(image.width) / Double(width)
    let stepY = Double(image.height) / Double(height)
    var xIndex = [Int](repeating: -1, count: width)
    var xo = stepX * 0.5
    for x in 0..<width {
        let xi = xo < 0 ? -1 : Int(xo)
        xIndex[x] = xi < image.width ? xi : -1
        xo += stepX
    }
    var out = [UInt8](repeating: 0, count: width * height * channels)
    var yo = stepY * 0.5
    for y in 0..<height {
        let yi = yo < 0 ? -1 : Int(yo)
        yo += stepY
        if yi < 0 || yi >= image.height { continue }
        let inRow = yi * image.width * channels
        let outRow = y * width * channels
        for x in 0..<width where xIndex[x] >= 0 {
            let s = inRow + xIndex[x] * channels
            for c in 0..<channels { out[outRow + x * channels + c] = image.samples[s + c] }
        }
    }
    return Plane(width: width, height: height, channels: channels, samples: out)
}
