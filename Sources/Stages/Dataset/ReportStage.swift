import Catalog
import Decontamination
import Foundation
import Imaging
import Ingest
import Pipeline
import Report

/// Writes the run's self-contained HTML page (`<workdir>/report/report.html`, and one per run):
/// counts per stage and status, the noise ratio of web and synthetic texts, ITM histograms with
/// the threshold, the best-of-N candidates of a few images when samples have several synthetic
/// captions, and a grid of samples with their texts, scores and decisions.
final class ReportStage: DatasetStage {
    let gridSize: Int
    let title: String?

    /// The stage's parameters, each declared once.
    enum Keys {
        static let samples = StageParameter("samples", .int(0...10_000), default: 48, help: "images in the sample grid")
        static let title = StageParameter<String?>.optional("title", .string, help: "page title (default: the dataset name)")

        static let all = [samples.spec, title.spec]
    }

    static let type = StageType(
        name: "report", kind: .wholeDataset, summary: "A self-contained HTML report of the run.",
        parameters: Keys.all,
        // 2: the contamination table lists every method (residual matches were left out).
        revision: 2,
        make: { setup in ReportStage(setup.parameters) })

    init(_ p: StageParameters) {
        gridSize = p[Keys.samples]
        title = p[Keys.title]
    }

    func run(_ context: DatasetContext) throws -> String {
        let pipeline = context.pipeline
        let fingerprints = Dictionary(uniqueKeysWithValues: context.allUpstream.map { ($0.name, $0.fingerprint) })
        // Stage and text counts over all shards: the numbers `capfilt status` shows.
        let counts = try DatasetCounts.count(pipeline: pipeline, fingerprints: fingerprints,
                                             catalogs: context.catalogs.map { Optional($0) })
        let stages: [StageSummary] = counts.stages.map { s in
            let seconds: Double = context.runLog.filter { $0.stage == s.name }.map(\.seconds).reduce(0, +)
            let sorted = s.byStatus.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }
            return StageSummary(stage: s.name, done: s.done, pending: s.pending, failed: s.failed,
                                statusCounts: sorted.map { StatusCount($0.key.rawValue, $0.value) },
                                seconds: seconds > 0 ? seconds : nil)
        }

        var texts: [OriginCounts] = []
        var histograms: [ScoreHistogram] = []
        var grid: [SampleItem] = []
        var candidates: [SampleItem] = []
        var threshold: Double?
        if let filter = context.upstream(type: "filter") {
            let synthetic = context.upstream(type: "caption")?.fingerprint
            var scores: [TextOrigin: [Double]] = [:]
            for c in context.catalogs {
                if threshold == nil { threshold = try c.read { try $0.filterThreshold(fingerprint: filter.fingerprint) }?.value }
                for d in try c.read({ try $0.decisionScores(fingerprint: filter.fingerprint) }) {
                    if let itm = d.itm { scores[d.origin, default: []].append(itm) }
                }
            }
            grid = try sampleItems(context, limit: gridSize) { session, limit in
                try session.judgedSamples(fingerprint: filter.fingerprint, syntheticFingerprint: synthetic, limit: limit)
            }
            // Best-of-N: a few images whose synthetic captions the filter ranked against each other.
            candidates = try sampleItems(context, limit: Self.candidateImages) { session, limit in
                try session.captionCandidates(fingerprint: filter.fingerprint, syntheticFingerprint: synthetic, limit: limit)
            }
            // Kept: in the bootstrapped set; duplicates (kept by the filter, left out by dedup) apart.
            for origin in TextOrigin.allCases {
                guard let n = counts.texts(origin) else { continue }
                texts.append(OriginCounts(origin: origin, total: n.total, kept: n.kept, dropped: n.dropped,
                                          duplicates: n.duplicates))
            }
            for origin in [TextOrigin.web, .synthetic] {
                histograms.append(ScoreHistogram(title: "ITM match probability, \(origin.rawValue) texts", origin: origin,
                                                 scores: scores[origin] ?? [], threshold: threshold))
            }
        }
        var notes: [String] = []
        for c in context.catalogs {
            if let state = try c.read({ try $0.stageState("dedup") }) { notes.append("dedup: \(state.summary)"); break }
        }
        for c in context.catalogs {
            if let state = try c.read({ try $0.stageState("assemble") }) { notes.append("assembled set: \(state.summary)"); break }
        }
        // Malformed manifest rows, numbered as `capfilt ingest` numbers them (1-based lines).
        var problems: [ManifestProblemRecord] = []
        for c in context.catalogs { problems += try c.read { try $0.manifestProblems() } }
        if !problems.isEmpty {
            notes.append("manifest problems: \(problems.count)" + (problems.count > Self.listedProblems
                ? " (the first \(Self.listedProblems) below; `capfilt inspect \(pipeline.file) problems` lists them all)" : ""))
            for p in problems.prefix(Self.listedProblems) {
                notes.append(ManifestProblem(file: p.file, line: p.line, record: p.record, rowGroup: p.rowGroup,
                                             reason: p.reason).description)
            }
        }
        let contamination = try contaminationSummary(context)
        // The whole invocation (`capfilt run`, `capfilt demo`), not just its last phase.
        let started = context.runStartedAt
        let report = RunReport(
            title: title ?? "capfilt: \(pipeline.dataset)", dataset: pipeline.dataset, runID: String(context.runID),
            startedAt: started, finishedAt: Date(), pipelineFile: pipeline.file, stages: stages, texts: texts,
            histograms: histograms,
            evaluation: context.upstream(type: "evaluate") == nil ? [] : EvaluationFiles.readMetrics(workdir: context.workspace.root),
            samples: grid, candidates: candidates, notes: notes, contamination: contamination)
        let folder = context.workspace.reportFolder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = try ReportWriter.write(report, to: URL(fileURLWithPath: folder + "/report.html"))
        try? FileManager.default.removeItem(atPath: folder + "/report-run\(context.runID).html")
        try? FileManager.default.copyItem(atPath: folder + "/report.html", toPath: folder + "/report-run\(context.runID).html")
        context.logger.info("report: \(folder)/report.html")
        return "{\"path\":\"report/report.html\",\"samples\":\(grid.count)}"
    }

    /// What the decontaminate stages upstream removed: counts per evaluation set and method
    /// over every shard, and the first `contaminationExamples` samples with thumbnails.
    private func contaminationSummary(_ context: DatasetContext) throws -> ContaminationSummary? {
        let stages = context.allUpstream.filter { $0.type == "decontaminate" }
        guard !stages.isEmpty else { return nil }
        var counts: [String: [String: Int]] = [:]
        var order: [String] = []
        var examples: [ContaminationSummary.Example] = []
        for c in context.catalogs {
            for stage in stages {
                for found in try c.read({ try $0.contaminatedSamples(stage: stage.name, fingerprint: stage.fingerprint) }) {
                    let r = found.record
                    if counts[r.evalSet] == nil { order.append(r.evalSet) }
                    counts[r.evalSet, default: [:]][r.method, default: 0] += 1
                    if examples.count < Self.contaminationExamples {
                        examples.append(.init(key: found.source + "/" + found.key,
                                              thumbnail: found.image.flatMap { Self.thumbnail(path: $0.resizedPath ?? $0.blobPath) },
                                              evalSet: r.evalSet, evalImage: r.evalImage, method: r.method, distance: r.distance))
                    }
                }
            }
        }
        // Every method in the matchers' order; a method this build does not know (a newer catalog) last.
        let known = ContaminationMethod.allCases.map(\.rawValue)
        let methods = known + Set(counts.values.flatMap(\.keys)).subtracting(known).sorted()
        return ContaminationSummary(
            counts: order.flatMap { set in
                methods.compactMap { m in counts[set]?[m].map { ContaminationSummary.Count(evalSet: set, method: m, count: $0) } }
            },
            examples: examples)
    }

    /// Removed samples the report shows with their match.
    static let contaminationExamples = 24

    /// Manifest problems listed in the report's notes.
    static let listedProblems = 5

    /// Images shown with their best-of-N candidates.
    static let candidateImages = 6

    /// Up to `limit` samples over the shards in shard order, each with its texts, as report cards;
    /// `fetch` asks one shard's catalog for at most the number still wanted.
    private func sampleItems(_ context: DatasetContext, limit: Int,
                             _ fetch: (CatalogSession, Int) throws -> [(SampleRecord, [JudgedText])]) throws -> [SampleItem] {
        var items: [SampleItem] = []
        for c in context.catalogs where items.count < limit {
            for (sample, texts) in try c.read({ try fetch($0, limit - items.count) }) {
                items.append(SampleItem(key: sample.source + "/" + sample.key, source: sample.source,
                                        thumbnail: try thumbnail(sample, catalog: c), texts: texts.map(Self.sampleText)))
            }
        }
        return items
    }

    static func sampleText(_ t: JudgedText) -> SampleText {
        SampleText(origin: t.origin, text: t.text, itm: t.itmProbability, itc: t.itcSimilarity,
                   decision: t.kept.map { $0 ? .kept : .dropped }, reason: t.reason,
                   rank: t.rank?.position, rankScore: t.rank?.score, rankBy: t.rank?.by)
    }

    /// The sample's thumbnail for the page, from its resized copy when decode kept one.
    private func thumbnail(_ sample: SampleRecord, catalog: Catalog) throws -> [UInt8]? {
        let image = try catalog.read { s in try sample.imageSHA256.flatMap { try s.image(sha256: $0) } }
        return image.flatMap { Self.thumbnail(path: $0.resizedPath ?? $0.blobPath) }
    }

    /// A small JPEG of the image for the grid (longest side 160 px), or nil if it cannot be read.
    static func thumbnail(path: String) -> [UInt8]? {
        guard let image = try? ImageDecoder.decode(contentsOf: path) else { return nil }
        let small = ExportResizer(imageSize: 160, mode: .keepRatio)(image)
        return try? ImageEncoder.jpeg(small, quality: 80)
    }
}
