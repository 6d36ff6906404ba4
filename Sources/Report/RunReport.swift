import Catalog
import Foundation

/// Everything one run's HTML report shows. The pipeline fills it in; `render(_:)` turns it into
/// a single self-contained page. Arrays keep the order they are given in, so the page is stable
/// for the same input.
public struct RunReport: Sendable, Codable, Equatable {
    public var title: String
    public var dataset: String
    public var runID: String
    public var startedAt: Date
    /// nil while the run is still going.
    public var finishedAt: Date?
    /// The pipeline definition the run used, as given on the command line.
    public var pipelineFile: String
    public var stages: [StageSummary]
    /// Text counts per origin (web, synthetic, human), from which the noise ratios are shown.
    public var texts: [OriginCounts]
    /// Score histograms, usually the ITM probability of web texts and of synthetic texts.
    public var histograms: [ScoreHistogram]
    /// Optional evaluation metrics (filter precision / recall, BLEU-4, CIDEr, R@1, ...).
    public var evaluation: [EvaluationMetric]
    /// What decontaminate stages removed; nil when the run has none.
    public var contamination: ContaminationSummary?
    public var samples: [SampleItem]
    /// Best-of-N: a few images with every synthetic caption the filter ranked, best first.
    /// Empty when no sample had more than one.
    public var candidates: [SampleItem]
    /// Free-form lines shown under the header (warnings, the command line, ...).
    public var notes: [String]

    public init(
        title: String, dataset: String, runID: String, startedAt: Date, finishedAt: Date? = nil,
        pipelineFile: String, stages: [StageSummary] = [], texts: [OriginCounts] = [],
        histograms: [ScoreHistogram] = [], evaluation: [EvaluationMetric] = [], samples: [SampleItem] = [],
        candidates: [SampleItem] = [], notes: [String] = [], contamination: ContaminationSummary? = nil
    ) {
        self.title = title
        self.dataset = dataset
        self.runID = runID
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.pipelineFile = pipelineFile
        self.stages = stages
        self.texts = texts
        self.histograms = histograms
        self.evaluation = evaluation
        self.samples = samples
        self.candidates = candidates
        self.notes = notes
        self.contamination = contamination
    }
}

/// One pipeline stage: how many items it has finished, has still to do and gave up on, the
/// count of every status it uses, and the time it took.
public struct StageSummary: Sendable, Codable, Equatable {
    public var stage: String
    public var done: Int
    public var pending: Int
    public var failed: Int
    /// Counts by status name (e.g. "fetched", "http_404", "too_small"), in display order.
    public var statusCounts: [StatusCount]
    /// Wall-clock seconds spent in the stage; nil if unknown.
    public var seconds: Double?

    public init(stage: String, done: Int, pending: Int, failed: Int, statusCounts: [StatusCount] = [], seconds: Double? = nil) {
        self.stage = stage
        self.done = done
        self.pending = pending
        self.failed = failed
        self.statusCounts = statusCounts
        self.seconds = seconds
    }

    public var total: Int { done + pending + failed }
}

public struct StatusCount: Sendable, Codable, Equatable {
    public var status: String
    public var count: Int

    public init(_ status: String, _ count: Int) {
        self.status = status
        self.count = count
    }
}

/// How many texts of one origin there are and what became of them: kept (in the bootstrapped
/// set), dropped by the filter, or left out as duplicates (kept by the filter, but on a duplicate
/// image or repeating another text of the image). The rest are not judged yet.
public struct OriginCounts: Sendable, Codable, Equatable {
    public var origin: TextOrigin
    /// All texts of this origin, including any not filtered yet.
    public var total: Int
    public var kept: Int
    public var dropped: Int
    /// Kept by the filter but left out of the set by dedup; not counted as kept.
    public var duplicates: Int

    public init(origin: TextOrigin, total: Int, kept: Int, dropped: Int, duplicates: Int = 0) {
        self.origin = origin
        self.total = total
        self.kept = kept
        self.dropped = dropped
        self.duplicates = duplicates
    }

    enum CodingKeys: String, CodingKey { case origin, total, kept, dropped, duplicates }

    /// Reports written before `duplicates` existed read back with none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        origin = try c.decode(TextOrigin.self, forKey: .origin)
        total = try c.decode(Int.self, forKey: .total)
        kept = try c.decode(Int.self, forKey: .kept)
        dropped = try c.decode(Int.self, forKey: .dropped)
        duplicates = try c.decodeIfPresent(Int.self, forKey: .duplicates) ?? 0
    }

    /// dropped / total: the share of texts the filter judged not to match their image.
    /// nil when there are no texts.
    public var noiseRatio: Double? { total > 0 ? Double(dropped) / Double(total) : nil }
}

/// Whether the filter kept or dropped a text.
public enum TextDecision: String, Sendable, Codable {
    case kept, dropped
}

/// A named evaluation number, e.g. "BLEU-4" = 0.312.
public struct EvaluationMetric: Sendable, Codable, Equatable {
    public var name: String
    /// nil shows as "n/a".
    public var value: Double?
    public var description: String?

    public init(name: String, value: Double?, description: String? = nil) {
        self.name = name
        self.value = value
        self.description = description
    }
}

/// One image of the sample grid with all of its texts.
public struct SampleItem: Sendable, Codable, Equatable {
    /// The sample's key in the catalog.
    public var key: String
    /// Where the image came from (URL or file); shown as text, never loaded.
    public var source: String
    /// A small encoded thumbnail (JPEG; PNG and WebP are recognised too), embedded as a data URI.
    public var thumbnail: [UInt8]?
    public var texts: [SampleText]

    public init(key: String, source: String, thumbnail: [UInt8]? = nil, texts: [SampleText] = []) {
        self.key = key
        self.source = source
        self.thumbnail = thumbnail
        self.texts = texts
    }
}

/// One text of a sample with its scores and the filter's decision.
public struct SampleText: Sendable, Codable, Equatable {
    public var origin: TextOrigin
    public var text: String
    /// ITM match probability, softmax(itm_logits)[1].
    public var itm: Double?
    /// ITC cosine similarity.
    public var itc: Double?
    /// nil when the filter has not run on it yet.
    public var decision: TextDecision?
    /// Why it was kept or dropped (e.g. "itm 0.12 < 0.30", "duplicate caption").
    public var reason: String?
    /// Synthetic captions: 1 for the best of the sample's synthetic captions by `rankBy`.
    public var rank: Int?
    /// The score the caption was ranked by.
    public var rankScore: Double?
    /// What ranked it: itm, itc or product.
    public var rankBy: String?

    public init(origin: TextOrigin, text: String, itm: Double? = nil, itc: Double? = nil, decision: TextDecision? = nil, reason: String? = nil,
                rank: Int? = nil, rankScore: Double? = nil, rankBy: String? = nil) {
        self.origin = origin
        self.text = text
        self.itm = itm
        self.itc = itc
        self.decision = decision
        self.reason = reason
        self.rank = rank
        self.rankScore = rankScore
        self.rankBy = rankBy
    }
}
