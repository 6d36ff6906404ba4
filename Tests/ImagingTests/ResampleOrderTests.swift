import XCTest

@testable import Imaging

/// Pillow 13 runs the vertical pass first when the height shrinks by more than twice as many
/// pixels as the width; the order changes rounding by a level or more on many pixels, so BLIP
/// inputs from portrait photos (e.g. 576x864 -> 384x384) depend on it.
final class ResampleOrderTests: XCTestCase {
    /// (width in, width out, height out, smallest height in that Pillow 13.0 resizes vertically
    /// first), found by bisecting Pillow's bicubic output against both orders.
    private let measured: [(Int, Int, Int, Int)] = [
        (100, 90, 20, 41), (100, 50, 20, 121), (40, 36, 20, 29), (100, 90, 40, 61), (100, 50, 40, 141),
        (200, 100, 20, 221), (100, 99, 20, 23), (100, 20, 20, 181), (60, 30, 30, 91), (60, 30, 10, 71),
    ]

    func testRuleMatchesMeasuredBoundaries() {
        for (w, ow, oh, firstHeight) in measured {
            XCTAssertFalse(pillowResizesVerticallyFirst(inWidth: w, inHeight: firstHeight - 1, outWidth: ow, outHeight: oh))
            XCTAssertTrue(pillowResizesVerticallyFirst(inWidth: w, inHeight: firstHeight, outWidth: ow, outHeight: oh))
        }
        // Width grows, height shrinks: always vertical first. Height grows: never.
        XCTAssertTrue(pillowResizesVerticallyFirst(inWidth: 97, inHeight: 131, outWidth: 110, outHeight: 60))
        XCTAssertFalse(pillowResizesVerticallyFirst(inWidth: 9, inHeight: 16, outWidth: 85, outHeight: 29))
        XCTAssertTrue(pillowResizesVerticallyFirst(inWidth: 576, inHeight: 864, outWidth: 384, outHeight: 384))
        XCTAssertFalse(pillowResizesVerticallyFirst(inWidth: 864, inHeight: 576, outWidth: 384, outHeight: 384))
    }

    /// Pillow's own output on both sides of the boundary (scripts/bench_imaging.py check --write-fixture).
    func testResizeAroundTheBoundaryMatchesPillow() throws {
        let source = RGBImage(width: 200, height: 150, pixels: try Fixtures.bytes("src_200x150.rgb"))
        let cases: [(ResampleFilter, String, Int, Int)] = [
            (.bicubic, "bicubic", 140, 29), (.bicubic, "bicubic", 140, 30), (.bicubic, "bicubic", 180, 40),
            (.lanczos, "lanczos", 190, 20), (.bilinear, "bilinear", 150, 50), (.box, "box", 100, 40),
        ]
        for (filter, name, w, h) in cases {
            let expected = try Fixtures.bytes("resize_order_\(name)_200x150_to_\(w)x\(h).rgb")
            let out = resize(source, width: w, height: h, filter: filter)
            let diff = ByteDiff(out.pixels, expected)
            XCTAssertEqual(diff.maxDiff, 0, "\(name) 200x150 -> \(w)x\(h): \(diff)")
        }
    }
}
