import Foundation
import XCTest

@testable import Imaging

/// DCT-domain scaled decoding, EXIF orientation and JPEG encoding against Pillow.
final class JPEGFeatureTests: XCTestCase {
    func testDraftDecodeMatchesPillow() throws {
        for entry in Fixtures.index.draft {
            let bytes = try Fixtures.bytes(entry.file)
            let image = try ImageDecoder.decode(bytes, alpha: .drop, minimumSize: (entry.minWidth, entry.minHeight))
            XCTAssertEqual(image.width, entry.width, entry.expected)
            XCTAssertEqual(image.height, entry.height, entry.expected)
            let diff = ByteDiff(image.pixels, try Fixtures.bytes(entry.expected))
            print("draft \(entry.file) min \(entry.minWidth)x\(entry.minHeight) -> \(entry.width)x\(entry.height): \(diff)")
            XCTAssertEqual(diff.maxDiff, 0, "\(entry.expected): \(diff)")
        }
    }

    func testScaleDenominatorFollowsPillowDraft() {
        XCTAssertEqual(ImageDecoder.jpegScaleDenominator(width: 1600, height: 1200, target: (384, 384)), 2)
        XCTAssertEqual(ImageDecoder.jpegScaleDenominator(width: 4000, height: 3000, target: (384, 384)), 4)
        XCTAssertEqual(ImageDecoder.jpegScaleDenominator(width: 4000, height: 3200, target: (384, 384)), 8)
        XCTAssertEqual(ImageDecoder.jpegScaleDenominator(width: 700, height: 700, target: (384, 384)), 1)
        XCTAssertEqual(ImageDecoder.jpegScaleDenominator(width: 700, height: 700, target: nil), 1)
    }

    func testOrientationMatchesExifTranspose() throws {
        for entry in Fixtures.index.orientation {
            let bytes = try Fixtures.bytes(entry.file)
            XCTAssertEqual(ExifOrientation.read(from: bytes)?.rawValue, entry.orientation, entry.file)
            let image = try ImageDecoder.decode(bytes, alpha: .drop, applyOrientation: true)
            XCTAssertEqual(image.width, entry.width, entry.file)
            XCTAssertEqual(image.height, entry.height, entry.file)
            XCTAssertEqual(image.pixels, try Fixtures.bytes(entry.expected), entry.file)
            let unrotated = try ImageDecoder.decode(bytes)
            XCTAssertEqual(unrotated.width, 17, "orientation is opt-in")
        }
    }

    func testEncodeMatchesPillowSave() throws {
        let source = RGBImage(width: 97, height: 131, pixels: try Fixtures.bytes("src_97x131.rgb"))
        for entry in Fixtures.index.encode {
            let ours = try ImageEncoder.jpeg(source, quality: entry.quality)
            let pillow = try Fixtures.bytes(entry.file)
            let a = try ImageDecoder.decode(ours)
            let b = try ImageDecoder.decode(pillow)
            let diff = ByteDiff(a.pixels, b.pixels)
            print("encode q\(entry.quality): \(ours.count) bytes vs Pillow \(pillow.count), identical file: \(ours == pillow), decoded \(diff)")
            XCTAssertEqual(diff.maxDiff, 0, "q\(entry.quality): \(diff)")
        }
        XCTAssertEqual(try ImageEncoder.jpeg(source), try ImageEncoder.jpeg(source, quality: 95))
    }

    func testEncodeRoundTripAndErrors() throws {
        let source = RGBImage(width: 97, height: 131, pixels: try Fixtures.bytes("src_97x131.rgb"))
        let decoded = try ImageDecoder.decode(try ImageEncoder.jpeg(source, quality: 95))
        var se = 0.0
        for i in 0..<source.pixels.count {
            let d = Double(source.pixels[i]) - Double(decoded.pixels[i])
            se += d * d
        }
        let psnr = 10 * log10(255 * 255 / (se / Double(source.pixels.count)))
        // Noisy fixture content with 4:2:0 chroma lands near 24 dB.
        XCTAssertGreaterThan(psnr, 22, "PSNR \(psnr)")
        XCTAssertThrowsError(try ImageEncoder.jpeg(source, quality: 0))
        XCTAssertThrowsError(try ImageEncoder.jpeg(source, quality: 101))
    }
}
