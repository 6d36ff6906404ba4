import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// What a finished run shows: `status`, the report and `inspect` count the same things the same
/// way, and inspect lists what was dropped, what failed, the duplicates and manifest problems.
/// One run of the test pipeline serves every test of the class.
final class InspectionTests: XCTestCase {
    nonisolated(unsafe) static var folder: URL!
    nonisolated(unsafe) static var dataset: TestDataset!
    nonisolated(unsafe) static var runner: PipelineRunner!

    override class func setUp() {
        super.setUp()
        folder = temporaryFolder("inspect")
        dataset = try! TestDataset(folder: folder)
        let path = try! dataset.writePipeline(workdir: folder.appendingPathComponent("work"))
        runner = PipelineRunner(pipeline: try! PipelineLoader(registry: StandardStages.registry).load(path: path))
        _ = try! runner.run(RunOptions())
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    var runner: PipelineRunner { Self.runner }
    var dataset: TestDataset { Self.dataset }
    var webRows: Int { dataset.distinct + 4 + 3 }
    var catalog: Catalog { try! Catalog(path: runner.workspace.catalogPath(ShardSpec(index: 0, count: 1))) }
    var report: String { try! String(contentsOfFile: runner.workspace.reportFolder + "/report.html", encoding: .utf8) }

    /// The numbers of a report table row: `<th scope="row">NAME...</th><td class="num">N</td>...`.
    func reportRow(_ name: String, in html: String) -> [String] {
        guard let start = html.range(of: "<tr><th scope=\"row\">\(name)<div")
            ?? html.range(of: "<tr><th scope=\"row\"><span class=\"badge \(name)\">\(name)</span>") else { return [] }
        let row = html[start.upperBound...].prefix { $0 != "\n" }
        return row.matches(of: /<td class="num">([^<]*)<\/td>/).map { String($0.1) }
    }

    // MARK: one count for status and report

    /// Status counted a stage's failures as done (ok + failed), the report only its ok samples;
    /// both now say done = ok, with failed apart.
    func testStatusAndReportAgreeOnFetchDone() throws {
        let fetch = try XCTUnwrap(runner.status().stages.first { $0.name == "fetch" })
        XCTAssertEqual(fetch.done, webRows + dataset.human - 2, "the missing file and the random bytes failed")
        XCTAssertEqual(fetch.failed, 2)
        XCTAssertEqual(fetch.done + fetch.failed + fetch.pending, webRows + dataset.human)
        for stage in ["ingest", "fetch", "decode", "caption", "filter"] {
            let s = try XCTUnwrap(runner.status().stages.first { $0.name == stage })
            XCTAssertEqual(Array(reportRow(stage, in: report).prefix(3)), ["\(s.done)", "\(s.pending)", "\(s.failed)"], stage)
        }
    }

    func testStatusTextsPerOriginEqualTheReportsAndTheAssembledSet() throws {
        let status = try runner.status()
        XCTAssertEqual(status.texts.map(\.origin), [.human, .web, .synthetic])
        let html = report
        for t in status.texts {
            XCTAssertEqual(Array(reportRow(t.origin.rawValue, in: html).prefix(4)), ["\(t.total)", "\(t.kept)", "\(t.dropped)", "\(t.duplicates)"],
                           "\(t.origin) row of the report")
            XCTAssertEqual(t.kept + t.dropped + t.duplicates + t.unjudged, t.total, t.origin.rawValue)
        }
        let human = try XCTUnwrap(status.texts.first { $0.origin == .human })
        XCTAssertEqual(human.total, 5 * dataset.human, "five captions per human image; the malformed row has none")
        XCTAssertEqual(human.dropped, 0)
        // Kept means in the bootstrapped set: texts of duplicate samples are not kept.
        let assembled = try catalog.read { try $0.assembledSamples() }.flatMap(\.texts)
        for t in status.texts {
            XCTAssertEqual(t.kept, assembled.filter { $0.origin == t.origin }.count, "\(t.origin) kept = assembled")
        }
        let web = try XCTUnwrap(status.texts.first { $0.origin == .web })
        XCTAssertEqual(web.dropped, try runner.inspect(.dropped, filter: InspectFilter(status: "dropped")).rows.filter {
            $0[3] == .text("web")
        }.count)
    }

    func testStatusListsTheTopFailureReasonsPerStage() throws {
        let status = try runner.status()
        let fetch = try XCTUnwrap(status.stages.first { $0.name == "fetch" }?.reasons)
        XCTAssertEqual(fetch.map(\.count).reduce(0, +), 2)
        XCTAssertEqual(Set(fetch.map(\.status)).count, 2, "\(fetch)")
        XCTAssertTrue(fetch.contains { $0.status.rawValue == "not_image" }, "\(fetch)")
        let decode = try XCTUnwrap(status.stages.first { $0.name == "decode" }?.reasons)
        XCTAssertEqual(decode.map(\.status.rawValue), ["truncated"])
        XCTAssertEqual(status.stages.first { $0.name == "ingest" }?.reasons?.map(\.reason), ["missing caption"])
        XCTAssertEqual(status.stages.first { $0.name == "caption" }?.reasons, [])
    }

    func testReportShowsHumanTextsTheTitleOnceAndManifestProblemsAsIngestNumbersThem() throws {
        let html = report
        XCTAssertFalse(reportRow("human", in: html).isEmpty, "a human row in the texts table")
        let title = try XCTUnwrap(html.firstMatch(of: /<title>([^<]*)<\/title>/)).1
        XCTAssertEqual(title.components(separatedBy: "pipeline-test").count - 1, 1, String(title))
        // The malformed human row is the last element of a one-line JSON list: line 1, record 6.
        let human = dataset.folder.appendingPathComponent("human.json").path
        XCTAssertTrue(html.contains("<li>\(human):1 record \(dataset.human): missing caption</li>"), html)
    }

    // MARK: inspect

    func testDroppedTextsCarryScoreThresholdAndReason() throws {
        let table = try runner.inspect(.dropped)
        XCTAssertEqual(table.columns, ["stage", "source", "key", "origin", "text", "itm", "threshold", "reason", "rank", "rank_score"])
        let status = try runner.status()
        XCTAssertEqual(table.rows.count, status.texts.map(\.dropped).reduce(0, +))
        XCTAssertFalse(table.rows.isEmpty, "the tiny random model drops some texts at 0.5")
        for row in table.rows {
            guard case .score(let itm) = row[5], case .score(let threshold) = row[6], case .text(let reason) = row[7] else {
                return XCTFail("\(row)")
            }
            XCTAssertEqual(threshold, 0.5)
            XCTAssertLessThan(itm, threshold)
            XCTAssertTrue(reason.contains("< 0.5"), reason)
            XCTAssertNotEqual(row[3], .text("human"))
            // One caption per image: each synthetic caption is the first of one, ranked by ITM.
            if row[3] == .text("synthetic") {
                XCTAssertEqual(row[8], .int(1))
                XCTAssertEqual(row[9], .score(itm))
            } else {
                XCTAssertEqual(row[8], .null, "web texts are never ranked")
                XCTAssertEqual(row[9], .null)
            }
        }
    }

    func testFailuresNameStageStatusErrorURLAndKey() throws {
        let table = try runner.inspect(.failures)
        XCTAssertEqual(table.columns, ["stage", "status", "error", "url", "source", "key"])
        XCTAssertEqual(table.values("stage"), [.text("fetch"), .text("fetch"), .text("decode")])
        XCTAssertEqual(table.values("key").compactMap { if case .text(let k) = $0 { return k } else { return nil } }.sorted(),
                       ["images/corrupt.jpg", "images/missing.jpg", "images/truncated.jpg"])
        XCTAssertTrue(table.values("url").allSatisfy { if case .text(let u) = $0 { return u.hasPrefix("/") } else { return false } })
        XCTAssertTrue(table.values("error").allSatisfy { $0 != .null })

        let decode = try runner.inspect(.failures, filter: InspectFilter(stage: "decode"))
        XCTAssertEqual(decode.values("status"), [.text("truncated")])
        XCTAssertEqual(try runner.inspect(.failures, filter: InspectFilter(status: "not_image")).rows.count, 1)
        XCTAssertEqual(try runner.inspect(.failures, filter: InspectFilter(source: "people")).rows.count, 0)
        XCTAssertThrowsError(try runner.inspect(.failures, filter: InspectFilter(stage: "export"))) {
            XCTAssertTrue("\($0)".contains("whole-dataset stage"), "\($0)")
        }
        XCTAssertThrowsError(try runner.inspect(.failures, filter: InspectFilter(stage: "fetc"))) {
            XCTAssertTrue("\($0)".hasPrefix("no such stage: fetc"), "\($0)")
        }
    }

    func testDuplicatesNameTheSampleKeptInTheirPlace() throws {
        let table = try runner.inspect(.duplicates)
        XCTAssertEqual(table.columns, ["stage", "source", "key", "kind", "kept", "distance"])
        XCTAssertEqual(table.rows.count, 4)
        let exact = try XCTUnwrap(table.rows.first { $0[2] == .text("images/\(TestDataset.plantedExact).jpg") })
        XCTAssertEqual(exact[3], .text("exact"))
        XCTAssertEqual(exact[4], .text("web/images/img-000.jpg"))
        XCTAssertEqual(exact[5], .int(0))
        let near = try runner.inspect(.duplicates, filter: InspectFilter(status: "near"))
        XCTAssertEqual(near.rows.count, 3)
        XCTAssertEqual(try runner.inspect(.duplicates, filter: InspectFilter(reason: "EXA")).rows.count, 1, "any case")
    }

    func testManifestProblemsAreNumberedAsIngestNumbersThem() throws {
        let table = try runner.inspect(.problems)
        XCTAssertEqual(table.columns, ["stage", "source", "file", "line", "record", "reason", "excerpt"])
        XCTAssertEqual(table.rows.count, 1)
        let row = try XCTUnwrap(table.rows.first)
        XCTAssertEqual(row[1], .text("people"))
        XCTAssertEqual(row[3], .int(1), "1-based line: the whole list is on line 1")
        XCTAssertEqual(row[4], .int(dataset.human), "0-based element index, as the reader and capfilt ingest give it")
        XCTAssertEqual(row[5], .text("missing caption"))
        XCTAssertEqual(try runner.inspect(.problems, filter: InspectFilter(source: "web")).rows.count, 0)
    }

    func testReasonFilterSampleAndLimit() throws {
        let all = try runner.inspect(.dropped)
        XCTAssertGreaterThan(all.rows.count, 3)
        let some = try runner.inspect(.dropped, sample: 3, seed: 7)
        XCTAssertEqual(some.rows.count, 3)
        XCTAssertEqual(some.matched, all.rows.count)
        XCTAssertEqual(try runner.inspect(.dropped, sample: 3, seed: 7), some, "the same seed draws the same rows")
        let positions = some.rows.map { r in all.rows.firstIndex(of: r)! }
        XCTAssertEqual(positions, positions.sorted(), "drawn rows keep catalog order")
        let seeds = try (0..<8).map { try runner.inspect(.dropped, sample: 3, seed: UInt64($0)).rows }
        XCTAssertGreaterThan(Set(seeds.map { "\($0)" }).count, 1, "other seeds draw other rows")
        XCTAssertEqual(try runner.inspect(.dropped, limit: 2).rows, Array(all.rows.prefix(2)))
        XCTAssertEqual(try runner.inspect(.dropped, limit: 2).matched, all.rows.count)
        let calibrated = try runner.inspect(.dropped, filter: InspectFilter(reason: "(CALIBRATED)"))
        XCTAssertEqual(calibrated.rows.count, 0, "a fixed threshold")
        let itm = try runner.inspect(.dropped, filter: InspectFilter(reason: "ITM"))
        XCTAssertEqual(itm.rows.count, all.rows.count, "every reason names the ITM score, any case")
        XCTAssertEqual(try runner.inspect(.dropped, filter: InspectFilter(source: "people")).rows.count, 0, "human texts are never dropped")
    }

    func testFormats() throws {
        let table = try runner.inspect(.failures)
        let csv = table.render(.csv).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(csv.first, "stage,status,error,url,source,key")
        XCTAssertEqual(csv.count, table.rows.count + 2, "a header, a line per row, a final newline")
        XCTAssertEqual(csv.last, "")

        let jsonl = table.render(.jsonl).split(separator: "\n")
        XCTAssertEqual(jsonl.count, table.rows.count)
        for line in jsonl {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(Set(object.keys), Set(table.columns))
            XCTAssertTrue(line.hasPrefix("{\"stage\":"), "keys in column order: \(line)")
        }

        let lines = table.render(.table).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, table.rows.count + 1)
        XCTAssertTrue(lines[0].hasPrefix("stage   status"), lines[0])
        // Every column starts at the same offset on every line.
        let offset = lines[0].range(of: "status")!.lowerBound.utf16Offset(in: lines[0])
        for line in lines {
            XCTAssertEqual(line.prefix(offset).last, " ", line)
            XCTAssertNotEqual(line.dropFirst(offset).first, " ", line)
        }

        // Quoting: commas, quotes and newlines in CSV; tabs and newlines flattened in the table.
        let tricky = InspectTable(view: .dropped, columns: ["text", "itm"],
                                  rows: [[.text("a, \"b\"\nc"), .score(0.25)], [.text("plain"), .null]], matched: 2)
        XCTAssertEqual(tricky.render(.csv), "text,itm\n\"a, \"\"b\"\"\nc\",0.25\nplain,\n")
        XCTAssertEqual(tricky.render(.table), "text         itm\na, \"b\" c  0.2500\nplain          -\n")
        XCTAssertEqual(tricky.render(.jsonl), "{\"text\":\"a, \\\"b\\\"\\nc\",\"itm\":0.25}\n{\"text\":\"plain\",\"itm\":null}\n")
    }

    /// The same counts over three shards: inspect reads every shard catalog.
    func testShardedInspectReadsEveryShard() throws {
        let folder = temporaryFolder("inspect-shards")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 6, human: 2)
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), shards: 3)
        let r = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        _ = try r.run(RunOptions())
        XCTAssertEqual(try r.inspect(.failures).rows.count, 3)
        XCTAssertEqual(try r.inspect(.duplicates).rows.count, 4)
        XCTAssertEqual(try r.inspect(.problems).rows.count, 1, "problems are kept by shard 0 only")
        let status = try r.status()
        XCTAssertEqual(try r.inspect(.dropped).rows.count, status.texts.map(\.dropped).reduce(0, +))
        XCTAssertEqual(status.stages.first { $0.name == "fetch" }?.done, 6 + 7 + 2 - 2)
    }
}
