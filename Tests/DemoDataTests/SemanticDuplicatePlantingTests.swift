import Foundation
import Imaging
import XCTest
@testable import DemoData

/// The planted semantic duplicates: the truth file, the web rows and the images agree, and every
/// variant is a small change of its original.
final class SemanticDuplicatePlantingTests: XCTestCase {
    func testPlantedPairsAreConsistentWithTheWebSplitAndSmallChanges() throws {
        var options = smallOptions
        options.webImages = 150
        let dataset = DemoDataset(options: options)
        let root = temporaryFolder("semantic")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let layout = try DemoDataWriter.write(dataset, to: root)

        let pairs = try XCTUnwrap(try readJSON(layout.semanticPairs) as? [[String: Any]])
        XCTAssertEqual(pairs.count, 3, "a fiftieth of the web rows")
        XCTAssertEqual(dataset.web.count, 153, "the variants are new rows after the others")
        let labels = try XCTUnwrap(try readJSON(layout.noiseLabels) as? [[String: Any]])
        var labelOf: [String: [String: Any]] = [:]
        for row in labels { labelOf[row["key"] as! String] = row }
        let manifest = try String(contentsOfFile: layout.webManifest, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(manifest.count, dataset.web.count)
        let attributes = try String(contentsOfFile: layout.attributes(.web), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(attributes.count, dataset.web.count)

        var seenChanges = Set<String>()
        for pair in pairs {
            let original = try XCTUnwrap(pair["original"] as? String), variant = try XCTUnwrap(pair["variant"] as? String)
            let o = try XCTUnwrap(labelOf[original], "key \(original) is a web row"), v = try XCTUnwrap(labelOf[variant], "key \(variant)")
            XCTAssertLessThan(Int(original)!, options.webImages)
            XCTAssertGreaterThanOrEqual(Int(variant)!, options.webImages)
            // The variant's caption is true (clean) and another wording of the original's scene.
            XCTAssertEqual(v["kind"] as? String, "clean")
            XCTAssertEqual(v["alt_text"] as? String, v["true_caption"] as? String)
            XCTAssertNotEqual(v["alt_text"] as? String, o["alt_text"] as? String)
            XCTAssertNotEqual(v["alt_text"] as? String, o["true_caption"] as? String)
            XCTAssertEqual(dataset.web[Int(variant)!].scene, dataset.web[Int(original)!].scene)
            XCTAssertEqual(String(manifest[Int(variant)!].split(separator: "\t")[0]), v["alt_text"] as? String)
            for change in try XCTUnwrap(pair["changes"] as? [String]) { seenChanges.insert(change) }

            // The served images differ, but only a little.
            let originalPath = layout.servedRoot + (o["url_path"] as! String), variantPath = layout.servedRoot + (v["url_path"] as! String)
            XCTAssertNotEqual(readBytes(originalPath), readBytes(variantPath))
            let a = try ImageDecoder.decode(readBytes(originalPath)), b = try ImageDecoder.decode(readBytes(variantPath))
            XCTAssertEqual([a.width, a.height], [b.width, b.height])
            let difference = zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
            let mean = Double(difference) / Double(a.pixels.count)
            XCTAssertGreaterThan(mean, 0.5, "\(variant) is not a copy of \(original)")
            XCTAssertLessThan(mean, 20, "\(variant) is a small change of \(original)")
        }
        XCTAssertEqual(seenChanges, ["shift", "background", "rescale", "reencode"])
    }

    /// The variants' pixels and the truth file are pinned: the same seed plants the same rows.
    /// (The re-encoding goes through libjpeg-turbo, whose default integer DCT gives the same
    /// pixels on every SIMD path.)
    func testPinnedDigest() {
        var options = smallOptions
        options.webImages = 100
        let dataset = DemoDataset(options: options)
        XCTAssertEqual(dataset.semanticPairs.count, 2)
        var digest = FNV1a()
        for pair in dataset.semanticPairs { digest.add(DemoDataWriter.image(dataset, .web, pair.variant).pixels) }
        digest.add(DemoDataWriter.semanticPairsJSON(dataset))
        XCTAssertEqual(String(digest.value, radix: 16), "4e48967be3c290ef")
    }
}
