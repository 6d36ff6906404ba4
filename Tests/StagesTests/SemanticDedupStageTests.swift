import Catalog
import Foundation
import Pipeline
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

    private func run(_ dedup: String) throws -> PipelineRunner {
        let yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"))
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
