import Foundation
import XCTest

@testable import Report

final class ReportRenderingTests: XCTestCase {
    let hostile = "<script>alert(\"x\")</script> & 'quotes' </td></table>"
    let hostileEscaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &lt;/td&gt;&lt;/table&gt;"

    func testEscapesEveryText() {
        var report = SampleReports.realistic(sampleCount: 2)
        report.title = hostile
        report.dataset = hostile
        report.runID = hostile
        report.pipelineFile = hostile
        report.notes = [hostile]
        report.stages[0].stage = hostile
        report.stages[0].statusCounts = [StatusCount(hostile, 3)]
        report.histograms[0].title = hostile
        report.evaluation = [EvaluationMetric(name: hostile, value: 1, description: hostile)]
        report.samples[0].key = hostile
        report.samples[0].source = hostile
        report.samples[0].texts[0].text = hostile
        report.samples[0].texts[0].reason = hostile
        let page = render(report)
        XCTAssertFalse(page.contains("<script"))
        XCTAssertFalse(page.contains("alert(\"x\")"))
        XCTAssertFalse(page.contains("'quotes'"))
        // Title, h1, dl (dataset, run, pipeline), footer (run, dataset), note, stage, status, chart
        // title twice (figcaption, table caption), metric name and description, key (alt + h3),
        // source, text, reason.
        XCTAssertGreaterThanOrEqual(page.components(separatedBy: hostileEscaped).count - 1, 18)
    }

    func testEscapeFunction() {
        XCTAssertEqual(htmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;")
        XCTAssertEqual(htmlEscape("tab\tnew\nline"), "tab\tnew\nline")
        XCTAssertEqual(htmlEscape("nul\u{0}bell\u{7}c1\u{85}"), "nul\u{FFFD}bell\u{FFFD}c1\u{FFFD}")
        XCTAssertEqual(htmlEscape("café ≥ 日本 🐕"), "café ≥ 日本 🐕")
        XCTAssertEqual(htmlEscape("&amp;"), "&amp;amp;")
    }

    func testEverySectionPresentInOrder() {
        for report in [SampleReports.realistic(), RunReport(title: "t", dataset: "d", runID: "r", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p")] {
            let page = render(report)
            var previous = page.startIndex
            XCTAssertEqual(page.contains("<section id=\"candidates\""), !report.candidates.isEmpty)
            XCTAssertEqual(page.contains("<a href=\"#candidates\">"), !report.candidates.isEmpty, "no link to a section not shown")
            for section in ReportSection.shown(in: report) {
                guard let range = page.range(of: "<section id=\"\(section.rawValue)\"") else {
                    XCTFail("missing section \(section)")
                    continue
                }
                XCTAssertGreaterThan(range.lowerBound, previous, "\(section) out of order")
                previous = range.lowerBound
                XCTAssertTrue(page.contains("<a href=\"#\(section.rawValue)\">"))
                XCTAssertTrue(page.contains(">\(section.heading)</h2>"))
            }
            XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
            XCTAssertTrue(page.hasSuffix("</body>\n</html>\n"))
            XCTAssertEqual(page.components(separatedBy: "<section ").count, page.components(separatedBy: "</section>").count)
        }
        let empty = render(RunReport(title: "t", dataset: "d", runID: "r", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p"))
        for message in ["No stage has run.", "No texts counted.", "No scores recorded.", "No evaluation in this run.", "No samples."] {
            XCTAssertTrue(empty.contains(message), message)
        }
        XCTAssertTrue(empty.contains("<dt>Finished</dt><dd>not finished</dd>"))
    }

    /// Best-of-N candidates: one row per caption with rank, ranking score and decision; every
    /// caption and reason escaped.
    func testCandidatesShowRankScoreAndDecisionEscaped() throws {
        let report = SampleReports.realistic()
        XCTAssertEqual(report.candidates.count, 2)
        let page = render(report)
        let start = try XCTUnwrap(page.range(of: "<section id=\"candidates\"")).upperBound
        let section = String(page[start...]).components(separatedBy: "</section>")[0]
        XCTAssertEqual(section.components(separatedBy: "<article class=\"card\">").count - 1, 2)
        XCTAssertTrue(section.contains("<th scope=\"col\" class=\"num\">Score (itm)</th>"))
        XCTAssertTrue(section.contains("a dog &lt;and&gt; a ball &amp; the sea"))
        XCTAssertFalse(section.contains("<and>"))
        XCTAssertTrue(section.contains("<tr class=\"kept\"><td class=\"num\">1</td>"))
        XCTAssertTrue(section.contains("<tr class=\"dropped\"><td class=\"num\">3</td>"))
        XCTAssertTrue(section.contains("rank 3 of 5 by itm (keep_top 2)"))
        XCTAssertTrue(section.contains("<td class=\"num\">0.610</td>"), "the ranking score")
        XCTAssertTrue(section.contains("src=\"data:image/jpeg;base64,"))
        var escaped = report
        escaped.candidates[0].key = "<script>alert(1)</script>"
        escaped.candidates[0].texts[0].reason = "\"quoted\" & <b>"
        let html = render(escaped)
        XCTAssertFalse(html.contains("<script>alert(1)</script>"))
        XCTAssertTrue(html.contains("&quot;quoted&quot; &amp; &lt;b&gt;"))
    }

    func testDeterministic() throws {
        let report = SampleReports.realistic()
        let page = render(report)
        XCTAssertEqual(page, render(report))
        XCTAssertEqual(page, render(SampleReports.realistic()))
        // A report that went through JSON renders the same.
        let decoded = try JSONDecoder().decode(RunReport.self, from: JSONEncoder().encode(report))
        XCTAssertEqual(decoded, report)
        XCTAssertEqual(render(decoded), page)
    }

    func testNoExternalReference() {
        // Without URLs in the data, no scheme or protocol-relative reference appears at all.
        let offline = render(SampleReports.realistic(sourcesAreURLs: false))
        for needle in ["http:", "https:", "src=\"//", "href=\"//", "url(", "@import", "<link", "<script", "<iframe", "<object"] {
            XCTAssertFalse(offline.contains(needle), needle)
        }
        // With URL sources, the URLs are text only: every src is a data URI, every href an anchor.
        let report = SampleReports.realistic(sourcesAreURLs: true)
        let page = render(report)
        XCTAssertTrue(page.contains("https://images.example.org/photos/0/full.jpg?w=1024&amp;sig=a1b2"))
        for attribute in ["src=\"", "href=\"", "xlink:href=\"", "action=\""] {
            for piece in page.components(separatedBy: attribute).dropFirst() {
                let target = piece.prefix(while: { $0 != "\"" })
                if attribute == "src=\"" {
                    XCTAssertTrue(target.hasPrefix("data:image/"), "src=\(target.prefix(40))")
                } else {
                    XCTAssertTrue(target.hasPrefix("#"), "\(attribute)\(target.prefix(40))")
                }
            }
        }
        let external = page.components(separatedBy: "https:").count - 1
        XCTAssertEqual(external, 12 + report.candidates.count, "URLs outside the sample and candidate sources")
    }

    /// Texts left out as duplicates have their own column; they are not counted as kept.
    func testTextsTableHasDuplicatesAndAHumanRow() {
        var report = RunReport(title: "t", dataset: "d", runID: "r", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p")
        report.texts = [OriginCounts(origin: .web, total: 10, kept: 5, dropped: 3, duplicates: 2),
                        OriginCounts(origin: .human, total: 4, kept: 3, dropped: 0, duplicates: 1)]
        let page = render(report)
        XCTAssertTrue(page.contains("<th scope=\"col\" class=\"num\">Duplicates</th>"))
        XCTAssertTrue(page.contains("<span class=\"badge web\">web</span><div class=\"bar\" aria-hidden=\"true\"><span class=\"kept\" style=\"width:50.00%\"></span><span class=\"dropped\" style=\"width:30.00%\"></span><span class=\"duplicates\" style=\"width:20.00%\"></span></div></th><td class=\"num\">10</td><td class=\"num\">5</td><td class=\"num\">3</td><td class=\"num\">2</td><td class=\"num\">30.0%</td>"), page)
        XCTAssertTrue(page.contains("<span class=\"badge human\">human</span>"))
        // Reports saved before the column read back with none.
        let old = #"{"origin":"web","total":4,"kept":3,"dropped":1}"#
        XCTAssertEqual(try JSONDecoder().decode(OriginCounts.self, from: Data(old.utf8)),
                       OriginCounts(origin: .web, total: 4, kept: 3, dropped: 1, duplicates: 0))
    }

    /// The page title names the dataset once, however the title is written.
    func testDocumentTitleDoesNotRepeatTheDataset() {
        let named = render(RunReport(title: "capfilt: cc3m", dataset: "cc3m", runID: "7", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p"))
        XCTAssertTrue(named.contains("<title>capfilt: cc3m · run 7</title>"), named)
        let plain = render(RunReport(title: "Nightly", dataset: "cc3m", runID: "7", startedAt: Date(timeIntervalSince1970: 0), pipelineFile: "p"))
        XCTAssertTrue(plain.contains("<title>Nightly · cc3m · run 7</title>"), plain)
    }

    func testNumbersAreText() {
        let page = render(SampleReports.realistic())
        let report = SampleReports.realistic()
        let web = report.texts[0]
        XCTAssertTrue(page.contains("<td class=\"num\">\(Format.count(web.total))</td><td class=\"num\">\(Format.count(web.kept))</td><td class=\"num\">\(Format.count(web.dropped))</td><td class=\"num\">\(Format.count(web.duplicates))</td><td class=\"num\">\(Format.percent(web.noiseRatio))</td>"))
        XCTAssertTrue(page.contains("<td class=\"num\">48,112</td><td class=\"num\">0</td><td class=\"num\">1,888</td><td class=\"num\">31 min 55 s</td>"))
        XCTAssertTrue(page.contains("http_404 <b>1,203</b>"))
        XCTAssertTrue(page.contains("<th scope=\"row\">BLEU-4</th><td class=\"num\">0.3521</td>"))
        XCTAssertTrue(page.contains("<td class=\"num\">n/a</td><td>not computed in this run</td>"))
        XCTAssertTrue(page.contains("<dt>Started</dt><dd>2025-03-14 09:26:53 UTC</dd>"))
        XCTAssertTrue(page.contains("<dt>Duration</dt><dd>2 h 03 min</dd>"))
        // Every histogram count is in its table, ten bins a row.
        for histogram in report.histograms {
            let cells = histogram.counts.enumerated().map { i, c in
                let below = histogram.edge(i + 1) <= histogram.threshold! && i + 1 < histogram.binCount
                return below ? "<td class=\"below\">\(Format.count(c))</td>" : "<td>\(Format.count(c))</td>"
            }
            for start in stride(from: 0, to: cells.count, by: 10) {
                XCTAssertTrue(page.contains("<tr><th scope=\"row\">count</th>" + cells[start..<(start + 10)].joined() + "</tr>"))
            }
        }
    }

    func testThumbnailsAreDataURIs() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]
        let webp: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)
        XCTAssertEqual(dataURI(SampleReports.tinyJPEG), "data:image/jpeg;base64," + Data(SampleReports.tinyJPEG).base64EncodedString())
        XCTAssertTrue(dataURI(png).hasPrefix("data:image/png;base64,iVBORw0KGgo"))
        XCTAssertTrue(dataURI(webp).hasPrefix("data:image/webp;base64,"))
        var report = SampleReports.realistic(sampleCount: 3)
        report.samples[1].thumbnail = nil
        let page = render(report)
        XCTAssertEqual(page.components(separatedBy: "src=\"data:image/jpeg;base64,").count - 1,
                       2 + report.candidates.filter { $0.thumbnail != nil }.count, "two sample cards and the candidates")
        XCTAssertTrue(page.contains("<div class=\"thumb nothumb\">no thumbnail</div>"))
    }

    func testDecisionsAndOrigins() {
        let page = render(SampleReports.realistic())
        XCTAssertTrue(page.contains("<tr class=\"dropped\"><td class=\"text\"><span class=\"badge web\">web</span> <span class=\"caption\">IMG_20190612_104512.jpg</span><span class=\"reason\">itm 0.03 &lt; 0.5</span></td><td class=\"num\">0.030</td>"))
        XCTAssertTrue(page.contains("<tr class=\"pending\"><td class=\"text\"><span class=\"badge synthetic\">synthetic</span> <span class=\"caption\">a shoe</span></td><td class=\"num\">–</td><td class=\"num\">–</td><td><span class=\"decision pending\">pending</span></td></tr>"))
        XCTAssertTrue(page.contains("<span class=\"badge human\">human</span>"))
    }

    func testFormatting() {
        XCTAssertEqual(Format.count(0), "0")
        XCTAssertEqual(Format.count(999), "999")
        XCTAssertEqual(Format.count(1_000), "1,000")
        XCTAssertEqual(Format.count(-1_234_567), "-1,234,567")
        XCTAssertEqual(Format.percent(nil), "–")
        XCTAssertEqual(Format.percent(0.4237), "42.4%")
        XCTAssertEqual(Format.fixed(-0.0001, 3), "0.000")
        XCTAssertEqual(Format.duration(7.25), "7.2 s")
        XCTAssertEqual(Format.duration(125), "2 min 05 s")
        XCTAssertEqual(Format.duration(7_384), "2 h 03 min")
        XCTAssertEqual(Format.date(Date(timeIntervalSince1970: 0)), "1970-01-01 00:00:00 UTC")
        XCTAssertEqual(Format.date(Date(timeIntervalSince1970: 951_825_600)), "2000-02-29 12:00:00 UTC")
        XCTAssertEqual(OriginCounts(origin: .web, total: 0, kept: 0, dropped: 0).noiseRatio, nil)
        XCTAssertEqual(OriginCounts(origin: .web, total: 4, kept: 3, dropped: 1).noiseRatio, 0.25)
    }
}
