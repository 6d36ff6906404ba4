import Foundation
import XCTest

@testable import Imaging

/// Hostile and broken inputs must come back as typed errors, never crash, and never allocate
/// the size a header claims.
final class DecodeErrorTests: XCTestCase {
    private func expect(_ kind: ImageError.Kind, _ bytes: [UInt8], limits: DecodeLimits = .default,
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            let image = try ImageDecoder.decode(bytes, limits: limits)
            XCTFail("decoded \(image.width)x\(image.height), expected \(kind)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        }
    }

    private func fixture(_ name: String) throws -> [UInt8] { try Fixtures.bytes(name) }

    func testEmptyInput() {
        expect(.truncated, [])
    }

    func testRandomBytes() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: 4096)
        for i in bytes.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        bytes[0] = 0x00  // make sure no signature matches by chance
        expect(.unsupportedFormat, bytes)
    }

    func testUnsupportedContainers() {
        expect(.unsupportedFormat, Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 32))
        expect(.unsupportedFormat, Array("BM".utf8) + [UInt8](repeating: 0, count: 32))
    }

    func testTruncatedJPEGAtEveryStage() throws {
        let full = try fixture("jpeg_prog_200x150.jpg")
        for cut in [3, 20, 200, full.count / 2, full.count - 3] {
            do {
                _ = try ImageDecoder.decode(Array(full[0..<cut]))
                XCTFail("truncated JPEG at \(cut) decoded")
            } catch {
                XCTAssertTrue(error.kind == .truncated || error.kind == .corrupt, "\(cut): \(error)")
            }
        }
        let baseline = try fixture("jpeg_420_97x131.jpg")
        expect(.truncated, Array(baseline[0..<(baseline.count * 2 / 3)]))
    }

    func testCorruptJPEGHeader() throws {
        var bytes = try fixture("jpeg_444_64x48.jpg")
        // Destroy the first marker after SOI.
        bytes[2] = 0x00
        bytes[3] = 0x00
        XCTAssertThrowsError(try ImageDecoder.decode(bytes))
    }

    func testTruncatedPNG() throws {
        let full = try fixture("png_rgb_64x48.png")
        expect(.truncated, Array(full[0..<5]))
        expect(.truncated, Array(full[0..<20]))
        for cut in [60, full.count / 2, full.count - 13] {
            do {
                _ = try ImageDecoder.decode(Array(full[0..<cut]))
                XCTFail("truncated PNG at \(cut) decoded")
            } catch {
                XCTAssertTrue(error.kind == .truncated || error.kind == .corrupt, "\(cut): \(error)")
            }
        }
    }

    func testPNGWithBadCRC() throws {
        var bytes = try fixture("png_rgb_64x48.png")
        // IHDR data starts at 16; its CRC at 29..32.
        bytes[29] ^= 0xFF
        expect(.corrupt, bytes)
        var idat = try fixture("png_rgb_64x48.png")
        idat[idat.count - 13] ^= 0x55  // last byte of the final IDAT's CRC... or data
        XCTAssertThrowsError(try ImageDecoder.decode(idat))
    }

    func testHugeHeadersAreRefusedQuickly() throws {
        let start = Date()
        expect(.tooLarge, try fixture("err_png_100000x100000.png"))
        expect(.tooLarge, try fixture("err_jpeg_60000x60000.jpg"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
        XCTAssertEqual(try ImageDecoder.dimensions(try fixture("err_png_100000x100000.png")).width, 100000)
    }

    func testTruncatedWebP() throws {
        let full = try fixture("webp_lossy_64x48.webp")
        for cut in [12, 30, full.count / 2] {
            do {
                _ = try ImageDecoder.decode(Array(full[0..<cut]))
                XCTFail("truncated WebP at \(cut) decoded")
            } catch {
                XCTAssertTrue(error.kind == .truncated || error.kind == .corrupt, "\(cut): \(error)")
            }
        }
    }

    func testLimits() throws {
        let bytes = try fixture("jpeg_420_97x131.jpg")  // 97x131
        expect(.tooLarge, bytes, limits: DecodeLimits(maxPixels: 97 * 131 - 1))
        XCTAssertNoThrow(try ImageDecoder.decode(bytes, limits: DecodeLimits(maxPixels: 97 * 131)))
        expect(.tooSmall, bytes, limits: DecodeLimits(minSide: 98))
        expect(.badAspectRatio, bytes, limits: DecodeLimits(maxAspectRatio: 1.3))
        XCTAssertNoThrow(try ImageDecoder.decode(bytes, limits: DecodeLimits(maxAspectRatio: 1.36)))
        // Overflowing products are refused, not trapped.
        XCTAssertEqual(DecodeLimits.default.violation(width: Int.max, height: 3)?.kind, .tooLarge)
    }

    /// Random byte corruption must end in an image or a typed error, never a crash.
    func testMutatedInputsNeverCrash() throws {
        var rng = SplitMix64(seed: 99)
        var outcomes = [String: Int]()
        for name in ["jpeg_420_97x131.jpg", "jpeg_prog_200x150.jpg", "jpeg_cmyk_64x48.jpg", "png_p_trns_64x48.png",
                     "png_adam7_rgba_64x48.png", "png_l16_64x48.png", "webp_lossy_64x48.webp", "webp_alpha_64x48.webp"] {
            let original = try fixture(name)
            for _ in 0..<60 {
                var bytes = original
                for _ in 0..<(1 + rng.index(4)) {
                    bytes[rng.index(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.index(4) == 0 { bytes = Array(bytes[0..<(1 + rng.index(bytes.count - 1))]) }
                do {
                    let image = try ImageDecoder.decode(bytes, limits: DecodeLimits(maxPixels: 1 << 20))
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                    outcomes["decoded", default: 0] += 1
                } catch {
                    outcomes["\(error.kind)", default: 0] += 1
                }
            }
        }
        print("mutation outcomes: \(outcomes.sorted { $0.key < $1.key })")
    }

    func testMissingFile() {
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: "/nonexistent/image.jpg")) { error in
            XCTAssertEqual((error as? ImageError)?.kind, .io)
        }
    }

    func testFormatSniffingIgnoresNames() throws {
        let bytes = try fixture("png_rgb_64x48.png")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-sniff-\(getpid()).jpg").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(ImageFormat.sniff(bytes), .png)
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: path).width, 64)
    }
}
