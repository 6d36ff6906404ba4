import Foundation

/// Renders a run report as one self-contained HTML page: inline CSS, inline SVG charts, images
/// as data: URIs, no script and no external reference, so it opens from disk and offline.
/// The output depends only on `report`: the same report gives the same bytes.
public func render(_ report: RunReport) -> String {
    var page = HTMLPage()
    page.document(report)
    return page.html
}

/// Section anchors, in page order.
public enum ReportSection: String, CaseIterable, Sendable {
    case overview, stages, texts, scores, contamination, evaluation, candidates, samples

    public var heading: String {
        switch self {
        case .overview: "Overview"
        case .stages: "Stages"
        case .texts: "Texts by origin"
        case .scores: "ITM scores"
        case .contamination: "Decontamination"
        case .evaluation: "Evaluation"
        case .candidates: "Best-of-N captions"
        case .samples: "Samples"
        }
    }

    /// The sections `report` shows: best-of-N candidates only when a sample had several
    /// synthetic captions.
    public static func shown(in report: RunReport) -> [ReportSection] {
        allCases.filter { $0 != .candidates || !report.candidates.isEmpty }
    }
}

/// Accumulates the page; `e` escapes text for content and attributes alike.
struct HTMLPage {
    var html = ""

    mutating func add(_ s: String) { html += s; html += "\n" }

    func e(_ s: String) -> String { htmlEscape(s) }

    mutating func document(_ report: RunReport) {
        add("<!DOCTYPE html>")
        add("<html lang=\"en\">")
        add("<head>")
        add("<meta charset=\"utf-8\">")
        add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        add("<meta name=\"generator\" content=\"capfilt\">")
        add("<title>\(e(documentTitle(report)))</title>")
        add("<style>\n\(reportStylesheet)</style>")
        add("</head>")
        add("<body>")
        header(report)
        add("<main>")
        overview(report)
        stages(report.stages)
        texts(report.texts)
        scores(report.histograms)
        contamination(report.contamination)
        evaluation(report.evaluation)
        if !report.candidates.isEmpty { candidates(report.candidates) }
        samples(report.samples)
        add("</main>")
        add("<footer>capfilt run report · run <span class=\"mono\">\(e(report.runID))</span> · \(e(report.dataset))</footer>")
        add("</body>")
        add("</html>")
    }

    /// The page's `<title>`: the report's title, the dataset unless the title names it already,
    /// and the run.
    func documentTitle(_ report: RunReport) -> String {
        var parts = [report.title]
        if report.dataset.isEmpty || !report.title.contains(report.dataset) { parts.append(report.dataset) }
        parts.append("run \(report.runID)")
        return parts.joined(separator: " · ")
    }

    mutating func header(_ report: RunReport) {
        add("<header>")
        add("<h1>\(e(report.title))</h1>")
        add("<dl class=\"meta\">")
        let duration = report.finishedAt.map { Format.duration($0.timeIntervalSince(report.startedAt)) } ?? "running"
        let fields: [(String, String)] = [
            ("Dataset", e(report.dataset)),
            ("Run", "<span class=\"mono\">\(e(report.runID))</span>"),
            ("Pipeline", "<span class=\"mono\">\(e(report.pipelineFile))</span>"),
            ("Started", e(Format.date(report.startedAt))),
            ("Finished", report.finishedAt.map { e(Format.date($0)) } ?? "not finished"),
            ("Duration", e(duration)),
        ]
        for (label, value) in fields { add("<dt>\(label)</dt><dd>\(value)</dd>") }
        add("</dl>")
        add("<nav aria-label=\"Sections\">")
        for section in ReportSection.shown(in: report) { add("<a href=\"#\(section.rawValue)\">\(section.heading)</a>") }
        add("</nav>")
        if !report.notes.isEmpty {
            add("<ul class=\"notes\">")
            for note in report.notes { add("<li>\(e(note))</li>") }
            add("</ul>")
        }
        add("</header>")
    }

    mutating func sectionStart(_ section: ReportSection) {
        add("<section id=\"\(section.rawValue)\" aria-labelledby=\"\(section.rawValue)-h\">")
        add("<h2 id=\"\(section.rawValue)-h\">\(section.heading)</h2>")
    }

    mutating func overview(_ report: RunReport) {
        sectionStart(.overview)
        let total = report.texts.reduce(0) { $0 + $1.total }
        let kept = report.texts.reduce(0) { $0 + $1.kept }
        let dropped = report.texts.reduce(0) { $0 + $1.dropped }
        var tiles: [(String, String)] = [
            (Format.count(total), "texts"),
            (Format.count(kept), "kept"),
            (Format.count(dropped), "dropped"),
        ]
        for counts in report.texts where counts.origin != .human {
            tiles.append((Format.percent(counts.noiseRatio), "\(counts.origin.rawValue) noise ratio"))
        }
        let failed = report.stages.reduce(0) { $0 + $1.failed }
        tiles.append((Format.count(failed), "failed items (all stages)"))
        add("<div class=\"tiles\">")
        for (value, label) in tiles {
            add("<div class=\"tile\"><div class=\"value\">\(e(value))</div><div class=\"label\">\(e(label))</div></div>")
        }
        add("</div>")
        add("</section>")
    }

    /// A stacked bar of parts of a whole; decorative (the numbers are in the table).
    func bar(_ parts: [(String, Int)]) -> String {
        let whole = parts.reduce(0) { $0 + $1.1 }
        guard whole > 0 else { return "<div class=\"bar\" aria-hidden=\"true\"></div>" }
        var s = "<div class=\"bar\" aria-hidden=\"true\">"
        for (name, value) in parts where value > 0 {
            s += "<span class=\"\(name)\" style=\"width:\(Format.fixed(100 * Double(value) / Double(whole), 2))%\"></span>"
        }
        return s + "</div>"
    }

    mutating func stages(_ stages: [StageSummary]) {
        sectionStart(.stages)
        if stages.isEmpty {
            add("<p class=\"empty\">No stage has run.</p>")
        } else {
            add("<table class=\"data\">")
            add("<thead><tr><th scope=\"col\">Stage</th><th scope=\"col\" class=\"num\">Done</th><th scope=\"col\" class=\"num\">Pending</th><th scope=\"col\" class=\"num\">Failed</th><th scope=\"col\" class=\"num\">Time</th><th scope=\"col\">By status</th></tr></thead>")
            add("<tbody>")
            for row in stages {
                let chips = row.statusCounts.isEmpty
                    ? "<span class=\"empty\">–</span>"
                    : "<div class=\"chips\">" + row.statusCounts.map { "<span class=\"chip\">\(e($0.status)) <b>\(Format.count($0.count))</b></span>" }.joined(separator: " ") + "</div>"
                let progress = bar([("done", row.done), ("pending", row.pending), ("failed", row.failed)])
                add("<tr><th scope=\"row\">\(e(row.stage))\(progress)</th><td class=\"num\">\(Format.count(row.done))</td><td class=\"num\">\(Format.count(row.pending))</td><td class=\"num\">\(Format.count(row.failed))</td><td class=\"num\">\(e(Format.duration(row.seconds)))</td><td>\(chips)</td></tr>")
            }
            add("</tbody>")
            add("</table>")
        }
        add("</section>")
    }

    mutating func texts(_ texts: [OriginCounts]) {
        sectionStart(.texts)
        if texts.isEmpty {
            add("<p class=\"empty\">No texts counted.</p>")
        } else {
            add("<table class=\"data\">")
            add("<thead><tr><th scope=\"col\">Origin</th><th scope=\"col\" class=\"num\">Total</th><th scope=\"col\" class=\"num\">Kept</th><th scope=\"col\" class=\"num\">Dropped</th><th scope=\"col\" class=\"num\">Duplicates</th><th scope=\"col\" class=\"num\">Noise ratio (dropped / total)</th></tr></thead>")
            add("<tbody>")
            for row in texts {
                let origin = row.origin.rawValue
                let progress = bar([("kept", row.kept), ("dropped", row.dropped), ("duplicates", row.duplicates)])
                add("<tr><th scope=\"row\"><span class=\"badge \(origin)\">\(origin)</span>\(progress)</th><td class=\"num\">\(Format.count(row.total))</td><td class=\"num\">\(Format.count(row.kept))</td><td class=\"num\">\(Format.count(row.dropped))</td><td class=\"num\">\(Format.count(row.duplicates))</td><td class=\"num\">\(Format.percent(row.noiseRatio))</td></tr>")
            }
            add("</tbody>")
            add("</table>")
        }
        add("</section>")
    }

    mutating func scores(_ histograms: [ScoreHistogram]) {
        sectionStart(.scores)
        if histograms.isEmpty {
            add("<p class=\"empty\">No scores recorded.</p>")
        } else {
            add("<div class=\"charts\">")
            for (i, histogram) in histograms.enumerated() { self.histogram(histogram, id: "hist\(i)") }
            add("</div>")
        }
        add("</section>")
    }

    mutating func evaluation(_ metrics: [EvaluationMetric]) {
        sectionStart(.evaluation)
        if metrics.isEmpty {
            add("<p class=\"empty\">No evaluation in this run.</p>")
        } else {
            add("<table class=\"data\">")
            add("<thead><tr><th scope=\"col\">Metric</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\">Meaning</th></tr></thead>")
            add("<tbody>")
            for metric in metrics {
                add("<tr><th scope=\"row\">\(e(metric.name))</th><td class=\"num\">\(Format.metric(metric.value))</td><td>\(e(metric.description ?? ""))</td></tr>")
            }
            add("</tbody>")
            add("</table>")
        }
        add("</section>")
    }
}
