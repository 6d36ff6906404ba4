import XCTest

@testable import Imaging

final class TrainTransformTests: XCTestCase {
    private func source() throws -> RGBImage {
        RGBImage(width: 200, height: 150, pixels: try Fixtures.bytes("src_200x150.rgb"))
    }

    func testSplitMix64ReferenceValues() {
        // First outputs for seed 1234567 from the published SplitMix64 reference.
        var rng = SplitMix64(seed: 1234567)
        XCTAssertEqual(rng.next(), 6457827717110365317)
        XCTAssertEqual(rng.next(), 3203168211198807973)
    }

    func testSameSeedSameOutput() throws {
        let t = BlipTrainTransform(size: 32)
        let image = try source()
        var a = SplitMix64(seed: 7)
        var b = SplitMix64(seed: 7)
        XCTAssertEqual(t(image, using: &a), t(image, using: &b))
        var c = SplitMix64(seed: 8)
        var d = SplitMix64(seed: 7)
        XCTAssertNotEqual(t(image, using: &c), t(image, using: &d))
        XCTAssertEqual(t(image, using: &a).count, 3 * 32 * 32)
    }

    func testCropBoxRespectsScaleAndRatio() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<500 {
            let box = randomResizedCropBox(width: 300, height: 200, scale: (0.2, 1), ratio: (3.0 / 4, 4.0 / 3), using: &rng)
            XCTAssertGreaterThanOrEqual(box.x, 0)
            XCTAssertGreaterThanOrEqual(box.y, 0)
            XCTAssertLessThanOrEqual(box.x + box.width, 300)
            XCTAssertLessThanOrEqual(box.y + box.height, 200)
            let fraction = Double(box.width * box.height) / 60000
            XCTAssertGreaterThan(fraction, 0.18)
        }
        // A 10:1 strip can never fit the ratio: centre crop clamped to 4:3.
        let strip = randomResizedCropBox(width: 1000, height: 100, scale: (0.99, 1), ratio: (3.0 / 4, 4.0 / 3), using: &rng)
        XCTAssertEqual(strip.height, 100)
        XCTAssertEqual(strip.width, 133)
        XCTAssertEqual(strip.x, (1000 - 133) / 2)
    }

    func testPixelOpsMatchBlipDefinitions() throws {
        let src = RGBImage(width: 40, height: 30, pixels: try Fixtures.bytes("aug_src_40x30.rgb"))
        XCTAssertEqual(autoContrast(src).pixels, try Fixtures.bytes("aug_autocontrast_40x30.rgb"))
        XCTAssertEqual(equalize(src).pixels, try Fixtures.bytes("aug_equalize_40x30.rgb"))
        // At magnitude 5 the enhance factor is exactly 1: brightness and sharpness are no-ops.
        var rng = SplitMix64(seed: 1)
        let ra = RandAugment()
        XCTAssertEqual(ra.apply(.brightness, to: src, using: &rng), src)
        XCTAssertEqual(ra.apply(.sharpness, to: src, using: &rng), src)
        XCTAssertEqual(ra.apply(.identity, to: src, using: &rng), src)
    }

    func testGeometricOps() throws {
        let src = try source()
        XCTAssertEqual(warpAffine(src, [1, 0, 0, 0, 1, 0], fill: 128), src)
        XCTAssertEqual(warpAffine(src, rotationMatrix(centerX: 100, centerY: 75, degrees: 0), fill: 128), src)
        // Translate right by 5: column x comes from x - 5, the first five columns are fill.
        let shifted = warpAffine(src, [1, 0, 5, 0, 1, 0], fill: 128)
        for y in [0, 70, 149] {
            XCTAssertTrue(shifted[4, y] == (128, 128, 128))
            XCTAssertTrue(shifted[5, y] == src[0, y])
            XCTAssertTrue(shifted[199, y] == src[194, y])
        }
        // 180 degrees about the centre (200/2, 150/2) maps (x, y) to (200 - x, 150 - y).
        let turned = warpAffine(src, rotationMatrix(centerX: 100, centerY: 75, degrees: 180), fill: 128)
        XCTAssertTrue(turned[50, 40] == src[150, 110])
        XCTAssertTrue(turned[0, 0] == (128, 128, 128))
    }

    func testRandAugmentDrawsAreReproducible() throws {
        let src = try source()
        let ra = RandAugment(count: 2, magnitude: 9)
        var seen = Set<[UInt8]>()
        for seed in 0..<12 {
            var a = SplitMix64(seed: UInt64(seed))
            var b = SplitMix64(seed: UInt64(seed))
            let x = ra(src, using: &a)
            XCTAssertEqual(x, ra(src, using: &b))
            seen.insert(x.pixels)
        }
        XCTAssertGreaterThan(seen.count, 3)
    }
}
