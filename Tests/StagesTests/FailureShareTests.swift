import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// A per-sample stage that fails more than `max_failure_share` of a source stops the run, naming
/// the stage, the source, the status and a sample, before any stage downstream runs.
final class FailureShareTests: XCTestCase {
    var folder: URL!

    override func tearDown() { if let folder { try? FileManager.default.removeItem(at: folder) } }

    /// Runs ingest, then fetch alone; what fetch did.
    func ingestAndFetch(_ r: PipelineRunner) throws -> StageRunRecord? {
        _ = try r.run(RunOptions(only: "ingest"))
        return try r.run(RunOptions(only: "fetch")).stages.first { $0.stage == "fetch" }
    }

    /// The test dataset with `human` human images, all of them gone (the unreadable COCO
    /// folder, as root sees it too): every sample of the `people` source fails at fetch.
    func datasetWithoutHumanImages(human: Int) throws -> TestDataset {
        folder = temporaryFolder("failure-share")
        let dataset = try TestDataset(folder: folder, distinct: 6, human: human)
        for i in dataset.distinct..<(dataset.distinct + human) {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(String(format: "images/img-%03d.jpg", i)))
        }
        return dataset
    }

    func runner(_ dataset: TestDataset, edit: (String) -> String = { $0 }) throws -> PipelineRunner {
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try edit(dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"), captionStrategy: "greedy"))
            .write(toFile: path, atomically: true, encoding: .utf8)
        return PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
    }

    /// Fails on the old code: the run ended normally, with the `people` source gone.
    func testALostSourceStopsTheRunBeforeDownstreamStages() throws {
        let r = try runner(try datasetWithoutHumanImages(human: 24))
        do {
            _ = try r.run(RunOptions())
            XCTFail("the run went on without the human source")
        } catch let e as FailureShareExceeded {
            XCTAssertEqual(e.stage, "fetch")
            XCTAssertEqual(e.source, "people")
            XCTAssertEqual(e.failed, 24)
            XCTAssertEqual(e.total, 24)
            XCTAssertEqual(e.statusCount, 24)
            XCTAssertNotEqual(e.status, .ok)
            XCTAssertEqual(e.sampleKey, "images/img-006.jpg", "the first sample of the source")
            let text = e.description
            XCTAssertFalse(text.contains("\n"), text)
            for part in ["stage `fetch`", "24 of 24 samples of source `people` failed", "max_failure_share 0.5",
                         "`\(e.status)` (24)", "sample `images/img-006.jpg`", "capfilt retry --status \(e.status) --stage fetch"] {
                XCTAssertTrue(text.contains(part), "\(part) in: \(text)")
            }
        }
        let status = try r.status()
        let byName = Dictionary(uniqueKeysWithValues: status.stages.map { ($0.name, $0) })
        XCTAssertEqual(byName["decode"]?.done, 0, "nothing downstream of fetch ran")
        XCTAssertFalse(FileManager.default.fileExists(atPath: r.workspace.exportFolder + "/blip_pretrain.json"))

        // Resuming does not hide the loss: fetch is up to date, and the run still stops there.
        XCTAssertThrowsError(try r.run(RunOptions())) { XCTAssertTrue($0 is FailureShareExceeded, "\($0)") }
    }

    /// A stage's own `max_failure_share` overrides the pipeline's (here: accepting the loss).
    func testAStageMayAllowMore() throws {
        let dataset = try datasetWithoutHumanImages(human: 24)
        let r = try runner(dataset) { $0.replacingOccurrences(of: "    fsync: false\n  decode:", with: "    fsync: false\n    max_failure_share: 1\n  decode:") }
        XCTAssertEqual(r.pipeline.stage("fetch")?.parameters[FailureShareKeys.maxFailureShare], 1)
        XCTAssertEqual(try ingestAndFetch(r)?.failed, 24 + 2, "the human images, the planted random bytes and missing file")
    }

    /// So does the pipeline-level setting, for every stage.
    func testThePipelineLevelShareApplies() throws {
        let dataset = try datasetWithoutHumanImages(human: 24)
        let r = try runner(dataset) { $0.replacingOccurrences(of: "threads: 1\n", with: "threads: 1\nmax_failure_share: 1\n") }
        XCTAssertEqual(r.pipeline.failureLimit.maxShare, 1)
        XCTAssertEqual(try ingestAndFetch(r)?.failed, 24 + 2, "the human images, the planted random bytes and missing file")
    }

    /// Fewer samples than `failure_share_min_samples` are not judged: the small test datasets
    /// with planted bad files keep running.
    func testASmallSourceIsNotJudged() throws {
        let r = try runner(try datasetWithoutHumanImages(human: 6))
        XCTAssertEqual(try ingestAndFetch(r)?.failed, 6 + 2, "the human images, the planted random bytes and missing file")
        let lowered = try runner(try datasetWithoutHumanImages(human: 6)) {
            $0.replacingOccurrences(of: "threads: 1\n", with: "threads: 1\nfailure_share_min_samples: 5\n")
        }
        XCTAssertThrowsError(try ingestAndFetch(lowered)) { XCTAssertTrue($0 is FailureShareExceeded, "\($0)") }
    }

    func testTheRule() {
        func outcome(_ source: String, _ status: String, _ n: Int, _ key: String = "k") -> SourceOutcome {
            SourceOutcome(source: source, status: SampleStatus(rawValue: status), count: n, exampleKey: key, exampleReason: nil)
        }
        let limit = FailureLimit(maxShare: 0.5, minSamples: 20)
        // Exactly half failed: allowed (the limit is the largest share that may fail).
        XCTAssertNil(FailureShareExceeded.check(stage: "s", shard: nil, outcomes: [outcome("a", "ok", 10), outcome("a", "x", 10)], limit: limit))
        // More than half, but too few samples to judge.
        XCTAssertNil(FailureShareExceeded.check(stage: "s", shard: nil, outcomes: [outcome("a", "ok", 1), outcome("a", "x", 18)], limit: limit))
        // Sources are judged apart: a healthy big source does not hide a lost one.
        let e = FailureShareExceeded.check(stage: "s", shard: "1/4", outcomes: [
            outcome("a", "ok", 1000), outcome("b", "ok", 5), outcome("b", "timeout", 7, "t1"), outcome("b", "http_404", 9, "n1"),
        ], limit: limit)
        XCTAssertEqual(e?.source, "b")
        XCTAssertEqual(e?.failed, 16)
        XCTAssertEqual(e?.total, 21)
        XCTAssertEqual(e?.status.rawValue, "http_404", "the most frequent failure")
        XCTAssertEqual(e?.sampleKey, "n1")
        XCTAssertTrue(e?.description.hasPrefix("stage `s` [1/4]: 16 of 21 samples of source `b` failed (76%") ?? false, "\(String(describing: e))")
    }
}
