import Basics
import Foundation
import Imaging
import Ingest
import XCTest
@testable import Decontamination

final class EvaluationIndexTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("decontam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// A picture whose pixels depend on `seed`: distinct seeds give distinct hashes.
    func picture(_ seed: UInt64) -> RGBImage {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var pixels = [UInt8](repeating: 0, count: 48 * 40 * 3)
        for block in 0..<30 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let (bx, by) = (block % 6 * 8, block / 6 * 8)
            for y in by..<(by + 8) { for x in bx..<(bx + 8) { for c in 0..<3 { pixels[(y * 48 + x) * 3 + c] = UInt8(truncatingIfNeeded: state >> (8 * UInt64(c))) } } }
        }
        return RGBImage(width: 48, height: 40, pixels: pixels)
    }

    func write(_ image: RGBImage, _ name: String, quality: Int = 90) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(try ImageEncoder.jpeg(image, quality: quality)).write(to: url)
        return url.path
    }

    func testExactBytesMatchBeforeHashes() {
        let index = EvaluationIndex(images: [IndexedEvaluationImage(evalSet: "test", name: "a.jpg", sha256: "aa", phash: 0)], radius: nil)
        XCTAssertEqual(index.match(sha256: "aa", phash: nil), ContaminationMatch(method: .exact, evalSet: "test", evalImage: "a.jpg", distance: 0))
        XCTAssertNil(index.match(sha256: "bb", phash: 0), "phash is off without a radius")
        XCTAssertNil(index.match(sha256: "aa", phash: nil, exact: false))
    }

    /// A hash `radius` bits away matches, one bit more does not; the nearest of several wins.
    func testPhashJustInsideAndJustOutsideTheRadius() {
        let base: UInt64 = 0x0123_4567_89AB_CDEF
        let images = [
            IndexedEvaluationImage(evalSet: "test", name: "far.jpg", sha256: "1", phash: base ^ 0b1111),
            IndexedEvaluationImage(evalSet: "test", name: "base.jpg", sha256: "2", phash: base),
        ]
        let index = EvaluationIndex(images: images, radius: 5)
        let inside = base ^ 0b1_1111_0000          // 5 bits from base.jpg, 9 from far.jpg
        XCTAssertEqual(index.match(sha256: nil, phash: inside)?.evalImage, "base.jpg")
        XCTAssertEqual(index.match(sha256: nil, phash: inside)?.distance, 5)
        XCTAssertEqual(index.match(sha256: nil, phash: inside)?.reason, "phash 5 bits from test:base.jpg")
        XCTAssertNil(index.match(sha256: nil, phash: base ^ 0b11_1111_0000), "6 bits from base.jpg, 10 from far.jpg")
        XCTAssertEqual(index.match(sha256: nil, phash: base ^ 0b1)?.evalImage, "base.jpg", "1 bit from base.jpg beats 3 from far.jpg")
    }

    func testCosineJustInsideAndJustOutsideTheThreshold() {
        func unit(_ angle: Float) -> [Float] { [cos(angle), sin(angle), 0] }
        let matcher = EmbeddingMatcher(images: [("test", "a.jpg"), ("test", "b.jpg")], vectors: [unit(0), [0, 0, 1]], threshold: 0.9)
        // cos(0.45) = 0.9004, cos(0.452) = 0.8996.
        let inside = matcher.match(unit(0.45))
        XCTAssertEqual(inside?.evalImage, "a.jpg")
        XCTAssertEqual(inside?.method, .cosine)
        XCTAssertEqual(inside?.distance ?? 0, 0.9004, accuracy: 1e-3)
        XCTAssertNil(matcher.match(unit(0.452)))
        XCTAssertNil(matcher.match([1, 0]), "an embedding of another size matches nothing")
    }

    /// A folder set holds every image under it, recursively, in sorted order; other files are
    /// not part of it; a damaged image is reported and the rest are indexed.
    func testImageFolderWithAnUnreadableImage() throws {
        let root = folder.appendingPathComponent("eval").path
        let copy = try write(picture(1), "eval/b/second.jpg")
        _ = try write(picture(2), "eval/a.jpg")
        try Data("notes".utf8).write(to: URL(fileURLWithPath: root + "/README.txt"))
        try Data([0xFF, 0xD8, 0xFF, 0x00, 0x01]).write(to: URL(fileURLWithPath: root + "/b/broken.jpg"))
        let set = try EvaluationSet(name: EvaluationSet.defaultName(path: root), source: .folder(path: root))
        XCTAssertEqual(set.name, "eval")
        XCTAssertEqual(set.images.map(\.name), ["a.jpg", "b/broken.jpg", "b/second.jpg"])
        let index = EvaluationIndex.build([set], radius: 8)
        XCTAssertEqual(index.images.map(\.name), ["a.jpg", "b/second.jpg"])
        XCTAssertEqual(index.unreadable.map(\.name), ["b/broken.jpg"])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: copy)))
        XCTAssertEqual(index.match(sha256: SHA256.hex(bytes), phash: nil)?.reason, "exact copy of eval:b/second.jpg")
        // A re-encoded copy: another SHA-256, a pHash within a few bits.
        let reencoded = try ImageEncoder.jpeg(picture(1), quality: 70)
        let phash = PerceptualHash.phash(try ImageDecoder.decode(reencoded))
        let stored = PerceptualHash.phash(try ImageDecoder.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: copy)))))
        let near = try XCTUnwrap(index.match(sha256: SHA256.hex(reencoded), phash: phash), "\(hammingDistance(stored, phash)) bits")
        XCTAssertEqual(near.method, .phash)
        XCTAssertEqual(near.evalImage, "b/second.jpg")
        XCTAssertNil(index.match(sha256: nil, phash: PerceptualHash.phash(picture(3))))
    }

    /// A COCO captions json with its image root: names are the paths under the root, read with
    /// Ingest's reader (format detected as ingest detects it).
    func testCOCOManifestWithImageRoot() throws {
        _ = try write(picture(4), "coco/val2014/x.jpg")
        _ = try write(picture(5), "coco/val2014/y.jpg")
        let coco: [String: Any] = [
            "images": [["id": 1, "file_name": "x.jpg"], ["id": 2, "file_name": "y.jpg"]],
            "annotations": [["id": 10, "image_id": 1, "caption": "a picture"], ["id": 11, "image_id": 2, "caption": "another"]],
        ]
        let manifest = folder.appendingPathComponent("captions_val2014.json")
        try JSONSerialization.data(withJSONObject: coco).write(to: manifest)
        let root = folder.appendingPathComponent("coco/val2014").path
        let format = try ManifestFormat.detect(path: manifest.path)
        XCTAssertEqual(format, .coco)
        let set = try EvaluationSet(name: "coco-test", source: .manifest(path: manifest.path, format: format,
                                                                          options: ManifestOptions(imageRoot: root)))
        XCTAssertEqual(set.images.map(\.name), ["x.jpg", "y.jpg"])
        let index = EvaluationIndex.build([set], radius: 4)
        XCTAssertTrue(index.unreadable.isEmpty)
        let phash = PerceptualHash.phash(try ImageDecoder.decode(try ImageEncoder.jpeg(picture(5), quality: 70)))
        XCTAssertEqual(index.match(sha256: nil, phash: phash)?.evalImage, "y.jpg")
    }

    func testContentDigestFollowsTheImagesNotTheirPlace() throws {
        _ = try write(picture(6), "one/p.jpg")
        _ = try write(picture(6), "two/p.jpg")
        let one = try EvaluationSet(name: "s", source: .folder(path: folder.appendingPathComponent("one").path))
        let two = try EvaluationSet(name: "s", source: .folder(path: folder.appendingPathComponent("two").path))
        XCTAssertEqual(one.contentDigest(), two.contentDigest())
        _ = try write(picture(7), "two/p.jpg")
        XCTAssertNotEqual(one.contentDigest(), try EvaluationSet(name: "s", source: .folder(path: folder.appendingPathComponent("two").path)).contentDigest())
    }

    func testEmbeddingCacheRoundTripAndCountCheck() throws {
        let cache = EvaluationEmbeddingCache(folder: folder.appendingPathComponent("cache").path)
        XCTAssertNil(cache.load(key: "k", count: 2))
        let rows: [[Float]] = [[1, -0.5, 0.25], [0, 2, -3]]
        try cache.store(key: "k", rows)
        XCTAssertEqual(cache.load(key: "k", count: 2), rows)
        XCTAssertNil(cache.load(key: "k", count: 3), "a file for another number of images is not used")
    }
}

