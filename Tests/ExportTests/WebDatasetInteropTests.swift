import Foundation
import XCTest
@testable import Export
import Basics

/// Writes a sample export for `scripts/check_webdataset.py`, which reads it with the
/// `webdataset` Python package (`make interop-export`). Runs only when
/// CAPFILT_EXPORT_SAMPLE_DIR names the folder to write to.
final class WebDatasetInteropTests: XCTestCase {
    func testWriteSampleExport() throws {
        guard let folder = ProcessInfo.processInfo.environment["CAPFILT_EXPORT_SAMPLE_DIR"], !folder.isEmpty else {
            throw XCTSkip("set CAPFILT_EXPORT_SAMPLE_DIR to write the sample export")
        }
        let shardFolder = folder + "/shards"
        let keys = [
            "000000001", "coco/COCO_val2014_000000000042.jpg", "cc3m 17", "100%", "caf\u{E9}/\u{1F600}",
            "https://example.com/a.b/c.jpg?w=1&h=2", String(repeating: "very-long-key.", count: 12), "laion_000123",
            "a.b.c", "__dunder__", "x",
        ]
        let captions = [
            "a dog on a beach", "two \"quoted\" words and a \\ backslash", "line one\nline two\ttabbed",
            "caf\u{E9} cr\u{E8}me br\u{FB}l\u{E9}e \u{1F370}", "control \u{1}\u{1F} chars", "  spaces around  ",
            "\u{4E00}\u{53EA}\u{72D7}", "plain", "dots... everywhere.", "unicode \u{2028} separator", "last one",
        ]
        let writer = try WebDatasetWriter(directory: shardFolder, options: WebDatasetOptions(samplesPerShard: 4))
        var expected: [JSONValue] = []
        for (i, key) in keys.enumerated() {
            let image = tinyJPEG("interop sample \(i)")
            let metadata = SampleMetadata(
                key: key, source: ["coco", "cc3m", "laion"][i % 3], origin: i % 2 == 0 ? "web" : "synthetic",
                caption: captions[i], url: "https://example.com/\(i).jpg", sha256: SHA256.hex(image),
                width: 16, height: 16, scores: ["itm": Double(i) / 7, "itc": 0.1 * Double(i)],
                metadata: ["row": .int(i), "license": "cc-by"])
            var sample = ShardSample.capfilt(metadata, image: .bytes(image))
            if i % 4 == 1 { sample.members.append(.text("cls", String(i % 3))) }
            let location = try writer.add(sample)
            expected.append(.object([
                "key": .string(location.key),
                "original_key": .string(key),
                "shard": .string(location.shard),
                "members": .array(sample.members.map { .string($0.name) }),
                "txt": .string(captions[i]),
                "jpg_sha256": .string(SHA256.hex(image)),
                "json": metadata.json,
                "cls": i % 4 == 1 ? .int(i % 3) : .null,
            ]))
        }
        let summary = try writer.finish()

        let pretrain = try BLIPPretrainWriter(path: folder + "/blip_pretrain.json")
        let released = try BLIPReleasedWriter(path: folder + "/blip_released.json")
        for (i, caption) in captions.enumerated() {
            try pretrain.append(image: "images/\(i).jpg", caption: caption)
            try released.append(url: "https://example.com/\(i).jpg", caption: caption)
        }
        try pretrain.finish()
        try released.finish()

        let expectations: JSONValue = [
            "shards_dir": "shards",
            "shards": .array(summary.shards.map { .string($0.name) }),
            "index": "shards.json",
            "samples": .array(expected),
            "blip_pretrain": .object([
                "path": "blip_pretrain.json",
                "records": .array(captions.indices.map { ["image": .string("images/\($0).jpg"), "caption": .string(captions[$0])] }),
            ]),
            "blip_released": .object([
                "path": "blip_released.json",
                "records": .array(captions.indices.map { ["url": .string("https://example.com/\($0).jpg"), "caption": .string(captions[$0])] }),
            ]),
        ]
        try Data(DeterministicJSON(indent: 2).encodeBytes(expectations) + [0x0A])
            .write(to: URL(fileURLWithPath: folder + "/expectations.json"), options: .atomic)
        XCTAssertEqual(summary.shards.count, 3)
    }
}
