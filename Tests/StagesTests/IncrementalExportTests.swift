import Basics
import Catalog
import Foundation
import Ingest
import Pipeline
@testable import Stages
import TestFixtures
import Training
import XCTest

/// `mode: incremental` in a pipeline: after the filter's decisions change, the newest index of
/// the updated export reads as exactly the samples of a rebuild, while the shards that did not
/// change stay as they were.
final class IncrementalExportTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("incremental")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    private func run(threshold: Double, mode: String, compactAbove: Double = 0.25) throws -> PipelineRunner {
        let yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"), threshold: threshold)
            .replacingOccurrences(of: "samples_per_shard: 10", with: "samples_per_shard: 10\n    mode: \(mode)\n    compact_above: \(compactAbove)")
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let runner = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        _ = try runner.run(RunOptions())
        return runner
    }

    /// key -> member -> bytes, as a reader of shards.json that applies its exclusions sees them.
    private func readerView(_ r: PipelineRunner) throws -> [String: [String: [UInt8]]] {
        let shardFolder = r.workspace.exportFolder + "/webdataset"
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: shardFolder + "/shards.json"))) as! [String: Any]
        var view: [String: [String: [UInt8]]] = [:]
        for shard in index["shards"] as! [[String: Any]] {
            let excluded = Set(shard["excluded"] as? [String] ?? [])
            let reader = try TarReader(path: shardFolder + "/" + (shard["name"] as! String))
            while let m = try reader.nextMember() {
                let (key, ext) = WebDatasetKey.split(m.name)
                if !excluded.contains(key) { view[key, default: [:]][ext] = reader.read(m)! }
            }
        }
        XCTAssertEqual(view.count, index["samples"] as? Int)
        return view
    }

    private func tarBytes(_ r: PipelineRunner) throws -> [String: Data] {
        let shardFolder = r.workspace.exportFolder + "/webdataset"
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: shardFolder) where name.hasSuffix(".tar") {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: shardFolder + "/" + name))
        }
        return out
    }

    func testAnUpdatedExportReadsAsARebuild() throws {
        let first = try run(threshold: 0.45, mode: "incremental")
        let firstView = try readerView(first)
        let firstTars = try tarBytes(first)
        XCTAssertGreaterThan(firstView.count, 10)

        // A stricter threshold drops texts (and rewrites the reason of every kept one, which names
        // the threshold): export runs again as an update.
        let second = try run(threshold: 0.5, mode: "incremental", compactAbove: 1)
        let updated = try readerView(second)
        // `make interop-pipeline` reads this updated export back with the webdataset package.
        if let keep = ProcessInfo.processInfo.environment["CAPFILT_INCREMENTAL_EXPORT_DIR"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: second.workspace.exportFolder, toPath: keep)
        }
        XCTAssertLessThan(updated.count, firstView.count, "the test needs the threshold to drop something")
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: second.workspace.exportFolder + "/webdataset/shards.json"))) as! [String: Any]
        XCTAssertEqual(index["generation"] as? Int, 2)
        // The first generation's shards are still there, byte for byte (compact_above 1 retires none).
        let secondTars = try tarBytes(second)
        for (name, bytes) in firstTars { XCTAssertEqual(secondTars[name], bytes, name) }
        XCTAssertGreaterThan(secondTars.count, firstTars.count)

        // The same catalog exported whole.
        let rebuilt = try run(threshold: 0.5, mode: "rebuild")
        XCTAssertEqual(updated, try readerView(rebuilt))
    }
}
