import Catalog
import Foundation
import XCTest

final class CatalogTests: XCTestCase {
    var folder: URL!
    var catalog: Catalog!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        catalog = try Catalog(path: folder.appendingPathComponent("c.sqlite").path)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func sample(_ key: String, captions: [String] = ["a cat"]) -> NewSample {
        NewSample(key: key, url: "http://x/\(key).jpg", localPath: nil, origin: .web, metadata: "{}", captions: captions)
    }

    func testMigrationsApplyOnceAndReopen() throws {
        XCTAssertEqual(try catalog.appliedMigrations(), ["v1-core", "v2-filter-thresholds", "v3-content-keys", "v4-manifest-problem-rows", "v5-text-changes", "v6-gated-texts",
                                                             "v7-archive-members", "v8-text-ranks", "v9-contamination"])
        let again = try Catalog(path: catalog.path)
        XCTAssertEqual(try again.appliedMigrations(), ["v1-core", "v2-filter-thresholds", "v3-content-keys", "v4-manifest-problem-rows", "v5-text-changes", "v6-gated-texts",
                                                             "v7-archive-members", "v8-text-ranks", "v9-contamination"])
    }

    /// A shard sample keeps its member's byte range or its source's failure; a source keeps its
    /// reader's position; a `local` fetch links the image as an `ok` one does.
    func testShardSamplesSourcePositionAndLocalFetches() throws {
        let source = try catalog.write { try $0.source(name: "laion", format: "webdataset", path: "/s") }
        XCTAssertNil(source.position)
        try catalog.write { session in
            try session.insertSample(NewSample(key: "00000/1", url: "https://x/1.jpg", localPath: "/s/00000.tar", origin: .web,
                                               metadata: "{}", captions: ["a"], memberOffset: 1536, memberSize: 900), sourceID: source.id)
            try session.insertSample(NewSample(key: "00000/2", url: "https://x/2.jpg", localPath: nil, origin: .web, metadata: "{}",
                                               captions: [], sourceFailure: "failed_to_download: HTTP Error 404: Not Found"),
                                     sourceID: source.id)
            try session.advanceSource(source.id, recordsDone: 2, position: "tar 0 2560 0 00000", newSamples: 2, newProblems: 0)
        }
        let stored = try catalog.read { try [$0.sample(id: 1), $0.sample(id: 2)] }
        XCTAssertEqual(stored[0]?.memberOffset, 1536)
        XCTAssertEqual(stored[0]?.memberSize, 900)
        XCTAssertNil(stored[0]?.sourceFailure)
        XCTAssertNil(stored[1]?.memberOffset)
        XCTAssertEqual(stored[1]?.sourceFailure, "failed_to_download: HTTP Error 404: Not Found")
        XCTAssertEqual(try catalog.read { try $0.sources() }.first?.position, "tar 0 2560 0 00000")
        let sha = String(repeating: "ab", count: 32)
        try catalog.write {
            try $0.recordFetch(FetchRecord(sampleID: 1, status: .local, attempts: 1, bytes: 900, sha256: sha, httpCode: 0,
                                           latencySeconds: 0, finalURL: nil, contentType: nil, error: nil, blobPath: "/b/\(sha)"), runID: 1)
        }
        XCTAssertEqual(try catalog.read { try $0.sample(id: 1)?.imageSHA256 }, sha)
        XCTAssertEqual(try catalog.read { try $0.image(sha256: sha)?.bytes }, 900)
        let dump = try catalog.read { try $0.canonicalDump() }
        XCTAssertTrue(dump.contains("tar 0 2560 0 00000"))
        XCTAssertTrue(dump.contains("1536"))
    }

    /// The threshold a filter decided with is stored per fingerprint beside its decisions, with
    /// where it came from; evaluation and the report read it back from here.
    func testFilterThresholdIsStoredPerFingerprintWithItsOrigin() throws {
        XCTAssertNil(try catalog.read { try $0.filterThreshold(fingerprint: "a") })
        let calibrated = FilterThreshold(value: 0.41634, origin: .calibrated, rule: "f1", pairs: 1000, precision: 0.963,
                                         recall: 0.858, file: "audit.json")
        try catalog.write {
            try $0.recordFilterThreshold(calibrated, fingerprint: "a")
            try $0.recordFilterThreshold(FilterThreshold(value: 0.5, origin: .fixed), fingerprint: "b")
        }
        XCTAssertEqual(try catalog.read { try $0.filterThreshold(fingerprint: "a") }, calibrated)
        XCTAssertEqual(try catalog.read { try $0.filterThreshold(fingerprint: "b") }?.origin, .fixed)
        XCTAssertEqual(calibrated.summary,
                       "calibrated: the best F1 at finding the mismatches of 1000 audited pairs (there: precision 0.963, recall 0.858)")
        let keep = FilterThreshold(value: 0.3, origin: .calibrated, rule: "keep", keepShare: 0.95, pairs: 40, file: "human.json")
        XCTAssertEqual(keep.summary, "calibrated: 95% of 40 held-out matching pairs reach it")
    }

    func testSamplesAreUniquePerSourceAndRepeatedRowsMergeTheirCaptions() throws {
        let results = try catalog.write { s -> [SampleInsert] in
            let src = try s.source(name: "cc3m", format: "cc3m", path: "/m.tsv")
            return [
                try s.insertSample(sample("1"), sourceID: src.id),
                try s.insertSample(sample("1"), sourceID: src.id),
                try s.insertSample(sample("1", captions: ["a cat", "a small cat"]), sourceID: src.id),
                try s.insertSample(sample("2"), sourceID: src.id),
            ]
        }
        XCTAssertEqual(results, [.inserted(1), .unchanged, .merged(1), .inserted(2)])
        XCTAssertEqual(try catalog.read { try $0.texts(sampleID: 1, syntheticFingerprint: nil) }.map(\.text), ["a cat", "a small cat"])
        XCTAssertEqual(try catalog.read { try $0.sampleCount() }, 2)
    }

    func testPendingSamplesFollowMarksFingerprintsAndRequirements() throws {
        try catalog.write { s in
            let src = try s.source(name: "web", format: "csv", path: "/m.csv")
            for i in 1...5 { try s.insertSample(sample("\(i)"), sourceID: src.id) }
            try s.mark(stage: "fetch", fingerprint: "f1", runID: 1, [.ok(1), .ok(2), ProgressMark(sampleID: 3, status: SampleStatus(rawValue: "http_404")), .ok(4)])
            try s.mark(stage: "decode", fingerprint: "d1", runID: 1, [.ok(1)])
            try s.mark(stage: "decode", fingerprint: "d0", runID: 1, [.ok(2)])
        }
        let fetched = StageRequirement(stage: "fetch", fingerprint: "f1")
        let pending = try catalog.read { try $0.pendingSamples(stage: "decode", fingerprint: "d1", requires: [fetched], limit: 10) }
        XCTAssertEqual(pending.map(\.id), [2, 4], "1 is done, 2 is stale, 3 failed upstream, 5 not fetched")
        XCTAssertEqual(try catalog.read { try $0.pendingSamples(stage: "decode", fingerprint: "d1", requires: [fetched], afterID: 2, limit: 10) }.map(\.id), [4])
        let counts = try catalog.read { try $0.counts(stage: "fetch", fingerprint: "f1", requires: []) }
        XCTAssertEqual(counts.eligible, 5)
        XCTAssertEqual(counts.done, 4)
        XCTAssertEqual(counts.failed, 1)
        XCTAssertEqual(counts.pending, 1)
        XCTAssertEqual(try catalog.write { try $0.requeue(status: SampleStatus(rawValue: "http_404"), stage: "fetch") }, 1)
        XCTAssertEqual(try catalog.read { try $0.counts(stage: "fetch", fingerprint: "f1", requires: []) }.pending, 2)
    }

    /// A mark holds for the image it was made on: new bytes behind a sample make its marks
    /// downstream of fetch stale and the sample pending, the same bytes fetched again do not,
    /// and the input version of whole-dataset stages moves though every status stays ok.
    func testMarksAndScoresAreKeyedByTheSampleImage() throws {
        func fetch(_ s: CatalogSession, _ id: Int64, _ sha: String) throws {
            try s.recordFetch(FetchRecord(sampleID: id, status: .ok, attempts: 1, bytes: 3, sha256: sha, httpCode: 200,
                                          latencySeconds: 0, finalURL: nil, contentType: nil, error: nil, blobPath: "/b/\(sha)"),
                              runID: 1)
            try s.mark(stage: "fetch", fingerprint: "f", runID: 1, [.ok(id)])
        }
        let fetched = StageRequirement(stage: "fetch", fingerprint: "f")
        func pending() throws -> [Int64] {
            try catalog.read { try $0.pendingSamples(stage: "decode", fingerprint: "d", requires: [fetched], limit: 10) }.map(\.id)
        }
        func version() throws -> String { try catalog.read { try $0.progressVersion(stage: "decode", fingerprint: "d") } }
        try catalog.write { s in
            let src = try s.source(name: "web", format: "csv", path: "/m.csv")
            for i in 1...2 {
                try s.insertSample(sample("\(i)"), sourceID: src.id)
                try fetch(s, Int64(i), "a\(i)")
            }
            try s.mark(stage: "decode", fingerprint: "d", runID: 1, [.ok(1), .ok(2)], images: [1: "a1", 2: "a2"])
            try s.insertScore(TextScore(textID: 2, itmProbability: 0.9, itcSimilarity: 0.3), fingerprint: "s", model: "m", image: "a2")
        }
        XCTAssertEqual(try pending(), [])
        let before = try version()
        XCTAssertEqual(before, "2.3.21", "a catalog whose images never changed keeps its version format")

        try catalog.write { try fetch($0, 1, "a1") }
        XCTAssertEqual(try pending(), [], "the same bytes again")
        XCTAssertEqual(try version(), before)

        try catalog.write { try fetch($0, 2, "b2") }
        XCTAssertEqual(try pending(), [2], "new bytes")
        let counts = try catalog.read { try $0.counts(stage: "decode", fingerprint: "d", requires: [fetched]) }
        XCTAssertEqual(counts.done, 1)
        XCTAssertEqual(counts.stale, 1)
        XCTAssertEqual(counts.pending, 1)
        XCTAssertNil(try catalog.read { try $0.score(textID: 2, fingerprint: "s", image: "b2") }, "scored on the old image")
        XCTAssertNotNil(try catalog.read { try $0.score(textID: 2, fingerprint: "s", image: "a2") })

        try catalog.write { try $0.mark(stage: "decode", fingerprint: "d", runID: 2, [.ok(2)], images: [2: "b2"]) }
        XCTAssertEqual(try pending(), [])
        XCTAssertNotEqual(try version(), before, "the same statuses on a new image are a new input")
    }

    func testWriteTransactionsAreAllOrNothing() throws {
        struct Boom: Error {}
        XCTAssertThrowsError(try catalog.write { s in
            let src = try s.source(name: "web", format: "csv", path: "/m.csv")
            try s.insertSample(sample("1"), sourceID: src.id)
            throw Boom()
        })
        XCTAssertEqual(try catalog.read { try $0.sampleCount() }, 0)
        XCTAssertEqual(try catalog.read { try $0.sources() }.count, 0)
    }

    func testCanonicalDumpIgnoresRunIdsAndLatencies() throws {
        func fill(_ c: Catalog, run: Int64, latency: Double) throws {
            try c.write { s in
                let src = try s.source(name: "web", format: "csv", path: "/m.csv")
                try s.insertSample(sample("1"), sourceID: src.id)
                _ = try s.startRun(pipeline: "p", command: "run \(run)", startedAt: "t\(run)")
                try s.recordFetch(FetchRecord(sampleID: 1, status: .ok, attempts: 1, bytes: 3, sha256: "ab", httpCode: 200,
                                              latencySeconds: latency, finalURL: nil, contentType: "image/jpeg", error: nil,
                                              blobPath: "/b/ab"), runID: run)
                try s.mark(stage: "fetch", fingerprint: "f", runID: run, [.ok(1)])
            }
        }
        let other = try Catalog(path: folder.appendingPathComponent("d.sqlite").path)
        try fill(catalog, run: 1, latency: 0.1)
        try fill(other, run: 7, latency: 2.5)
        XCTAssertEqual(try catalog.read { try $0.canonicalDump() }, try other.read { try $0.canonicalDump() })
        try other.write { try $0.mark(stage: "fetch", fingerprint: "g", runID: 7, [.ok(1)]) }
        XCTAssertNotEqual(try catalog.read { try $0.canonicalDump() }, try other.read { try $0.canonicalDump() })
    }

    func testStageStateRoundTrip() throws {
        XCTAssertNil(try catalog.read { try $0.stageState("dedup") })
        try catalog.write { try $0.setStageState("dedup", fingerprint: "x", inputVersion: "v", runID: 1, summary: "{}") }
        let state = try catalog.read { try $0.stageState("dedup") }
        XCTAssertEqual(state?.fingerprint, "x")
        XCTAssertEqual(state?.inputVersion, "v")
    }
}
