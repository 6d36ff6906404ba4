import Foundation
import XCTest
@testable import Export

final class BLIPJSONWriterTests: XCTestCase {
    private var root: String!

    override func setUp() { root = scratchDirectory("blip") }
    override func tearDown() { if let root { try? FileManager.default.removeItem(atPath: root) } }

    private let captions = ["a dog on a beach", "quote \" and \\ backslash", "line\nbreak\ttab\u{0}", "caf\u{E9} \u{1F600}", ""]

    func testPretrainFormat() throws {
        let path = root + "/pretrain.json"
        let writer = try BLIPPretrainWriter(path: path)
        for (i, caption) in captions.enumerated() { try writer.append(image: "images/\(i).jpg", caption: caption) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try writer.finish(), captions.count)
        let text = String(decoding: try readBytes(path), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("[\n{\"image\":\"images/0.jpg\",\"caption\":\"a dog on a beach\"},\n"), text)
        XCTAssertTrue(text.hasSuffix("}\n]\n"))
        let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: String]]
        XCTAssertEqual(list.map { $0["caption"]! }, captions)
        XCTAssertEqual(list.map { $0["image"]! }, captions.indices.map { "images/\($0).jpg" })
        XCTAssertEqual(list.map { Set($0.keys) }, Array(repeating: ["image", "caption"], count: captions.count))
        XCTAssertEqual(try directoryListing(root), ["pretrain.json"])
    }

    /// One image with several captions: a list, which BLIP's pretrain_dataset draws from; one
    /// caption stays a plain string.
    func testPretrainCaptionLists() throws {
        let path = root + "/grouped.json"
        let writer = try BLIPPretrainWriter(path: path)
        try writer.append(image: "a.jpg", captions: ["one", "two \"quoted\""])
        try writer.append(image: "b.jpg", captions: ["alone"])
        try writer.finish()
        let text = String(decoding: try readBytes(path), as: UTF8.self)
        XCTAssertEqual(text, "[\n{\"image\":\"a.jpg\",\"caption\":[\"one\",\"two \\\"quoted\\\"\"]},\n{\"image\":\"b.jpg\",\"caption\":\"alone\"}\n]\n")
    }

    func testReleasedFormat() throws {
        let path = root + "/nested/ccs_filtered.json"
        let writer = try BLIPReleasedWriter(path: path)
        for (i, caption) in captions.enumerated() { try writer.append(url: "https://example.com/\(i).jpg?a=1&b=\"2\"", caption: caption) }
        try writer.finish()
        let text = String(decoding: try readBytes(path), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("[\n{\"url\":\"https://example.com/0.jpg?a=1&b=\\\"2\\\"\",\"caption\":"), text)
        let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: String]]
        XCTAssertEqual(list.map { $0["caption"]! }, captions)
        XCTAssertEqual(list[3]["url"], "https://example.com/3.jpg?a=1&b=\"2\"")
    }

    func testEmptyListAndDeterminism() throws {
        let empty = try BLIPReleasedWriter(path: root + "/empty.json")
        XCTAssertEqual(try empty.finish(), 0)
        XCTAssertEqual(String(decoding: try readBytes(root + "/empty.json"), as: UTF8.self), "[]\n")
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(try readBytes(root + "/empty.json"))) as? [Any])?.count, 0)

        for name in ["a.json", "b.json"] {
            let writer = try BLIPPretrainWriter(path: root + "/" + name, durable: false)
            for i in 0..<1000 { try writer.append(image: "\(i).jpg", caption: captions[i % captions.count] + " \(i)") }
            try writer.finish()
        }
        XCTAssertEqual(try readBytes(root + "/a.json"), try readBytes(root + "/b.json"))
    }

    func testUnfinishedWritersNeverShowAFinalFile() throws {
        let path = root + "/list.json"
        do {
            let writer = try BLIPPretrainWriter(path: path)
            try writer.append(image: "x.jpg", caption: "dropped before finish")
        }
        XCTAssertEqual(try directoryListing(root), [".list.json.partial"])
        // The next writer for the same path starts the temporary file over.
        let writer = try BLIPPretrainWriter(path: path)
        try writer.append(image: "y.jpg", caption: "kept")
        try writer.finish()
        XCTAssertEqual(try directoryListing(root), ["list.json"])
        let list = try JSONSerialization.jsonObject(with: Data(try readBytes(path))) as! [[String: String]]
        XCTAssertEqual(list, [["image": "y.jpg", "caption": "kept"]])

        let discarded = try BLIPReleasedWriter(path: root + "/gone.json")
        try discarded.append(url: "u", caption: "c")
        discarded.discard()
        XCTAssertThrowsError(try discarded.append(url: "u", caption: "c"))
        XCTAssertEqual(try directoryListing(root), ["list.json"])
    }
}
