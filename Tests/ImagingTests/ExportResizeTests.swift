import XCTest

@testable import Imaging

final class ExportResizeTests: XCTestCase {
    private func image(_ w: Int, _ h: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for i in px.indices { px[i] = UInt8(truncatingIfNeeded: i * 7 + i / 13) }
        return RGBImage(width: w, height: h, pixels: px)
    }

    func testGeometryPerMode() {
        let src = image(300, 200)
        func size(_ mode: ExportResizeMode, _ n: Int = 128, onlyIfBigger: Bool = false, _ img: RGBImage? = nil) -> [Int] {
            let out = ExportResizer(imageSize: n, mode: mode, resizeOnlyIfBigger: onlyIfBigger)(img ?? src)
            return [out.width, out.height]
        }
        XCTAssertEqual(size(.no), [300, 200])
        XCTAssertEqual(size(.keepRatio), [192, 128])
        XCTAssertEqual(size(.keepRatioLargest), [128, 85])  // 85.33
        XCTAssertEqual(size(.centerCrop), [128, 128])
        XCTAssertEqual(size(.border), [128, 128])
        // 2.5 rounds to even: 100x5 scaled by 0.5 -> 50x2.
        XCTAssertEqual(size(.keepRatioLargest, 50, image(100, 5)), [50, 2])
        // Upscaling is skipped when asked to resize only bigger images.
        XCTAssertEqual(size(.border, 512, onlyIfBigger: true), [300, 200])
        XCTAssertEqual(size(.border, 512), [512, 512])
        XCTAssertEqual(size(.keepRatio, 150, onlyIfBigger: true), [225, 150])
        XCTAssertEqual(size(.keepRatio, 250, onlyIfBigger: true), [300, 200])
    }

    func testBorderIsWhiteAndCentred() {
        let src = RGBImage(width: 40, height: 20, fill: (10, 20, 30))
        let out = ExportResizer(imageSize: 40, mode: .border)(src)
        XCTAssertEqual(out.width, 40)
        XCTAssertEqual(out.height, 40)
        XCTAssertTrue(out[0, 9] == (255, 255, 255))
        XCTAssertTrue(out[0, 10] == (10, 20, 30))
        XCTAssertTrue(out[39, 29] == (10, 20, 30))
        XCTAssertTrue(out[39, 30] == (255, 255, 255))
        // Odd padding: the smaller half goes first.
        let odd = padToSquare(RGBImage(width: 4, height: 1, fill: (0, 0, 0)), size: 4, fill: (255, 255, 255))
        XCTAssertTrue(odd[0, 1] == (0, 0, 0))
        XCTAssertTrue(odd[0, 0] == (255, 255, 255))
    }

    func testCenterCropTakesTheMiddle() {
        let src = image(9, 3)
        let c = crop(src, x: 3, y: 0, width: 3, height: 3)
        let out = ExportResizer(imageSize: 3, mode: .centerCrop)(src)
        XCTAssertEqual(out, c)
    }
}
