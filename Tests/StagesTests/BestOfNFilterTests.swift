import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// Best-of-N: the caption stage writes four captions per image, the filter ranks them and keeps
/// the best `keep_top` of those that pass. Every setting is re-decided from the scores the first
/// run stored; the expected decisions are worked out here from those scores.
final class BestOfNFilterTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!
    static let captions = 4

    override func setUpWithError() throws {
        folder = temporaryFolder("bestofn")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func runner(threshold: Double, keepTop: Int? = nil, rankBy: String? = nil) throws -> PipelineRunner {
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), threshold: threshold,
                                             captionsPerImage: Self.captions, keepTop: keepTop, rankBy: rankBy)
        return PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
    }

    var catalogPath: String { folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path }

    func fingerprint(_ r: PipelineRunner, _ stage: String) throws -> String {
        try XCTUnwrap(r.status().stages.first { $0.name == stage }).fingerprint
    }

    /// Every judged text of the run with its stored score (from its decision).
    func judged(_ r: PipelineRunner) throws -> [(text: TextRecord, score: TextScore)] {
        let catalog = try Catalog(path: catalogPath)
        let filter = try fingerprint(r, "filter"), caption = try fingerprint(r, "caption")
        let decisions = try catalog.read { try $0.decisions(fingerprint: filter) }
        let texts = try catalog.read {
            try $0.textsOfSamples(passing: StageRequirement(stage: "filter", fingerprint: filter), syntheticFingerprint: caption)
        }
        return texts.compactMap { t in
            decisions[t.id].map { (t, TextScore(textID: t.id, itmProbability: $0.itmProbability!, itcSimilarity: $0.itcSimilarity!)) }
        }
    }

    func testKeepTopKeepsTheBestPassingCaptionsByEachScoreWithoutRescoring() throws {
        // The first run keeps every passing caption and stores every score.
        let first = try runner(threshold: 0.5)
        XCTAssertFalse(try first.run(RunOptions()).cancelled)
        let catalog = try Catalog(path: catalogPath)
        let scoresOf = { try catalog.read { try $0.canonicalDump() }.components(separatedBy: "# decisions")[0] }
        let storedScores = try scoresOf()
        let embeddingRows = { try EmbeddingStore(existing: first.workspace.embeddingFolder(ShardSpec(index: 0, count: 1), stage: "filter")).ids(.image).count }
        let scoredImages = try embeddingRows()
        let plainFingerprint = try fingerprint(first, "filter")

        // keep_top 0 written out is the default: same fingerprint, nothing to do.
        XCTAssertEqual(try fingerprint(runner(threshold: 0.5, keepTop: 0), "filter"), plainFingerprint)
        XCTAssertEqual(try fingerprint(runner(threshold: 0.5, keepTop: 0, rankBy: "itc"), "filter"), plainFingerprint,
                       "rank_by does not apply without keep_top")

        // A threshold in the middle of the synthetic scores, so that some captions fail.
        let byText = Dictionary(uniqueKeysWithValues: try judged(first).map { ($0.text.id, $0) })
        let synthetic = byText.values.filter { $0.text.origin == .synthetic }
        XCTAssertEqual(synthetic.count % Self.captions, 0)
        let itms = synthetic.map(\.score.itmProbability).sorted()
        let threshold = (itms[itms.count / 2 - 1] + itms[itms.count / 2]) / 2
        XCTAssertNotEqual(itms.first, itms.last, "the tiny model gives different captions different scores")

        // Without keep_top every synthetic caption still has its rank by ITM, and the reason is as before.
        let plain = try catalog.read { try $0.decisions(fingerprint: plainFingerprint) }
        for c in synthetic {
            let d = try XCTUnwrap(plain[c.text.id])
            XCTAssertEqual(d.rank?.by, "itm")
            XCTAssertEqual(d.rank?.score, c.score.itmProbability)
            XCTAssertFalse(d.reason.contains("rank"), d.reason)
        }

        var fingerprints: Set<String> = [plainFingerprint]
        var topFailed = 0
        for rankBy in ["itm", "itc", "product"] {
            for keepTop in [1, 2] {
                let r = try runner(threshold: threshold, keepTop: keepTop, rankBy: rankBy)
                let summary = try r.run(RunOptions())
                XCTAssertEqual(summary.ranStages, ["filter", "assemble", "export", "report"], "\(rankBy) \(keepTop)")
                XCTAssertEqual(try scoresOf(), storedScores, "scores were reused, not recomputed")
                XCTAssertEqual(try embeddingRows(), scoredImages, "the model scored nothing again")
                let fp = try fingerprint(r, "filter")
                XCTAssertTrue(fingerprints.insert(fp).inserted, "keep_top \(keepTop), rank_by \(rankBy) has its own fingerprint")

                let decisions = try catalog.read { try $0.decisions(fingerprint: fp) }
                XCTAssertEqual(Set(decisions.keys), Set(byText.keys), "the same texts are judged")
                func value(_ s: TextScore) -> Double {
                    rankBy == "itm" ? s.itmProbability : rankBy == "itc" ? s.itcSimilarity : s.itmProbability * s.itcSimilarity
                }
                let bySample = Dictionary(grouping: synthetic, by: \.text.sampleID)
                for (_, captions) in bySample {
                    XCTAssertEqual(captions.count, Self.captions)
                    let ranked = captions.sorted { a, b in
                        value(a.score) != value(b.score) ? value(a.score) > value(b.score) : a.text.id < b.text.id
                    }
                    var keptSoFar = 0
                    for (i, c) in ranked.enumerated() {
                        let d = try XCTUnwrap(decisions[c.text.id])
                        let passes = c.score.itmProbability >= threshold
                        let expectKept = passes && keptSoFar < keepTop
                        if expectKept { keptSoFar += 1 }
                        if i == 0 && !passes { topFailed += 1 }
                        XCTAssertEqual(d.kept, expectKept, "\(rankBy) keep_top \(keepTop), rank \(i + 1): \(d.reason)")
                        XCTAssertEqual(d.rank, TextRank(position: i + 1, score: value(c.score), by: rankBy))
                        XCTAssertTrue(d.reason.contains("rank \(i + 1) of \(Self.captions) by \(rankBy)"), d.reason)
                        XCTAssertEqual(d.reason.hasSuffix("(keep_top \(keepTop))"), passes && !expectKept, d.reason)
                        if !passes { XCTAssertFalse(d.kept, "a caption below the threshold is never kept, whatever its rank") }
                    }
                    XCTAssertLessThanOrEqual(captions.filter { decisions[$0.text.id]!.kept }.count, keepTop)
                }
                // Web texts are judged alone, as without keep_top.
                for web in byText.values where web.text.origin == .web {
                    let d = try XCTUnwrap(decisions[web.text.id])
                    XCTAssertEqual(d.kept, web.score.itmProbability >= threshold)
                    XCTAssertNil(d.rank)
                    XCTAssertFalse(d.reason.contains("rank"), d.reason)
                }
                // Every synthetic caption in the assembled set is one the filter kept.
                let assembled: [AssembledSample] = try catalog.read { try $0.assembledSamples() }
                let assembledSynthetic = assembled.flatMap { $0.texts.filter { $0.origin == .synthetic }.map(\.textID) }
                XCTAssertFalse(assembledSynthetic.isEmpty)
                for id in assembledSynthetic { XCTAssertEqual(decisions[id]?.kept, true, "text \(id) assembled") }
            }
        }
        XCTAssertGreaterThan(topFailed, 0, "some best-ranked caption was below the threshold")

    }

    /// The report shows each image's candidates, and `inspect dropped` their rank and score.
    func testReportAndInspectShowRanks() throws {
        let r = try runner(threshold: 0.3, keepTop: 1, rankBy: "product")
        XCTAssertFalse(try r.run(RunOptions()).cancelled)
        let html = try String(contentsOfFile: r.workspace.reportFolder + "/report.html", encoding: .utf8)
        let section = try XCTUnwrap(html.range(of: "<section id=\"candidates\"")).lowerBound
        let samples = try XCTUnwrap(html.range(of: "<section id=\"samples\"")).lowerBound
        let candidates = String(html[section..<samples])
        XCTAssertEqual(candidates.components(separatedBy: "<article class=\"card\">").count - 1, ReportStage.candidateImages)
        XCTAssertEqual(candidates.components(separatedBy: "<tr class=\"").count - 1, ReportStage.candidateImages * Self.captions)
        XCTAssertTrue(candidates.contains("Score (product)"))
        XCTAssertTrue(candidates.contains("src=\"data:image/jpeg;base64,"))
        XCTAssertTrue(candidates.contains("(keep_top 1)"), "a passing caption dropped for its rank")

        let dropped = try r.inspect(.dropped)
        let rows = dropped.rows.filter { $0[3] == .text("synthetic") }
        XCTAssertFalse(rows.isEmpty)
        for row in rows {
            guard case .int(let rank) = row[8], case .score = row[9], case .text(let reason) = row[7] else { return XCTFail("\(row)") }
            XCTAssertTrue(reason.contains("rank \(rank) of \(Self.captions) by product"), reason)
        }
    }

    func testKeepTopIsValidated() throws {
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), keepTop: -1)
        XCTAssertThrowsError(try PipelineLoader(registry: StandardStages.registry).load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("stages.filter.keep_top"), "\(error)")
        }
        let rankBy = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), keepTop: 1, rankBy: "clip")
        XCTAssertThrowsError(try PipelineLoader(registry: StandardStages.registry).load(path: rankBy)) { error in
            XCTAssertTrue("\(error)".contains("stages.filter.rank_by"), "\(error)")
        }
    }
}
