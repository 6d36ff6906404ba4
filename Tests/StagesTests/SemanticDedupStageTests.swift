import Basics
import Catalog
import Foundation
import Imaging
import Pipeline
import SemanticDedup
@testable import Stages
import TestFixtures
import XCTest

/// `semantic: true` in the dedup stage: SemDeDup over the embeddings the filter kept.
final class SemanticDedupStageTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("semantic")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    private func run(_ dedup: String, shards: Int = 1) throws -> PipelineRunner {
        let yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"), shards: shards)
            .replacingOccurrences(of: "    needs: [decode, caption]\n    radius: 6", with: "    needs: [decode, caption, filter]\n    radius: 6\n" + dedup)
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let runner = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        _ = try runner.run(RunOptions())
        return runner
    }

    /// One cluster and epsilon 2 (any cosine above -1): every embedded sample that is no other
    /// kind of duplicate falls to the one with the highest ITM; epsilon 0 drops none.
    func testSemanticDuplicatesKeepTheBestByITM() throws {
        let r = try run("    semantic: true\n    clusters: 1\n    epsilon: 2")
        let catalog = try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let duplicates = try catalog.read { try $0.duplicates() }
        let semantic = duplicates.filter { $0.kind == "semantic" }
        let others = Set(duplicates.filter { $0.kind != "semantic" }.map(\.sampleID))
        let status = try r.status()
        let filterFingerprint = status.stages.first { $0.name == "filter" }!.fingerprint
        let best = try catalog.read { try $0.bestITMBySample(fingerprint: filterFingerprint) }
        let candidates = best.keys.filter { !others.contains($0) }
        XCTAssertGreaterThan(candidates.count, 2)
        XCTAssertEqual(semantic.count, candidates.count - 1, "all but one")
        let keptID = try XCTUnwrap(Set(candidates).subtracting(semantic.map(\.sampleID)).first)
        XCTAssertEqual(best[keptID], candidates.map { best[$0]! }.max(), "the kept sample has the highest ITM")
        let keptSample = try XCTUnwrap(try catalog.read { try $0.sample(id: keptID) })
        XCTAssertTrue(semantic.allSatisfy { $0.representative == "\(keptSample.source)/\(keptSample.key)" })
        XCTAssertTrue(semantic.allSatisfy { $0.groupKey == "cluster 0" && (0...2000).contains($0.distance) })

        // No cosine is above 1: nothing is a semantic duplicate, and the export grows back.
        let strict = try run("    semantic: true\n    clusters: 1\n    epsilon: 0")
        let after = try Catalog(path: strict.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        XCTAssertEqual(try after.read { try $0.duplicates() }.filter { $0.kind == "semantic" }.count, 0)
    }

    // MARK: the stored clustering

    /// Only semantic dedup, so an image copy reaches it; two clusters.
    private let incremental = "    semantic: true\n    clusters: 2\n    epsilon: 0.01\n    exact: false\n    near: false\n    urls: false"

    private func state(_ r: PipelineRunner) throws -> SemanticDedupState {
        try SemanticDedupState(decoding: Array(Data(contentsOf: URL(fileURLWithPath: r.workspace.semanticDedupState(stage: "dedup")))))
    }

    private func semanticPass(_ r: PipelineRunner) throws -> String? {
        let catalog = try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let summary = try XCTUnwrap(try catalog.read { try $0.stageState("dedup") }).summary
        let json = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
        return json?["semantic_pass"] as? String
    }

    private func semanticRecords(_ r: PipelineRunner) throws -> [Int64: DuplicateRecord] {
        let catalog = try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let records = try catalog.read { try $0.duplicates() }.filter { $0.kind == "semantic" }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.sampleID, $0) })
    }

    /// The web sample whose key names `image`.
    private func sample(_ r: PipelineRunner, _ image: String) throws -> SampleRecord {
        let catalog = try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let ids = try state(r).rows.map(\.key.id)
        let found = try ids.compactMap { id in try catalog.read { try $0.sample(id: id) } }.first { $0.key.contains(image) }
        return try XCTUnwrap(found, "no sample of \(image)")
    }

    /// Appends web rows (image file name, caption) to the manifest.
    private func addWebRows(_ rows: [(String, String)]) throws {
        let url = folder.appendingPathComponent("web.json")
        var web = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: String]])
        web += rows.map { ["image": "images/" + $0.0, "caption": $0.1] }
        try JSONSerialization.data(withJSONObject: web, options: [.sortedKeys]).write(to: url)
    }

    /// A run with a new sample, a re-encoded copy of an earlier one, restarts from the stored
    /// clustering: the copy is found against the earlier sample (or the sample that sample
    /// duplicates), every earlier decision stays, the centroids are the same.
    func testANewCopyOfAnEarlierSampleIsFoundAndEarlierDecisionsStay() throws {
        let first = try run(incremental)
        XCTAssertEqual(try semanticPass(first), "full")
        let before = try semanticRecords(first), stateBefore = try state(first)

        let original = try ImageDecoder.decode(contentsOf: folder.appendingPathComponent("images/img-007.jpg").path)
        try Data(try ImageEncoder.jpeg(original, quality: 70)).write(to: folder.appendingPathComponent("images/again-7.jpg"))
        try addWebRows([("again-7.jpg", "the same picture once more")])
        let second = try run(incremental)   // a new runner: the state comes from disk
        XCTAssertEqual(try semanticPass(second), "update")
        let after = try semanticRecords(second), stateAfter = try state(second)
        XCTAssertEqual(stateAfter.centroids.values, stateBefore.centroids.values)
        XCTAssertEqual(stateAfter.rows.count, stateBefore.rows.count + 1)
        for (id, record) in before {
            XCTAssertEqual(after[id]?.representative, record.representative, "sample \(id) keeps its decision")
        }
        let copy = try XCTUnwrap(after[try sample(second, "again-7").id], "the copy is a semantic duplicate")
        let originalSample = try sample(second, "img-007")
        let originalName = "\(originalSample.source)/\(originalSample.key)"
        XCTAssertTrue([originalName, before[originalSample.id]?.representative].contains(copy.representative),
                      "\(copy.representative) is not \(originalName) or its keeper")

        // Run again from the saved state with the same samples (as after a kill between saving
        // the state and replacing the records; `texts: false` only makes the stage run): the
        // same semantic records.
        let resumed = try run(incremental + "\n    texts: false")
        XCTAssertEqual(try semanticPass(resumed), "update")
        XCTAssertEqual(try semanticRecords(resumed), after)
        XCTAssertEqual(try state(resumed), stateAfter)
    }

    /// Two shards: one clustering for both, rows named by shard, the update found in either.
    func testTheClusteringSpansShards() throws {
        let first = try run(incremental, shards: 2)
        let firstState = try state(first)
        XCTAssertEqual(Set(firstState.rows.map(\.key.shard)), [0, 1])
        let original = try ImageDecoder.decode(contentsOf: folder.appendingPathComponent("images/img-007.jpg").path)
        try Data(try ImageEncoder.jpeg(original, quality: 70)).write(to: folder.appendingPathComponent("images/again-7.jpg"))
        try addWebRows([("again-7.jpg", "the same picture once more")])
        let second = try run(incremental, shards: 2)
        XCTAssertEqual(try state(second).rows.count, firstState.rows.count + 1)
        var records: [DuplicateRecord] = []
        for shard in second.workspace.shards {
            let catalog = try Catalog(path: second.workspace.catalogPath(shard))
            let summary = try XCTUnwrap(try catalog.read { try $0.stageState("dedup") }).summary
            XCTAssertTrue(summary.contains("\"semantic_pass\":\"update\""), summary)
            records += try catalog.read { try $0.duplicates() }.filter { $0.kind == "semantic" }
        }
        let added = try XCTUnwrap(try state(second).rows.first { row in !firstState.rows.contains { $0.key == row.key } })
        let catalog = try Catalog(path: second.workspace.catalogPath(ShardSpec(index: Int(added.key.shard), count: 2)))
        XCTAssertTrue(try XCTUnwrap(try catalog.read { try $0.sample(id: added.key.id) }).key.contains("again-7"))
        XCTAssertNotNil(added.keeper, "the copy is a semantic duplicate")
        XCTAssertTrue(records.contains { $0.sampleID == added.key.id }, "and recorded in its shard's catalog")
    }

    /// `recluster: true` and another epsilon build the clustering again; a damaged state file is
    /// noticed and rebuilt; a sample that left the candidates (now an exact duplicate) leaves the state.
    func testReclusterOtherSettingsDamageAndRemovedSamples() throws {
        let first = try run(incremental)
        let path = first.workspace.semanticDedupState(stage: "dedup")
        XCTAssertEqual(try semanticPass(try run(incremental + "\n    recluster: true")), "full")
        XCTAssertEqual(try semanticPass(try run(incremental.replacingOccurrences(of: "epsilon: 0.01", with: "epsilon: 0.02"))), "full")
        XCTAssertEqual(try state(first).settings.epsilon, 0.02)

        // Damaged: cut in half. `texts: false` changes the stage's fingerprint, not its semantic settings.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let rebuilt = try run(incremental + "\n    texts: false")
        XCTAssertEqual(try semanticPass(rebuilt), "full")
        XCTAssertNoThrow(try state(rebuilt))
        // The same samples again: the stored full pass's decisions stand, and it says so.
        XCTAssertEqual(try semanticPass(try run(incremental)), "full")

        // copy-of-0 repeats img-000's bytes: with `exact` on it is an exact duplicate and leaves the state.
        let withCopy = try state(first).rows.map(\.key.id)
        let copyID = try sample(first, TestDataset.plantedExact).id
        let exact = try run(incremental.replacingOccurrences(of: "    exact: false\n", with: ""))
        XCTAssertEqual(try semanticPass(exact), "update")
        XCTAssertFalse(try state(exact).rows.contains { $0.key.id == copyID })
        XCTAssertEqual(try state(exact).rows.count, withCopy.count - 1)
    }

    func testSemanticDedupWithoutAFilterUpstreamSaysSo() throws {
        let yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"))
            .replacingOccurrences(of: "    radius: 6", with: "    radius: 6\n    semantic: true")
        let path = folder.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let runner = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        XCTAssertThrowsError(try runner.run(RunOptions())) { error in
            XCTAssertTrue("\(error)".contains("needs a filter upstream"), "\(error)")
        }
    }
}
