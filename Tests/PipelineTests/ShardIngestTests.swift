import Catalog
import DemoData
import Foundation
import Pipeline
import TestFixtures
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// img2dataset shards as a pipeline's source: the whole CapFilt pass to export without the
/// network, and kill -9 during the shard ingest losing and duplicating nothing.
final class ShardIngestTests: XCTestCase {
    /// Shards in img2dataset's layout, shard 2 of `shards` cut in the middle of its tar.
    func writeShards(_ folder: URL, shards: Int, samples: Int) throws -> String {
        let path = folder.appendingPathComponent("shards").path
        _ = try Img2DatasetShards.write(to: path, options: .init(shards: shards, samplesPerShard: samples, failureEvery: 8))
        let cut = path + "/00002.tar"
        let size = try FileManager.default.attributesOfItem(atPath: cut)[.size] as! Int
        XCTAssertEqual(truncate(cut, off_t(size / 2 + 100)), 0)
        return path
    }

    func pipeline(_ folder: URL, shards: String, last: Int, work: URL, models: Bool) throws -> String {
        var yaml = """
            dataset: shards-test
            workdir: \(work.path)
            shards: 1
            threads: 1
            stages:
              ingest:
                manifests:
                  - {path: \(shards), format: img2dataset, shards: "{00000..\(String(format: "%05d", last))}.tar", source: laion}
                batch_size: 16
              fetch:
                needs: [ingest]
                fsync: false
              decode:
                needs: [fetch]
                resize: 24

            """
        if models {
            yaml += """
                  caption:
                    needs: [decode]
                    model: \(TestDataset.models.appendingPathComponent("captioner").path)
                    batch_size: 4
                    strategy: greedy
                    max_length: 12
                    min_length: 4
                  filter:
                    needs: [caption]
                    model: \(TestDataset.models.appendingPathComponent("itm").path)
                    batch_size: 4
                    threshold: 0.5
                  dedup:
                    needs: [decode, caption]
                    radius: 6
                  assemble:
                    needs: [filter, dedup]
                  export:
                    needs: [assemble]
                    samples_per_shard: 50
                    fsync: false

                """
        }
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testShardsToExportWithoutTheNetwork() throws {
        let folder = temporaryFolder("shards-pipeline")
        defer { try? FileManager.default.removeItem(at: folder) }
        let shards = try writeShards(folder, shards: 4, samples: 30)
        let work = folder.appendingPathComponent("work")
        let pipeline = try pipeline(folder, shards: shards, last: 3, work: work, models: true)
        let run = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(run.status, 0, run.stderr)

        let catalog = try Catalog(path: work.appendingPathComponent("shards/00000-of-00001/catalog.sqlite").path)
        let fetches = try catalog.read { try $0.latestFetches() }
        let statuses = Dictionary(grouping: fetches, by: \.status).mapValues(\.count)
        // Members were read from the shards; failed rows carry the shard maker's failure. No
        // transfer was made: nothing is `ok`, nothing has an HTTP code.
        XCTAssertGreaterThan(statuses[.local] ?? 0, 60, "\(statuses)")
        XCTAssertNil(statuses[.ok])
        XCTAssertTrue(fetches.allSatisfy { $0.httpCode == 0 && $0.attempts <= 1 })
        // Every other sample is a sidecar row: a failed download, or one that the cut shard lost.
        let others = fetches.filter { $0.status != .local }
        XCTAssertTrue(others.allSatisfy { $0.error?.hasPrefix("failed_to_download: ") ?? false || $0.status.rawValue == "io_error" }, "\(others)")
        XCTAssertGreaterThan(others.filter { $0.status.rawValue == "io_error" }.count, 0)
        XCTAssertEqual(fetches.count, 120)
        XCTAssertEqual(try catalog.read { try $0.problems() }.filter { $0.reason == "truncated tar member" }.count, 1)
        let exported = try exportedFiles(work)
        XCTAssertTrue(exported.keys.contains { $0.hasSuffix(".tar") }, "\(exported.keys.sorted())")
        // Captions were written for the shard images and judged with their web texts.
        let dump = try catalog.read { try $0.canonicalDump() }
        XCTAssertTrue(dump.contains("|synthetic|") || dump.contains("synthetic"), "no synthetic caption")
        XCTAssertTrue(run.stderr.contains("filter: "), run.stderr)
    }

    func testKillNineDuringShardIngestThenResumeLosesAndDuplicatesNothing() throws {
        let folder = temporaryFolder("shards-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let shards = try writeShards(folder, shards: 6, samples: 300)
        let work = folder.appendingPathComponent("work")
        let pipeline = try pipeline(folder, shards: shards, last: 5, work: work, models: false)

        let reference = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try RunSnapshot(work)
        // How long the ingest took, to aim the kills inside it.
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/last-run.json")))
        let duration = max(summary.stages.filter { $0.stage == "ingest" }.map(\.seconds).reduce(0, +), 0.001)
        try FileManager.default.removeItem(at: work)

        var rng = SplitMix(seed: 20261207)
        var inside = 0
        for _ in 0..<20 where inside < 5 {
            let process = try CapfiltProcess(["run", "--plain", pipeline])
            guard process.waitFor(["ingest: started", "ingest: up to date"], timeout: 60) == "ingest: started" else {
                _ = process.kill()
                break
            }
            // The ingest keeps what it stored, so several kills fit in one duration.
            usleep(useconds_t(Double(rng.next() % 1000) / 1000 * duration / 4 * 1_000_000))
            guard process.kill() else { continue }
            if process.runningStage() == "ingest" { inside += 1 }
        }
        XCTAssertGreaterThanOrEqual(inside, 3, "too few kills landed inside the ingest")
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        try RunSnapshot(work).assertSame(as: expected)

        // Every sidecar row is a sample, exactly once; the cut shard's lost members say so.
        let catalog = try Catalog(path: work.appendingPathComponent("shards/00000-of-00001/catalog.sqlite").path)
        let samples = try catalog.read { session in try (1...5000).compactMap { try session.sample(id: Int64($0)) } }
        XCTAssertEqual(Set(samples.map(\.key)).count, samples.count)
        for shard in 0..<6 {
            XCTAssertEqual(samples.filter { $0.key.hasPrefix(String(format: "%05d/", shard)) }.count, 300, "shard \(shard)")
        }
        let lost = samples.filter { $0.sourceFailure?.hasPrefix("missing_from_shard") ?? false }
        XCTAssertGreaterThan(lost.count, 50)
        XCTAssertTrue(lost.allSatisfy { $0.key.hasPrefix("00002/") })
    }
}
