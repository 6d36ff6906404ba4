import Catalog
import Foundation
import XCTest

/// What gate stages record: caption drops per gate and fingerprint, and marks made without an
/// image that stay valid once the sample has one.
final class GatedTextsTests: XCTestCase {
    var folder: URL!
    var catalog: Catalog!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-gated-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        catalog = try Catalog(path: folder.appendingPathComponent("c.sqlite").path)
        try catalog.write { s in
            let src = try s.source(name: "web", format: "csv", path: "/m.csv")
            try s.insertSample(NewSample(key: "1", url: "http://x/1.jpg", localPath: nil, origin: .web, metadata: "{}",
                                         captions: ["IMG_1", "a cat on a mat"]), sourceID: src.id)
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func testDropsArePerGateAndFingerprintAndAreReplacedWhenJudgedAgain() throws {
        let gate = StageRequirement(stage: "gate", fingerprint: "g1")
        try catalog.write { try $0.replaceGatedTexts(stage: "gate", fingerprint: "g1", sampleID: 1,
                                                     [GatedText(textID: 1, rule: "min_words", reason: "min_words: 1 < 2")]) }
        XCTAssertEqual(try catalog.read { try $0.gatedTextIDs(sampleID: 1, gates: [gate]) }, [1])
        XCTAssertEqual(try catalog.read { try $0.gatedTextIDs(sampleID: 1, gates: [StageRequirement(stage: "gate", fingerprint: "old")]) }, [],
                       "a drop under another fingerprint does not count")
        XCTAssertEqual(try catalog.read { try $0.gatedTextIDs(sampleID: 1, gates: []) }, [])
        XCTAssertEqual(try catalog.read { try $0.gatedTextIDs(gates: [gate]) }, [1])
        XCTAssertEqual(try catalog.read { try $0.gatedTextIDs(gates: [StageRequirement(stage: "other", fingerprint: "g1")]) }, [])
        XCTAssertEqual(try catalog.read { try $0.gatedTextCounts(stage: "gate", fingerprint: "g1") }, ["min_words": 1])

        // Judged again under new rules: the earlier drops go, the new ones stay.
        try catalog.write { try $0.replaceGatedTexts(stage: "gate", fingerprint: "g2", sampleID: 1,
                                                     [GatedText(textID: 2, rule: "max_chars", reason: "max_chars: 14 > 10")]) }
        XCTAssertEqual(try catalog.read { try $0.gatedTexts(stage: "gate", fingerprint: "g2") },
                       [GatedText(textID: 2, rule: "max_chars", reason: "max_chars: 14 > 10")])
        XCTAssertEqual(try catalog.read { try $0.gatedTexts(stage: "gate", fingerprint: "g1") }, [])
        let dump = try catalog.read { try $0.canonicalDump() }
        XCTAssertTrue(dump.contains("# gated_texts\nstage=\"gate\"\ttext_id=2\tsample_id=1\tfingerprint=\"g2\"\trule=\"max_chars\""), dump)
    }

    func testAssembleLeavesOutWhatAGateDropped() throws {
        let filter = StageRequirement(stage: "filter", fingerprint: "f")
        let gate = StageRequirement(stage: "gate", fingerprint: "g")
        try catalog.write { s in
            try s.mark(stage: "filter", fingerprint: "f", runID: 1, [.ok(1)], images: [:])
            for id in [Int64(1), 2] {
                try s.recordDecision(Decision(textID: id, kept: true, reason: "itm", itmProbability: 0.9, itcSimilarity: 0.3), fingerprint: "f")
            }
            try s.replaceGatedTexts(stage: "gate", fingerprint: "g", sampleID: 1, [GatedText(textID: 1, rule: "min_words", reason: "r")])
        }
        XCTAssertEqual(try catalog.write { try $0.assemble(filter: filter, syntheticFingerprint: nil, decisionFingerprint: "f") }, 2)
        XCTAssertEqual(try catalog.write { try $0.assemble(filter: filter, syntheticFingerprint: nil, decisionFingerprint: "f", gates: [gate]) }, 1)
        XCTAssertTrue(try catalog.read { try $0.canonicalDump() }.contains("# assembled\nsample_id=1\ttext_id=2\n# progress"))
    }

    func testAMarkMadeWithoutAnImageHoldsForTheImageTheSampleGetsLater() throws {
        func pending(_ stage: String) throws -> [Int64] {
            try catalog.read { try $0.pendingSamples(stage: stage, fingerprint: "g", requires: [], limit: 10) }.map(\.id)
        }
        try catalog.write { s in
            try s.mark(stage: "gate", fingerprint: "g", runID: 1, [.ok(1)], images: [1: ProgressMark.anyImage])
            try s.mark(stage: "imagegate", fingerprint: "g", runID: 1, [.ok(1)], images: [:])
        }
        XCTAssertEqual(try pending("gate"), [])
        XCTAssertEqual(try pending("imagegate"), [])
        try catalog.write { s in
            try s.recordFetch(FetchRecord(sampleID: 1, status: .ok, attempts: 1, bytes: 3, sha256: "a1", httpCode: 200,
                                          latencySeconds: 0, finalURL: nil, contentType: nil, error: nil, blobPath: "/b/a1"), runID: 1)
        }
        XCTAssertEqual(try pending("gate"), [], "it read no image, so a new one changes nothing")
        XCTAssertEqual(try pending("imagegate"), [1], "a mark on no image is stale once there is one")
        let fetched = try catalog.read { try $0.pendingSamples(stage: "fetch", fingerprint: "f", requires: [StageRequirement(stage: "gate", fingerprint: "g")], limit: 10) }
        XCTAssertEqual(fetched.map(\.id), [1], "the requirement still holds")
    }
}
