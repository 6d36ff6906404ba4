import Foundation
import XCTest
@testable import Export

final class WebDatasetWriterTests: XCTestCase {
    private var root: String!

    override func setUp() { root = scratchDirectory("wds") }
    override func tearDown() { if let root { try? FileManager.default.removeItem(atPath: root) } }

    private func sample(_ i: Int, key: String? = nil) -> ShardSample {
        let metadata = SampleMetadata(
            key: key ?? String(format: "%06d", i), source: i % 2 == 0 ? "coco" : "cc3m",
            origin: i % 3 == 0 ? "synthetic" : "web", caption: "caption number \(i)",
            url: "https://example.com/\(i).jpg", scores: ["itm": Double(i) / 10, "itc": 0.25])
        return .capfilt(metadata, image: .bytes(tinyJPEG("sample \(i)")))
    }

    private func jsonObject(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func testShardsStatsAndIndex() throws {
        let writer = try WebDatasetWriter(directory: root, options: WebDatasetOptions(samplesPerShard: 3))
        var locations: [SampleLocation] = []
        for i in 0..<7 { locations.append(try writer.add(sample(i))) }
        let summary = try writer.finish()

        XCTAssertEqual(locations.map(\.shard), ["00000.tar", "00000.tar", "00000.tar", "00001.tar", "00001.tar", "00001.tar", "00002.tar"])
        XCTAssertEqual(try directoryListing(root), [
            "00000.tar", "00000_stats.json", "00001.tar", "00001_stats.json", "00002.tar", "00002_stats.json", "shards.json",
        ])
        XCTAssertEqual(summary.samples, 7)
        XCTAssertEqual(summary.urls, "{00000..00002}.tar")
        XCTAssertEqual(summary.shards.map(\.count), [3, 3, 1])

        let listing = try runTool(["tar", "-tf", root + "/00001.tar"])
        XCTAssertEqual(listing.status, 0)
        XCTAssertEqual(listing.stdout.split(separator: "\n"), [
            "000003.jpg", "000003.txt", "000003.json", "000004.jpg", "000004.txt", "000004.json",
            "000005.jpg", "000005.txt", "000005.json",
        ])
        let entries = try parseTar(try readBytes(root + "/00001.tar"))
        XCTAssertEqual(entries[0].data, tinyJPEG("sample 3"))
        XCTAssertEqual(String(decoding: entries[1].data, as: UTF8.self), "caption number 3")
        let record = try JSONSerialization.jsonObject(with: Data(entries[2].data)) as! [String: Any]
        XCTAssertEqual(record["key"] as? String, "000003")
        XCTAssertEqual(record["origin"] as? String, "synthetic")
        XCTAssertEqual(record["decision"] as? String, "keep")
        XCTAssertEqual((record["scores"] as? [String: Double])?["itm"], 0.3)
        for entry in entries {
            XCTAssertEqual(entry.mode, 0o644); XCTAssertEqual(entry.uid, 0); XCTAssertEqual(entry.gid, 0)
            XCTAssertEqual(entry.mtime, 0); XCTAssertEqual(entry.uname, ""); XCTAssertEqual(entry.gname, "")
        }

        let stats = try jsonObject(root + "/00001_stats.json")
        XCTAssertEqual(stats["shard"] as? String, "00001.tar")
        XCTAssertEqual(stats["count"] as? Int, 3)
        XCTAssertEqual(stats["first_key"] as? String, "000003")
        XCTAssertEqual(stats["last_key"] as? String, "000005")
        XCTAssertEqual(stats["bytes"] as? Int, try readBytes(root + "/00001.tar").count)
        XCTAssertEqual(stats["sha256"] as? String, try sha256sum(root + "/00001.tar"))
        let labels = stats["labels"] as! [String: [String: Int]]
        XCTAssertEqual(labels["origin"], ["synthetic": 1, "web": 2])
        XCTAssertEqual(labels["source"], ["coco": 1, "cc3m": 2])
        XCTAssertEqual(labels["decision"], ["keep": 3])
        let itm = (stats["values"] as! [String: [String: Any]])["itm"]!
        XCTAssertEqual(itm["count"] as? Int, 3)
        XCTAssertEqual(itm["min"] as? Double, 0.3)
        XCTAssertEqual(itm["max"] as? Double, 0.5)
        XCTAssertEqual(itm["mean"] as! Double, 0.4, accuracy: 1e-12)
        let members = stats["members"] as! [String: [String: Int]]
        XCTAssertEqual(members["jpg"]?["count"], 3)
        XCTAssertEqual(members["txt"]?["bytes"], 3 * "caption number 3".utf8.count)
        let statsText = String(decoding: try readBytes(root + "/00001_stats.json"), as: UTF8.self)
        XCTAssertTrue(statsText.hasPrefix("{\n  \"bytes\": ") && statsText.hasSuffix("\n}\n"), statsText)

        let index = try jsonObject(root + "/shards.json")
        XCTAssertEqual(index["samples"] as? Int, 7)
        XCTAssertEqual(index["urls"] as? String, "{00000..00002}.tar")
        let shards = index["shards"] as! [[String: Any]]
        XCTAssertEqual(shards.map { $0["name"] as! String }, ["00000.tar", "00001.tar", "00002.tar"])
        XCTAssertEqual(shards.map { $0["count"] as! Int }, [3, 3, 1])
        for shard in shards {
            let path = root + "/" + (shard["name"] as! String)
            XCTAssertEqual(shard["sha256"] as? String, try sha256sum(path))
            XCTAssertEqual(shard["bytes"] as? Int, try readBytes(path).count)
            XCTAssertEqual(try runTool(["tar", "-tf", path]).stderr, "")
        }
    }

    func testKeysAreEscapedAndTheOriginalKept() throws {
        let writer = try WebDatasetWriter(directory: root)
        let keys = ["coco/COCO_val2014_000000042.jpg", "100% real", String(repeating: "long.", count: 40), "caf\u{E9}"]
        for (i, key) in keys.enumerated() { try writer.add(sample(i, key: key)) }
        try writer.finish()
        let entries = try parseTar(try readBytes(root + "/00000.tar"))
        let written = stride(from: 0, to: entries.count, by: 3).map { String(entries[$0].name.dropLast(4)) }
        XCTAssertEqual(written, keys.map(SampleKey.escape))
        for (i, key) in keys.enumerated() {
            XCTAssertFalse(written[i].contains(".") || written[i].contains("/"))
            XCTAssertEqual(SampleKey.unescape(written[i]), key)
            let record = try JSONSerialization.jsonObject(with: Data(entries[3 * i + 2].data)) as! [String: Any]
            XCTAssertEqual(record["key"] as? String, key)
        }
        XCTAssertEqual(try runTool(["tar", "-tf", root + "/00000.tar"]).stdout.split(separator: "\n").count, 12)
    }

    func testRejectedSamplesLeaveTheShardIntact() throws {
        let writer = try WebDatasetWriter(directory: root, options: WebDatasetOptions(keys: .reject, durable: false))
        try writer.add(sample(0))
        XCTAssertThrowsError(try writer.add(sample(1, key: "a.b"))) { XCTAssertEqual($0 as? ExportError, .invalidKey("a.b")) }
        XCTAssertThrowsError(try writer.add(sample(2, key: "000000"))) { XCTAssertEqual($0 as? ExportError, .duplicateKey("000000")) }
        XCTAssertThrowsError(try writer.add(ShardSample(key: "k", members: [.text("a/b", "x")])))
        XCTAssertThrowsError(try writer.add(ShardSample(key: "k", members: [.text("txt", "x"), .text("txt", "y")])))
        XCTAssertThrowsError(try writer.add(ShardSample(key: "k", members: [])))
        XCTAssertThrowsError(try writer.add(ShardSample(key: "k", members: [.file("jpg", path: root + "/missing.jpg")])))
        try writer.add(sample(3))
        try writer.finish()
        let entries = try parseTar(try readBytes(root + "/00000.tar"))
        XCTAssertEqual(entries.map(\.name), ["000000.jpg", "000000.txt", "000000.json", "000003.jpg", "000003.txt", "000003.json"])
        XCTAssertThrowsError(try writer.add(sample(4))) { XCTAssertEqual($0 as? ExportError, .closed("export to \(root!)")) }
    }

    func testFileMembersAreCopied() throws {
        let image = root + "/source.jpg"
        _ = FileManager.default.createFile(atPath: image, contents: Data(tinyJPEG("from a file")))
        let out = root + "/out"
        let writer = try WebDatasetWriter(directory: out)
        try writer.add(.capfilt(SampleMetadata(key: "f", source: "s", origin: "web", caption: "c"), image: .file(image)))
        try writer.finish()
        XCTAssertEqual(try parseTar(try readBytes(out + "/00000.tar"))[0].data, tinyJPEG("from a file"))
    }

    func testMaxShardBytes() throws {
        let options = WebDatasetOptions(maxShardBytes: 3 * 2048 + 1024, durable: false)
        let writer = try WebDatasetWriter(directory: root, options: options)
        for i in 0..<5 {
            try writer.add(ShardSample(key: String(format: "%06d", i), members: [.bytes("bin", [UInt8](repeating: 1, count: 1500))]))
        }
        let summary = try writer.finish()
        XCTAssertEqual(summary.shards.map(\.count), [3, 2])
        XCTAssertEqual(summary.shards.map(\.bytes), [3 * 2048 + 1024, 2 * 2048 + 1024])

        // A sample larger than the limit still gets written, alone.
        let big = root + "/big"
        let small = try WebDatasetWriter(directory: big, options: WebDatasetOptions(maxShardBytes: 1000, durable: false))
        for i in 0..<2 { try small.add(ShardSample(key: "k\(i)", members: [.bytes("bin", [UInt8](repeating: 2, count: 4000))])) }
        XCTAssertEqual(try small.finish().shards.map(\.count), [1, 1])
    }

    func testSameSamplesGiveByteIdenticalExports() throws {
        let options = WebDatasetOptions(samplesPerShard: 4, naming: ShardNaming(prefix: "coco-"))
        for run in ["a", "b"] {
            let writer = try WebDatasetWriter(directory: root + "/" + run, options: options)
            for i in 0..<10 { try writer.add(sample(i, key: i == 5 ? "odd/key.\(i)" : nil)) }
            try writer.finish()
        }
        let names = try directoryListing(root + "/a")
        XCTAssertEqual(names, try directoryListing(root + "/b"))
        XCTAssertEqual(names.filter { $0.hasSuffix(".tar") }, ["coco-00000.tar", "coco-00001.tar", "coco-00002.tar"])
        for name in names { XCTAssertEqual(try readBytes(root + "/a/" + name), try readBytes(root + "/b/" + name), name) }
        XCTAssertEqual(try jsonObject(root + "/a/shards.json")["urls"] as? String, "coco-{00000..00002}.tar")
    }

    func testAKilledExportLeavesOnlyPartialsAndTheNextOneCleansUp() throws {
        // An earlier, complete export of four shards.
        do {
            let writer = try WebDatasetWriter(directory: root, options: WebDatasetOptions(samplesPerShard: 2))
            for i in 0..<8 { try writer.add(sample(i)) }
            try writer.finish()
        }
        // A new export dropped half way through its second shard, as a kill would leave it.
        do {
            let writer = try WebDatasetWriter(directory: root, options: WebDatasetOptions(samplesPerShard: 3))
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/shards.json"), "the old index goes first")
            for i in 100..<104 { try writer.add(sample(i)) }
        }
        var names = try directoryListing(root)
        XCTAssertTrue(names.contains(".00001.tar.partial"))
        XCTAssertFalse(names.contains("shards.json"))
        // Every tar under a final name is whole: the new 00000 and the old 00001...00003.
        for name in names where name.hasSuffix(".tar") {
            XCTAssertNoThrow(try parseTar(try readBytes(root + "/" + name)), name)
        }
        XCTAssertThrowsError(try parseTar(try readBytes(root + "/.00001.tar.partial")))
        XCTAssertEqual(try parseTar(try readBytes(root + "/00001.tar")).first?.name, "000002.jpg", "the old shard 1 is untouched")

        // The next export removes the leftover at once, and the stale shards when it finishes.
        let writer = try WebDatasetWriter(directory: root, options: WebDatasetOptions(samplesPerShard: 3))
        XCTAssertFalse(try directoryListing(root).contains { $0.hasSuffix(".partial") })
        for i in 200..<204 { try writer.add(sample(i)) }
        try writer.finish()
        names = try directoryListing(root)
        XCTAssertEqual(names, ["00000.tar", "00000_stats.json", "00001.tar", "00001_stats.json", "shards.json"])
        XCTAssertEqual(try parseTar(try readBytes(root + "/00001.tar")).first?.name, "000203.jpg")
    }

    func testDiscardRemovesTheOpenShardOnly() throws {
        _ = FileManager.default.createFile(atPath: root + "/unrelated.partial", contents: Data())
        _ = FileManager.default.createFile(atPath: root + "/.other.tar.partial", contents: Data())
        let writer = try WebDatasetWriter(directory: root, options: WebDatasetOptions(samplesPerShard: 1))
        try writer.add(sample(0))
        try writer.add(sample(1))
        writer.discard()
        XCTAssertEqual(try directoryListing(root), [".other.tar.partial", "00000.tar", "00000_stats.json", "unrelated.partial"])
        XCTAssertThrowsError(try writer.finish())
    }

    func testOptionsAreChecked() {
        XCTAssertThrowsError(try WebDatasetWriter(directory: root, options: WebDatasetOptions(samplesPerShard: 0)))
        XCTAssertThrowsError(try WebDatasetWriter(directory: root, options: WebDatasetOptions(naming: ShardNaming(prefix: "a/b"))))
        XCTAssertThrowsError(try WebDatasetWriter(directory: root, options: WebDatasetOptions(naming: ShardNaming(digits: 0))))
        XCTAssertThrowsError(try WebDatasetWriter(directory: root, options: WebDatasetOptions(indexName: "00001.tar")))
        let writer = try? WebDatasetWriter(directory: root, options: WebDatasetOptions(
            samplesPerShard: 1, naming: ShardNaming(digits: 1), firstShardIndex: 9, durable: false))
        XCTAssertNoThrow(try writer?.add(sample(0)))
        XCTAssertThrowsError(try writer?.add(sample(1))) { XCTAssertEqual($0 as? ExportError, .tooManyShards(limit: 10)) }
    }
}
