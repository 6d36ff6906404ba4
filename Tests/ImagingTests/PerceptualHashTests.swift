import Foundation
import XCTest

@testable import Imaging

final class PerceptualHashTests: XCTestCase {
    func testGrayscaleMatchesPillowConvertL() throws {
        let source = RGBImage(width: 97, height: 131, pixels: try Fixtures.bytes("src_97x131.rgb"))
        XCTAssertEqual(grayscale(source).samples, try Fixtures.bytes("gray_97x131.bin"))
    }

    func testHashesMatchImagehashDefinitions() throws {
        for entry in Fixtures.index.hashes {
            var image = RGBImage(width: entry.width, height: entry.height, pixels: try Fixtures.bytes(entry.source))
            if entry.flipped == true { image = ExifOrientation.mirrorHorizontal.apply(to: image) }
            let p = PerceptualHash.phash(image)
            let d = PerceptualHash.dhash(image)
            XCTAssertEqual(PerceptualHash.hex(p), entry.phash, "\(entry.source) flipped \(entry.flipped ?? false)")
            XCTAssertEqual(PerceptualHash.hex(d), entry.dhash, "\(entry.source) flipped \(entry.flipped ?? false)")
        }
    }

    func testHashIsStableUnderMildChanges() throws {
        let source = RGBImage(width: 200, height: 150, pixels: try Fixtures.bytes("src_200x150.rgb"))
        let smaller = resize(source, width: 120, height: 90, filter: .bicubic)
        let recompressed = try ImageDecoder.decode(try ImageEncoder.jpeg(source, quality: 70))
        XCTAssertLessThanOrEqual(hammingDistance(PerceptualHash.phash(source), PerceptualHash.phash(smaller)), 4)
        XCTAssertLessThanOrEqual(hammingDistance(PerceptualHash.phash(source), PerceptualHash.phash(recompressed)), 4)
        let other = RGBImage(width: 97, height: 131, pixels: try Fixtures.bytes("src_97x131.rgb"))
        XCTAssertGreaterThan(hammingDistance(PerceptualHash.phash(source), PerceptualHash.phash(ExifOrientation.rotate90Clockwise.apply(to: other))), 10)
        XCTAssertEqual(hammingDistance(0, UInt64.max), 64)
        XCTAssertEqual(PerceptualHash.hex(0xAB), "00000000000000ab")
    }
}
