import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// Results downstream of fetch are valid for the image they were computed on: new bytes behind a
/// URL, fetched again, invalidate that sample's decode, captions, scores, decisions and its place
/// in dedup and the export; the same bytes fetched again invalidate nothing.
final class ContentKeyTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("content")
        dataset = try TestDataset(folder: folder, distinct: 12, human: 2)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func runner(work: String = "work") throws -> PipelineRunner {
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent(work), name: "\(work).yaml")
        return PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
    }

    func dump(_ r: PipelineRunner) throws -> String {
        try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1))).read { try $0.canonicalDump() }
    }

    /// Two images get new bytes after a full run: img-007 becomes an exact copy of img-006, and
    /// img-010 a new picture. Fetched again (retry --status ok --stage fetch --force, which
    /// re-fetches every sample), the run recomputes decode, caption and filter for those two
    /// samples only, finds img-007 a duplicate, and ends in the state a run from scratch over the
    /// new files reaches.
    func testNewBytesBehindAnImageRecomputeThatSampleOnly() throws {
        let r = try runner()
        _ = try r.run(RunOptions())
        let before = try dump(r)

        try dataset.replaceImage("img-007.jpg", withCopyOf: "img-006.jpg")
        try dataset.replaceImage("img-010.jpg", seed: 4242)

        let requeued = try r.retry(statuses: ["ok"].map(SampleStatus.init(rawValue:)), stage: "fetch", force: true)
        let summary = try r.run(RunOptions())
        let processed = Dictionary(summary.stages.map { ($0.stage, $0.processed) }, uniquingKeysWith: +)
        XCTAssertEqual(processed["fetch"], requeued.total, "every sample was fetched again")
        for stage in ["decode", "caption", "filter"] {
            XCTAssertEqual(processed[stage], 2, "\(stage) ran for the two changed samples only: \(processed)")
        }
        XCTAssertEqual(summary.ranStages, ["fetch", "decode", "caption", "filter", "dedup", "assemble", "export", "report"])

        let after = try dump(r)
        let samples = dumpRows(after, "samples")
        let idOf = Dictionary(uniqueKeysWithValues: samples.map { ($0["key"]!, $0["id"]!) })
        let changed: Set = [idOf["images/img-007.jpg"]!, idOf["images/img-010.jpg"]!]

        // Every other sample's marks, texts, scores and decisions are untouched.
        func unchangedRows(_ dump: String, _ table: String, sample: ([String: String]) -> String?) -> [[String: String]] {
            dumpRows(dump, table).filter { row in sample(row).map { !changed.contains($0) } ?? true }
        }
        XCTAssertEqual(unchangedRows(after, "progress") { $0["sample_id"] }, unchangedRows(before, "progress") { $0["sample_id"] })
        XCTAssertEqual(unchangedRows(after, "texts") { $0["sample_id"] }, unchangedRows(before, "texts") { $0["sample_id"] })
        for table in ["scores", "decisions"] {
            let sampleBefore = textSamples(before), sampleAfter = textSamples(after)
            XCTAssertEqual(unchangedRows(after, table) { sampleAfter[$0["text_id"]!] }, unchangedRows(before, table) { sampleBefore[$0["text_id"]!] },
                           "\(table) of the other samples")
        }
        // The changed samples' marks carry their new images.
        for row in dumpRows(after, "progress") where changed.contains(row["sample_id"]!) && row["stage"] != "fetch" {
            let sha = samples.first { $0["id"] == row["sample_id"] }!["image_sha256"]!
            XCTAssertEqual(row["image_sha256"], sha, "\(row)")
        }

        // img-007 is now an exact duplicate of img-006.
        let duplicates = dumpRows(after, "duplicates")
        let copy = try XCTUnwrap(duplicates.first { $0["sample_id"] == idOf["images/img-007.jpg"] }, "\(duplicates)")
        XCTAssertEqual(copy["kind"], "exact")
        XCTAssertEqual(copy["representative"], "web/images/img-006.jpg")

        // Captions, scores, decisions, duplicates, the assembled set and the export are those of a
        // run from scratch over the new files.
        let fresh = try runner(work: "fresh")
        _ = try fresh.run(RunOptions())
        let scratch = try dump(fresh)
        let got = judged(after), expected = judged(scratch)
        XCTAssertEqual(got.keys.sorted(), expected.keys.sorted())
        for (key, g) in got {
            guard let e = expected[key] else { continue }
            XCTAssertEqual(g.text, e.text, key)
            XCTAssertEqual(g.kept, e.kept, key)
            XCTAssertEqual(g.itm ?? -1, e.itm ?? -1, accuracy: 1e-5, key)
            XCTAssertEqual(g.assembled, e.assembled, key)
        }
        for id in changed {
            let old = judged(before).filter { $0.key.hasPrefix(id + "/") && $0.key.contains("synthetic") }
            XCTAssertFalse(old.isEmpty)
            for (key, o) in old { XCTAssertNotEqual(got[key]?.itm, o.itm, "\(key): scored on the new image") }
        }
        XCTAssertEqual(duplicates, dumpRows(scratch, "duplicates"))
        XCTAssertEqual(try pretrainPairs(r), try pretrainPairs(fresh))
        let newImage = try XCTUnwrap(samples.first { $0["key"] == "images/img-010.jpg" }?["image_sha256"])
        XCTAssertTrue(try pretrainPairs(r).contains { $0.hasPrefix(newImage + " ") }, "the new picture is exported")
    }

    /// The same bytes fetched again change no digest: no stage downstream of fetch runs, and the

    /// A manifest row that adds a caption to a sample already judged: the filter judges the
    /// sample again (same status), and assemble and export must still run, so that the new
    /// caption's decision reaches the export.
    func testAMergedCaptionReachesTheExport() throws {
        let r = try runner()
        _ = try r.run(RunOptions())
        let manifest = folder.appendingPathComponent("web.json")
        var rows = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as! [[String: String]]
        rows.append(["image": "images/img-002.jpg", "caption": "a freshly added caption of the same picture"])
        try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]).write(to: manifest)

        let summary = try r.run(RunOptions())
        let processed = Dictionary(summary.stages.map { ($0.stage, $0.processed) }, uniquingKeysWith: +)
        XCTAssertEqual(processed["filter"], 1, "the sample that gained a caption is judged again: \(processed)")
        XCTAssertTrue(summary.ranStages.contains("assemble"), "\(summary.ranStages)")
        XCTAssertTrue(summary.ranStages.contains("export"), "\(summary.ranStages)")
        let texts = dumpRows(try dump(r), "texts").filter { $0["text"] == "a freshly added caption of the same picture" }
        XCTAssertEqual(texts.count, 1)
        let decided = dumpRows(try dump(r), "decisions").filter { $0["text_id"] == texts[0]["id"] }
        XCTAssertEqual(decided.count, 1, "the new caption has a decision")
        let exported = try String(contentsOf: folder.appendingPathComponent("work/export/blip_pretrain.json"), encoding: .utf8)
        XCTAssertEqual(exported.contains("a freshly added caption of the same picture"), decided[0]["kept"] == "1",
                       "the export carries the new caption exactly when the filter kept it")
    }

    /// catalog is as it was but for the fetch log.
    func testUnchangedRefetchRecomputesNothing() throws {
        let r = try runner()
        _ = try r.run(RunOptions())
        let before = try dump(r)
        _ = try r.retry(statuses: ["ok"].map(SampleStatus.init(rawValue:)), stage: "fetch", force: true)
        let summary = try r.run(RunOptions())
        XCTAssertEqual(summary.ranStages, ["fetch"])
        let withoutFetches = { (dump: String) in dump.components(separatedBy: "# ").filter { !$0.hasPrefix("fetches\n") } }
        XCTAssertEqual(withoutFetches(try dump(r)), withoutFetches(before))
    }

    // MARK: helpers

    /// Per text, by "sample/origin/position": the text, its decision and ITM probability, and
    /// whether it is in the assembled set.
    private func judged(_ dump: String) -> [String: (text: String, kept: String?, itm: Double?, assembled: Bool)] {
        let decisions = Dictionary(uniqueKeysWithValues: dumpRows(dump, "decisions").map { ($0["text_id"]!, $0) })
        let assembled = Set(dumpRows(dump, "assembled").map { $0["text_id"]! })
        var out: [String: (text: String, kept: String?, itm: Double?, assembled: Bool)] = [:]
        for t in dumpRows(dump, "texts") {
            let d = decisions[t["id"]!]
            out["\(t["sample_id"]!)/\(t["origin"]!)/\(t["position"]!)"] =
                (t["text"]!, d?["kept"], d?["itm_probability"].flatMap(Double.init), assembled.contains(t["id"]!))
        }
        return out
    }

    /// The sample of each text id.
    private func textSamples(_ dump: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: dumpRows(dump, "texts").map { ($0["id"]!, $0["sample_id"]!) })
    }

    /// The export's (image digest, caption) pairs, in order (images are stored under their
    /// digest).
    private func pretrainPairs(_ r: PipelineRunner) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: r.workspace.exportFolder + "/blip_pretrain.json"))
        let rows = try JSONSerialization.jsonObject(with: data) as! [[String: String]]
        return rows.map { URL(fileURLWithPath: $0["image"]!).lastPathComponent + " " + $0["caption"]! }
    }

    /// The rows of one table of a canonical dump, as column → value (text without its quotes).
    private func dumpRows(_ dump: String, _ table: String) -> [[String: String]] {
        let section = dump.components(separatedBy: "# \(table)\n")[1].components(separatedBy: "\n# ")[0]
        return section.split(separator: "\n").map { line in
            Dictionary(uniqueKeysWithValues: line.split(separator: "\t").map {
                let parts = $0.split(separator: "=", maxSplits: 1)
                let value = parts.count > 1 ? String(parts[1]) : ""
                let unquoted = value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") ? String(value.dropFirst().dropLast()) : value
                return (String(parts[0]), unquoted)
            })
        }
    }
}
