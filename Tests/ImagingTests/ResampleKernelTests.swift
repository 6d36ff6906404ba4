import XCTest

@testable import Imaging

/// The RGB resampler's eight-row SIMD pass against the one-channel scalar pass, which shares
/// the weights and the arithmetic: any difference is a layout or edge bug in the fast path.
final class ResampleKernelTests: XCTestCase {
    private func noise(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var rng = SplitMix64(seed: seed)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in pixels.indices {
            // Mostly smooth with hard extremes, so clipping at 0 and 255 is exercised.
            let r = rng.next()
            pixels[i] = r % 5 == 0 ? (r & 32 == 0 ? 0 : 255) : UInt8(truncatingIfNeeded: r >> 24)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func perChannel(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for c in 0..<3 {
            let plane = Plane(
                width: image.width, height: image.height, channels: 1,
                samples: stride(from: c, to: image.pixels.count, by: 3).map { image.pixels[$0] })
            let resized = resample(plane, width: width, height: height, filter: filter, verticalFirst: nil)
            for i in 0..<(width * height) { out[3 * i + c] = resized.samples[i] }
        }
        return out
    }

    func testRGBPassEqualsScalarPass() {
        let cases: [(Int, Int, Int, Int)] = [
            (1, 1, 3, 2), (2, 9, 1, 4), (17, 9, 5, 3), (64, 8, 7, 8), (64, 16, 31, 9), (33, 17, 70, 40),
            (97, 131, 40, 40), (200, 150, 64, 48), (130, 23, 31, 77), (7, 200, 300, 7), (160, 120, 38, 38),
        ]
        var seed: UInt64 = 1
        for (w, h, ow, oh) in cases {
            let image = noise(width: w, height: h, seed: seed)
            seed += 1
            for filter in [ResampleFilter.box, .bilinear, .bicubic, .lanczos] {
                let fast = resize(image, width: ow, height: oh, filter: filter).pixels
                let reference = perChannel(image, width: ow, height: oh, filter: filter)
                XCTAssertTrue(fast == reference, "\(filter) \(w)x\(h) -> \(ow)x\(oh): \(ByteDiff(fast, reference))")
            }
        }
    }
}
