import Basics
import Catalog
import Foundation
import Ingest
import Pipeline
@testable import Stages
import TestFixtures
import Training
import XCTest

/// The export's Parquet files: a sidecar beside every shard whose rows are the shard's samples,
/// and the `datasets` image layout. `make interop-export` reads the same export with pyarrow,
/// `datasets` and DuckDB (scripts/check_parquet_export.py).
final class ParquetExportTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("parquet-export")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func testSidecarsHoldTheShardsSamplesAndTheDatasetsLayoutEveryPair() throws {
        let yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"))
            .replacingOccurrences(of: "samples_per_shard: 10", with: "samples_per_shard: 10\n    parquet: true")
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let r = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        _ = try r.run(RunOptions())

        let shardFolder = r.workspace.exportFolder + "/webdataset"
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: shardFolder + "/shards.json"))) as! [String: Any]
        var total = 0
        for shard in index["shards"] as! [[String: Any]] {
            // The tar's samples: key -> (caption, sha256 in its json).
            var tarSamples: [String: (String, String)] = [:]
            var captions: [String: String] = [:]
            let reader = try TarReader(path: shardFolder + "/" + (shard["name"] as! String))
            while let m = try reader.nextMember() {
                let (key, ext) = WebDatasetKey.split(m.name)
                if ext == "txt" { captions[key] = String(decoding: reader.read(m)!, as: UTF8.self) }
                if ext == "json" {
                    let meta = try JSONSerialization.jsonObject(with: Data(reader.read(m)!)) as! [String: Any]
                    tarSamples[key] = (captions[key] ?? "", meta["sha256"] as? String ?? "")
                }
            }
            // The sidecar's rows, read with the project's Parquet reader.
            let sidecar = try ParquetFile(path: shardFolder + "/" + (shard["parquet"] as! String))
            let names = sidecar.columns.map(\.name)
            XCTAssertEqual(Array(names.prefix(4)), ["key", "source", "caption", "origin"])
            var rows = sidecar.rows(columns: Array(names.indices))
            var sidecarSamples: [String: (String, String)] = [:]
            while let row = try rows.next() {
                sidecarSamples[row[0].text!] = (row[names.firstIndex(of: "caption")!].text!, row[names.firstIndex(of: "sha256")!].text ?? "")
            }
            XCTAssertEqual(sidecarSamples.count, tarSamples.count)
            for (key, value) in tarSamples {
                XCTAssertEqual(sidecarSamples[key]?.0, value.0, key)
                XCTAssertEqual(sidecarSamples[key]?.1, value.1, key)
            }
            total += tarSamples.count
        }
        XCTAssertEqual(total, index["samples"] as? Int)

        // The datasets layout: every pair once (flat columns here; images by interop-export).
        let parquetFolder = r.workspace.exportFolder + "/parquet"
        var rowsInFiles = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: parquetFolder).sorted() {
            let file = try ParquetFile(path: parquetFolder + "/" + name)
            XCTAssertEqual(file.skippedColumns, ["image.bytes", "image.path"], "the image struct is nested")
            rowsInFiles += file.rowCount
        }
        XCTAssertEqual(rowsInFiles, total)

        if let keep = ProcessInfo.processInfo.environment["CAPFILT_PARQUET_EXPORT_DIR"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: r.workspace.exportFolder, toPath: keep)
        }
    }
}
