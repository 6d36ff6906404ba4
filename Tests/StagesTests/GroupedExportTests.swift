import Basics
import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import Training
import XCTest

/// `group_by_image`: the same assembled set, one sample per image instead of one per pair.
final class GroupedExportTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("grouped")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    private func run(grouped: Bool) throws -> PipelineRunner {
        var yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"))
        if grouped { yaml = yaml.replacingOccurrences(of: "samples_per_shard: 10", with: "samples_per_shard: 10\n    group_by_image: true") }
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let runner = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        _ = try runner.run(RunOptions())
        return runner
    }

    private struct Export {
        var pairs: [String]          // "caption|image bytes", sorted: what a training loader sees
        var samples: [[String: Any]] // the KEY.json records
        var tarBytes: Int
        var pretrain: [[String: Any]]
    }

    private func readExport(_ r: PipelineRunner) throws -> Export {
        let shardFolder = URL(fileURLWithPath: r.workspace.exportFolder + "/webdataset")
        let shards = try webDatasetShards(at: shardFolder)
        let (pairs, skipped) = try TrainingPair.webDataset(shards: shards)
        XCTAssertEqual(skipped, 0)
        var texts: [String] = []
        for p in pairs {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: p.imagePath))[p.imageBytes!]
            texts.append(p.caption + "|" + bytes.base64EncodedString())
        }
        var samples: [[String: Any]] = []
        var tarBytes = 0
        for shard in shards {
            tarBytes += try Data(contentsOf: shard).count
            let reader = try TarReader(path: shard.path)
            while let m = try reader.nextMember() {
                guard m.name.hasSuffix(".json") else { continue }
                samples.append(try JSONSerialization.jsonObject(with: Data(reader.read(m)!)) as! [String: Any])
            }
        }
        let pretrain = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: r.workspace.exportFolder + "/blip_pretrain.json"))) as! [[String: Any]]
        return Export(pairs: texts.sorted(), samples: samples, tarBytes: tarBytes, pretrain: pretrain)
    }

    func testGroupedExportHoldsThePairsOfThePairwiseOneWithEachImageOnce() throws {
        let pairwise = try readExport(try run(grouped: false))
        let r = try run(grouped: true)
        let grouped = try readExport(r)

        let catalog = try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let assembled = try catalog.read { try $0.assembledSamples() }
        XCTAssertGreaterThan(assembled.filter { $0.texts.count > 1 }.count, 0, "the test needs images with several texts")

        // One sample per image, each listing that image's texts; .txt-only readers get the first.
        XCTAssertEqual(grouped.samples.count, assembled.count)
        XCTAssertEqual(pairwise.samples.count, assembled.reduce(0) { $0 + $1.texts.count })
        for (record, sample) in zip(grouped.samples, assembled) {
            let texts = try XCTUnwrap(record["texts"] as? [[String: Any]])
            XCTAssertEqual(texts.map { $0["caption"] as? String }, sample.texts.map(\.text))
            XCTAssertEqual(texts.map { $0["origin"] as? String }, sample.texts.map(\.origin.rawValue))
            XCTAssertEqual(record["caption"] as? String, sample.texts.first?.text)
            XCTAssertEqual(record["key"] as? String, "\(sample.sample.source)/\(sample.sample.key)")
        }
        // The training reader sees exactly the same (caption, image) pairs from either layout.
        XCTAssertEqual(grouped.pairs, pairwise.pairs)
        XCTAssertLessThan(grouped.tarBytes, pairwise.tarBytes)

        // BLIP's pretrain json: one entry per image, a caption list where there are several.
        XCTAssertEqual(grouped.pretrain.count, assembled.count)
        let flattened = grouped.pretrain.flatMap { ($0["caption"] as? [String]) ?? [$0["caption"] as! String] }
        XCTAssertEqual(flattened.sorted(), pairwise.pretrain.map { $0["caption"] as! String }.sorted())
        XCTAssertEqual(try StageTrainingData.exportPairs(path: r.workspace.exportFolder + "/blip_pretrain.json").count,
                       pairwise.pretrain.count)
        // `make interop-pipeline` reads this export back with the webdataset package.
        if let keep = ProcessInfo.processInfo.environment["CAPFILT_GROUPED_EXPORT_DIR"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: r.workspace.exportFolder, toPath: keep)
        }
    }
}
