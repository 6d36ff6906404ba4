import XCTest
@testable import DemoData

/// The manifests have the layouts the Ingest readers expect (docs/ingest.md), checked with
/// JSONSerialization and line splitting (this test target cannot depend on Ingest).
final class ManifestTests: XCTestCase {
    private var folder = ""
    private var layout = DemoDataLayout(root: "")
    private let dataset = DemoDataset(options: smallOptions)

    override func setUpWithError() throws {
        folder = temporaryFolder("manifests")
        layout = try DemoDataWriter.write(dataset, to: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func testCOCOSplits() throws {
        for (path, root, count) in [
            (layout.humanManifest, layout.humanImageRoot, 6), (layout.validationManifest, layout.validationImageRoot, 3),
        ] {
            let json = try XCTUnwrap(readJSON(path) as? [String: Any])
            XCTAssertNotNil(json["info"] as? [String: Any])
            XCTAssertNotNil(json["licenses"] as? [Any])
            let images = try XCTUnwrap(json["images"] as? [[String: Any]])
            let annotations = try XCTUnwrap(json["annotations"] as? [[String: Any]])
            XCTAssertEqual(images.count, count)
            XCTAssertEqual(annotations.count, count * 5)
            var ids = Set<Int>()
            for image in images {
                let id = try XCTUnwrap(image["id"] as? Int)
                ids.insert(id)
                let name = try XCTUnwrap(image["file_name"] as? String)
                XCTAssertEqual(name, DemoDataLayout.cocoFileName(id))
                XCTAssertEqual(image["width"] as? Int, 32)
                XCTAssertEqual(image["height"] as? Int, 32)
                XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/" + name), name)
            }
            XCTAssertEqual(Set(annotations.compactMap { $0["id"] as? Int }).count, annotations.count, "annotation ids unique")
            for a in annotations {
                XCTAssertTrue(ids.contains(try XCTUnwrap(a["image_id"] as? Int)))
                XCTAssertFalse(try XCTUnwrap(a["caption"] as? String).isEmpty)
            }
        }
        // Train and validation image ids do not collide.
        let train = try XCTUnwrap(readJSON(layout.humanManifest) as? [String: Any])["images"] as! [[String: Any]]
        let val = try XCTUnwrap(readJSON(layout.validationManifest) as? [String: Any])["images"] as! [[String: Any]]
        XCTAssertTrue(Set(train.map { $0["id"] as! Int }).isDisjoint(with: val.map { $0["id"] as! Int }))
    }

    func testWebManifestIsCC3M() throws {
        let text = try String(contentsOfFile: layout.webManifest, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 40)
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, 2, String(line))
            XCTAssertFalse(fields[0].trimmingCharacters(in: .whitespaces).isEmpty)
            XCTAssertEqual(String(fields[1]), "http://127.0.0.1:8377/web/000\(i < 10 ? "0" : "")\(i).jpg")
            XCTAssertTrue(FileManager.default.fileExists(atPath: layout.servedRoot + "/web/" + String(fields[1].split(separator: "/").last!)))
        }
        // Another port rewrites the manifest only.
        try DemoDataWriter.writeWebManifest(dataset, port: 40123, layout: layout)
        XCTAssertTrue(try String(contentsOfFile: layout.webManifest, encoding: .utf8).hasPrefix(dataset.web[0].altText + "\thttp://127.0.0.1:40123/web/00000.jpg\n"))
    }

    func testKarpathyTestSplit() throws {
        let entries = try XCTUnwrap(readJSON(layout.testManifest) as? [[String: Any]])
        XCTAssertEqual(entries.count, 12)
        for entry in entries {
            let image = try XCTUnwrap(entry["image"] as? String)
            let captions = try XCTUnwrap(entry["caption"] as? [String])
            XCTAssertEqual(captions.count, 5)
            XCTAssertTrue(FileManager.default.fileExists(atPath: layout.testImageRoot + "/" + image), image)
        }
    }

    func testAttributesAndSummary() throws {
        for split in DemoDataset.Split.allCases {
            let lines = try String(contentsOfFile: layout.attributes(split), encoding: .utf8).split(separator: "\n")
            for line in lines {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let file = try XCTUnwrap(object["file"] as? String)
                XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + file), file)
                XCTAssertNotNil(object["shape"] as? String)
                XCTAssertNotNil(object["count"] as? Int)
            }
        }
        let summary = try XCTUnwrap(readJSON(layout.summary) as? [String: Any])
        XCTAssertEqual(summary["web_images"] as? Int, 40)
        let kinds = try XCTUnwrap(summary["web_rows_by_kind"] as? [String: Int])
        XCTAssertEqual(kinds.values.reduce(0, +), 40)
    }
}
