import Foundation
import XCTest
@testable import Export

/// Incremental exports: what a reader of the newest index sees equals a full rebuild of the same
/// samples, sample by sample and byte by byte, while only new and changed samples are written.
final class WebDatasetUpdateTests: XCTestCase {
    private var root: String!

    override func setUp() { root = scratchDirectory("update") }
    override func tearDown() { if let root { try? FileManager.default.removeItem(atPath: root) } }

    /// A dataset: key -> caption; every sample has an image file of its own.
    private func samples(_ captions: [(String, String)]) throws -> [ShardSample] {
        try captions.map { key, caption in
            let image = root + "/images/\(key).jpg"
            if !FileManager.default.fileExists(atPath: image) {
                try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
                try Data(tinyJPEG(key)).write(to: URL(fileURLWithPath: image))
            }
            return ShardSample.capfilt(SampleMetadata(key: "web/\(key)", source: "web", origin: "web", caption: caption),
                                       image: .file(image))
        }
    }

    private var options: WebDatasetOptions {
        var o = WebDatasetOptions(samplesPerShard: 4)
        o.durable = false
        return o
    }

    @discardableResult
    private func update(_ folder: String, _ dataset: [ShardSample], compactAbove: Double = 0.25) throws -> WebDatasetUpdate.Outcome {
        let u = try WebDatasetUpdate(directory: folder, options: options, policy: .init(compactAbove: compactAbove))
        for s in dataset { try u.observe(s) }
        for s in dataset { try u.write(s) }
        return try u.finish()
    }

    /// What a reader of the index gets: every listed shard's members, less the excluded keys,
    /// as key -> [member name: bytes].
    private func readIndex(_ folder: String) throws -> [String: [String: [UInt8]]] {
        let index = try JSONSerialization.jsonObject(with: Data(readBytes(folder + "/shards.json"))) as! [String: Any]
        var out: [String: [String: [UInt8]]] = [:]
        for shard in index["shards"] as! [[String: Any]] {
            let excluded = Set(shard["excluded"] as? [String] ?? [])
            for entry in try parseTar(try readBytes(folder + "/" + (shard["name"] as! String))) {
                let dot = entry.name.firstIndex(of: ".")!
                let key = String(entry.name[..<dot])
                guard !excluded.contains(key) else { continue }
                XCTAssertNil(out[key]?[String(entry.name[entry.name.index(after: dot)...])], "\(key) seen twice")
                out[key, default: [:]][String(entry.name[entry.name.index(after: dot)...])] = entry.data
            }
        }
        XCTAssertEqual(out.count, index["samples"] as? Int)
        return out
    }

    private func rebuild(_ dataset: [ShardSample]) throws -> [String: [String: [UInt8]]] {
        let folder = root + "/rebuild-\(UUID().uuidString)"
        let writer = try WebDatasetWriter(directory: folder, options: options)
        for s in dataset { try writer.add(s) }
        try writer.finish()
        return try readIndex(folder)
    }

    func testAnUpdateWritesOnlyWhatChangedAndReadsAsARebuild() throws {
        let folder = root + "/out"
        var rows = (0..<12).map { ("k\($0)", "caption \($0)") }
        let first = try update(folder, try samples(rows))
        XCTAssertEqual(first.summary.generation, 1)
        XCTAssertEqual(first.written, 12)
        XCTAssertEqual(first.summary.shards.map(\.name), ["00000.tar", "00001.tar", "00002.tar"])
        let before = try directoryListing(folder).filter { $0.hasSuffix(".tar") }
        let tarBytes = try before.map { try readBytes(folder + "/" + $0) }

        // One removed, one changed, two added.
        rows.remove(at: 5)
        rows[0].1 = "a better caption"
        rows += [("new1", "fresh"), ("new2", "fresher")]
        let second = try update(folder, try samples(rows))
        XCTAssertEqual(second.summary.generation, 2)
        XCTAssertEqual(second.written, 3, "the changed sample and the two new ones")
        XCTAssertEqual(second.removed, 2, "the removed sample and the old version of the changed one")
        XCTAssertEqual(second.retiredShards, 0)
        XCTAssertEqual(second.summary.shards.map(\.name), ["00000.tar", "00001.tar", "00002.tar", "00003.tar"])
        XCTAssertEqual(second.summary.shards[0].excluded, ["web%2Fk0"])
        XCTAssertEqual(second.summary.shards[1].excluded, ["web%2Fk5"])
        XCTAssertEqual(second.summary.urls, "{00000..00003}.tar", "contiguous shards keep their brace pattern")
        // The old shards are untouched, byte for byte.
        XCTAssertEqual(try before.map { try readBytes(folder + "/" + $0) }, tarBytes)
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(rows)))
        XCTAssertLessThan(second.bytesWritten, tarBytes.reduce(0) { $0 + $1.count })

        // Nothing changed: no shard written, a new generation all the same.
        let third = try update(folder, try samples(rows))
        XCTAssertEqual(third.written, 0)
        XCTAssertEqual(third.removed, 0)
        XCTAssertEqual(third.summary.generation, 3)
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(rows)))
    }

    func testCompactionRetiresShardsAndKeepsThePreviousGenerationsFiles() throws {
        let folder = root + "/out"
        var rows = (0..<8).map { ("k\($0)", "caption \($0)") }
        try update(folder, try samples(rows))
        // Two of shard 0's four samples leave: 50% > 25%, so shard 0 is retired and its other two
        // samples are written again; shard 1 is kept.
        rows.removeAll { $0.0 == "k1" || $0.0 == "k2" }
        let second = try update(folder, try samples(rows))
        XCTAssertEqual(second.retiredShards, 1)
        XCTAssertEqual(second.written, 2)
        XCTAssertEqual(second.summary.shards.map(\.name), ["00001.tar", "00002.tar"])
        XCTAssertEqual(second.summary.urls, "{00001..00002}.tar")
        XCTAssertTrue(second.summary.shards.allSatisfy(\.excluded.isEmpty))
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(rows)))
        // Readers of generation 1 may still be reading 00000.tar: it stays until the next update.
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/00000.tar"))

        // compact_above 0: every shard with a removal is rewritten (a full compaction).
        rows.removeAll { $0.0 == "k7" }
        let third = try update(folder, try samples(rows), compactAbove: 0)
        XCTAssertEqual(third.summary.shards.map(\.excluded), [[], []])
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(rows)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/00000.tar"), "two generations old")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/00000_samples.tsv"))
    }

    /// A killed update (modelled by `discard` after some shards were finished) leaves the index
    /// and its shards as they were; the next update never reuses the orphans' numbers and removes
    /// them.
    func testAnAbandonedUpdateLeavesTheCurrentGenerationIntact() throws {
        let folder = root + "/out"
        let rows = (0..<8).map { ("k\($0)", "caption \($0)") }
        try update(folder, try samples(rows))
        let index = try readBytes(folder + "/shards.json")
        let bigger = rows + (0..<6).map { ("n\($0)", "new \($0)") }
        let abandoned = try WebDatasetUpdate(directory: folder, options: options)
        for s in try samples(bigger) { try abandoned.observe(s) }
        for s in try samples(bigger) { try abandoned.write(s) }
        abandoned.discard()
        XCTAssertEqual(try readBytes(folder + "/shards.json"), index)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/00002.tar"), "a finished orphan shard")
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(rows)))

        let next = try update(folder, try samples(bigger))
        XCTAssertEqual(next.summary.shards.map(\.name), ["00000.tar", "00001.tar", "00003.tar", "00004.tar"])
        XCTAssertNil(next.summary.urls, "a gap in the numbers: no brace pattern")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/00002.tar"))
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(bigger)))
    }

    /// An export without sample lists (or a damaged one) cannot be compared: everything is written.
    func testAnIndexWithoutSampleListsIsRewrittenWhole() throws {
        let folder = root + "/out"
        let rows = (0..<5).map { ("k\($0)", "caption \($0)") }
        let writer = try WebDatasetWriter(directory: folder, options: options)
        for s in try samples(rows) { try writer.add(s) }
        try writer.finish()
        let outcome = try update(folder, try samples(rows))
        XCTAssertEqual(outcome.written, 5)
        XCTAssertEqual(outcome.summary.generation, 1)
        XCTAssertEqual(try readIndex(folder), try rebuild(try samples(rows)))
        XCTAssertEqual(try directoryListing(folder).filter { $0.hasSuffix(".tar") }, ["00002.tar", "00003.tar"])
    }

    func testTheDigestFollowsContentAndNames() throws {
        let a = ShardSample(key: "x", members: [.text("txt", "one")])
        XCTAssertEqual(try a.contentDigest(), try ShardSample(key: "other key", members: [.text("txt", "one")]).contentDigest())
        XCTAssertNotEqual(try a.contentDigest(), try ShardSample(key: "x", members: [.text("txt", "two")]).contentDigest())
        XCTAssertNotEqual(try a.contentDigest(), try ShardSample(key: "x", members: [.text("cls", "one")]).contentDigest())
        XCTAssertEqual(try a.contentDigest().count, 32)
    }
}
