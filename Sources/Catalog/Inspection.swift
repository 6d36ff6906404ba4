import GRDB

// What was dropped, what failed and why, and the counts `capfilt status`, `capfilt inspect` and
// the report all show. Every count of the three comes from the queries in this file (and
// `counts(stage:fingerprint:requires:)`), so the three agree.

/// A web or synthetic text the filter dropped, with the threshold it was held to.
public struct DroppedText: Sendable, Equatable {
    public var sampleID: Int64
    public var source: String
    public var key: String
    public var origin: String
    public var text: String
    public var itmProbability: Double?
    public var itcSimilarity: Double?
    /// The threshold the filter decided with (`filter_thresholds`); nil for decisions made
    /// before thresholds were recorded.
    public var threshold: Double?
    public var reason: String
    /// Synthetic captions: their place among the sample's synthetic captions.
    public var rank: TextRank?
}

/// A sample that ended a per-sample stage with a status other than ok.
public struct SampleFailure: Sendable, Equatable {
    public var sampleID: Int64
    public var source: String
    public var key: String
    public var status: SampleStatus
    /// The error the stage recorded with the status.
    public var error: String?
    /// The sample's URL, or its local path.
    public var location: String?
}

/// A duplicate sample with the sample kept in its place.
public struct DuplicateSample: Sendable, Equatable {
    public var sampleID: Int64
    public var source: String
    public var key: String
    /// exact, near or url.
    public var kind: String
    /// The kept sample, "source/key" (it may live in another shard's catalog).
    public var kept: String
    public var distance: Int
}

/// A malformed manifest row, with the source it was read for.
public struct ManifestProblemRecord: Sendable, Equatable {
    public var source: String
    public var file: String
    /// 1-based line of the file where the row starts, as `capfilt ingest` reports it (text and
    /// JSON manifests; nil for Parquet).
    public var line: Int?
    /// The reader's 0-based index of the row, as `capfilt ingest` prints it as `record`
    /// (nil for problems recorded before the catalog kept it).
    public var record: Int?
    public var rowGroup: Int?
    public var reason: String
    public var excerpt: String?
}

/// How many texts of one origin there are and what became of them.
public struct OriginTextCounts: Sendable, Equatable, Codable {
    /// Every text of the origin (synthetic ones: of the current caption stage).
    public var total: Int
    /// In the bootstrapped set: kept by the filter (human texts: their sample passed it) and not
    /// left out as a duplicate.
    public var kept: Int
    /// Dropped by the filter.
    public var dropped: Int
    /// Kept by the filter but left out by dedup: a duplicate sample or a repeated text.
    public var duplicates: Int

    public init(total: Int = 0, kept: Int = 0, dropped: Int = 0, duplicates: Int = 0) {
        self.total = total; self.kept = kept; self.dropped = dropped; self.duplicates = duplicates
    }

    /// Not judged: the filter has not reached them, or their image failed a stage before it.
    public var unjudged: Int { max(0, total - kept - dropped - duplicates) }

    public static func + (a: OriginTextCounts, b: OriginTextCounts) -> OriginTextCounts {
        OriginTextCounts(total: a.total + b.total, kept: a.kept + b.kept, dropped: a.dropped + b.dropped,
                         duplicates: a.duplicates + b.duplicates)
    }
}

/// One (status, reason) of a stage's failures and how many samples ended with it.
public struct FailureReasonCount: Sendable, Equatable, Codable {
    public var status: SampleStatus
    public var reason: String?
    public var count: Int
    public init(status: SampleStatus, reason: String?, count: Int) {
        self.status = status; self.reason = reason; self.count = count
    }
}

extension StageCounts {
    /// Finished with status ok.
    public var ok: Int { byStatus[.ok] ?? 0 }
}

extension CatalogSession {
    /// The texts the filter with `filter.fingerprint` dropped, among the samples that passed it
    /// (synthetic ones: of `syntheticFingerprint`), in (sample, origin, position) order.
    public func droppedTexts(filter: StageRequirement, syntheticFingerprint: String?) throws -> [DroppedText] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, src.name AS source, s.key, t.origin, t.text, dc.itm_probability, dc.itc_similarity,
                   dc.reason, ft.threshold, dc.rank, dc.rank_score, dc.rank_by
            FROM decisions dc
            JOIN texts t ON t.id = dc.text_id
            JOIN samples s ON s.id = t.sample_id
            JOIN sources src ON src.id = s.source_id
            JOIN progress p ON p.sample_id = s.id AND p.stage = ? AND p.fingerprint = ? AND p.status = 'ok'
                AND \(currentImage("p"))
            LEFT JOIN filter_thresholds ft ON ft.fingerprint = dc.fingerprint
            WHERE dc.fingerprint = ? AND dc.kept = 0 AND (t.origin != 'synthetic' OR t.fingerprint = ?)
            ORDER BY s.id, t.origin, t.position
            """, arguments: [filter.stage, filter.fingerprint, filter.fingerprint, syntheticFingerprint]).map {
            DroppedText(sampleID: $0["id"], source: $0["source"], key: $0["key"], origin: $0["origin"], text: $0["text"],
                        itmProbability: $0["itm_probability"], itcSimilarity: $0["itc_similarity"],
                        threshold: $0["threshold"], reason: $0["reason"], rank: TextRank(row: $0))
        }
    }

    /// The samples whose current outcome (`fingerprint`) in `stage` is not ok, in sample order.
    public func failures(stage: String, fingerprint: String) throws -> [SampleFailure] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, src.name AS source, s.key, p.status, p.reason, coalesce(s.url, s.local_path) AS location
            FROM progress p
            JOIN samples s ON s.id = p.sample_id
            JOIN sources src ON src.id = s.source_id
            WHERE p.stage = ? AND p.fingerprint = ? AND p.status != 'ok' AND \(currentImage("p"))
            ORDER BY s.id
            """, arguments: [stage, fingerprint]).map {
            SampleFailure(sampleID: $0["id"], source: $0["source"], key: $0["key"], status: $0["status"],
                          error: $0["reason"], location: $0["location"])
        }
    }

    /// A stage's failures counted by (status, reason), the most frequent first.
    public func failureReasons(stage: String, fingerprint: String) throws -> [FailureReasonCount] {
        try Row.fetchAll(db, sql: """
            SELECT p.status, p.reason, count(*) AS n FROM progress p JOIN samples s ON s.id = p.sample_id
            WHERE p.stage = ? AND p.fingerprint = ? AND p.status != 'ok' AND \(currentImage("p"))
            GROUP BY p.status, p.reason ORDER BY n DESC, p.status, p.reason
            """, arguments: [stage, fingerprint]).map {
            FailureReasonCount(status: $0["status"], reason: $0["reason"], count: $0["n"])
        }
    }

    /// The duplicate samples dedup left out, with the sample kept in their place, in sample order.
    public func duplicateSamples() throws -> [DuplicateSample] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, src.name AS source, s.key, d.kind, d.representative, d.distance
            FROM duplicates d
            JOIN samples s ON s.id = d.sample_id
            JOIN sources src ON src.id = s.source_id
            ORDER BY s.id
            """).map {
            DuplicateSample(sampleID: $0["id"], source: $0["source"], key: $0["key"], kind: $0["kind"],
                            kept: $0["representative"], distance: $0["distance"])
        }
    }

    /// The malformed manifest rows, per source in file order, numbered as `capfilt ingest`
    /// numbers them: the 1-based line and the reader's 0-based record.
    public func manifestProblems() throws -> [ManifestProblemRecord] {
        try Row.fetchAll(db, sql: """
            SELECT src.name AS source, mp.file, mp.line, mp.row_index, mp.row_group, mp.reason, mp.excerpt
            FROM manifest_problems mp JOIN sources src ON src.id = mp.source_id
            ORDER BY mp.source_id, mp.record
            """).map {
            ManifestProblemRecord(source: $0["source"], file: $0["file"], line: $0["line"], record: $0["row_index"],
                                  rowGroup: $0["row_group"], reason: $0["reason"], excerpt: $0["excerpt"])
        }
    }

    /// Texts per origin ("human", "web", "synthetic") and what became of them: kept (in the
    /// bootstrapped set: judged by `filter`, kept, and not a duplicate), dropped by the filter,
    /// or left out as duplicates. Human texts are never judged: they are kept when their sample
    /// passed the filter. Synthetic texts are those of `syntheticFingerprint`. A caption any of
    /// `gates` dropped counts as dropped, whatever its origin (assemble leaves it out).
    public func textCounts(filter: StageRequirement, syntheticFingerprint: String?,
                           gates: [StageRequirement] = []) throws -> [TextOrigin: OriginTextCounts] {
        var out: [TextOrigin: OriginTextCounts] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT origin, count(*) AS total,
                   coalesce(sum(judged_kept AND NOT gated AND NOT duplicate), 0) AS kept,
                   coalesce(sum(judged_dropped OR (p_ok AND gated)), 0) AS dropped,
                   coalesce(sum(judged_kept AND NOT gated AND duplicate), 0) AS duplicates
            FROM (
                SELECT t.origin,
                       NOT (\(notGated("t", gates))) AS gated,
                       p.sample_id IS NOT NULL AS p_ok,
                       p.sample_id IS NOT NULL AND (t.origin = 'human' OR dc.kept = 1) AS judged_kept,
                       p.sample_id IS NOT NULL AND t.origin != 'human' AND dc.kept = 0 AS judged_dropped,
                       d.sample_id IS NOT NULL OR dt.text_id IS NOT NULL AS duplicate
                FROM texts t
                JOIN samples s ON s.id = t.sample_id
                LEFT JOIN progress p ON p.sample_id = t.sample_id AND p.stage = ? AND p.fingerprint = ? AND p.status = 'ok'
                    AND \(currentImage("p"))
                LEFT JOIN decisions dc ON dc.text_id = t.id AND dc.fingerprint = ?
                LEFT JOIN duplicates d ON d.sample_id = t.sample_id
                LEFT JOIN duplicate_texts dt ON dt.text_id = t.id
                WHERE t.origin != 'synthetic' OR t.fingerprint = ?
            )
            GROUP BY origin
            """, arguments: gateArguments(gates) + [filter.stage, filter.fingerprint, filter.fingerprint, syntheticFingerprint]) {
            guard let origin = TextOrigin(rawValue: row["origin"]) else { continue }
            out[origin] = OriginTextCounts(total: row["total"], kept: row["kept"], dropped: row["dropped"],
                                                  duplicates: row["duplicates"])
        }
        return out
    }
}
