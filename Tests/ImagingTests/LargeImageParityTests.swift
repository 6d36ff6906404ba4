import Foundation
import XCTest
import Imaging
import Basics

/// Full-size parity: a 2048x1536 photo-like JPEG decoded, resized and transformed bit-exactly
/// as Pillow and transformers do (expected SHA-256 digests from scripts/make_large_image_fixture.py).
final class LargeImageParityTests: XCTestCase {
    func testFullSizePhotoIsBitExact() throws {
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.directory.appendingPathComponent("large_2048x1536.json"))) as! [String: Any]
        let image = try ImageDecoder.decode(contentsOf: Fixtures.path("large_2048x1536.jpg"))
        XCTAssertEqual(image.width, 2048); XCTAssertEqual(image.height, 1536)
        XCTAssertEqual(SHA256.hex(image.pixels), expected["decoded_rgb_sha256"] as? String, "decoded RGB")
        XCTAssertEqual(SHA256.hex(resize(image, width: 384, height: 384, filter: .bicubic).pixels),
                       expected["bicubic_384x384_sha256"] as? String, "bicubic 384x384")
        XCTAssertEqual(SHA256.hex(resize(image, width: 1000, height: 750, filter: .lanczos).pixels),
                       expected["lanczos_1000x750_sha256"] as? String, "lanczos 1000x750")
        let pixels = BlipImageTransform(size: 384)(image)
        let bytes = pixels.withUnsafeBytes { Array($0) }   // little-endian float32, as numpy '<f4'
        XCTAssertEqual(SHA256.hex(bytes), expected["blip_pixel_values_384_sha256"] as? String, "BLIP pixel_values")
    }
}
