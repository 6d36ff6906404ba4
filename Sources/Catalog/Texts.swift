import GRDB

public struct TextRecord: Sendable, Equatable {
    public var id: Int64
    public var sampleID: Int64
    public var origin: TextOrigin
    public var position: Int
    public var text: String
    public var model: String?

    init(row: Row) {
        id = row["id"]; sampleID = row["sample_id"]; origin = row["origin"]; position = row["position"]
        text = row["text"]; model = row["model"]
    }
}

/// ITM and ITC of one text against its image.
public struct TextScore: Sendable, Equatable {
    public var textID: Int64
    public var itmProbability: Double
    public var itcSimilarity: Double
    public init(textID: Int64, itmProbability: Double, itcSimilarity: Double) {
        self.textID = textID; self.itmProbability = itmProbability; self.itcSimilarity = itcSimilarity
    }
}

public struct Decision: Sendable, Equatable {
    public var textID: Int64
    public var kept: Bool
    public var reason: String
    public var itmProbability: Double?
    public var itcSimilarity: Double?
    /// Synthetic captions only: where the text stands among its sample's synthetic captions.
    public var rank: TextRank?
    public init(textID: Int64, kept: Bool, reason: String, itmProbability: Double?, itcSimilarity: Double?,
                rank: TextRank? = nil) {
        self.textID = textID; self.kept = kept; self.reason = reason
        self.itmProbability = itmProbability; self.itcSimilarity = itcSimilarity; self.rank = rank
    }

    init(row: Row) {
        self.init(textID: row["text_id"], kept: row["kept"], reason: row["reason"], itmProbability: row["itm_probability"],
                  itcSimilarity: row["itc_similarity"], rank: TextRank(row: row))
    }
}

/// A synthetic caption's place among its sample's synthetic captions: `position` 1 is the best
/// by `score`, the ranking score named by `by` (itm, itc or product).
public struct TextRank: Sendable, Equatable {
    public var position: Int
    public var score: Double
    public var by: String
    public init(position: Int, score: Double, by: String) {
        self.position = position; self.score = score; self.by = by
    }

    /// The `rank`, `rank_score` and `rank_by` columns of a decision row; nil when it has none.
    init?(row: Row) {
        guard let position: Int = row["rank"], let score: Double = row["rank_score"], let by: String = row["rank_by"] else {
            return nil
        }
        self.init(position: position, score: score, by: by)
    }
}

extension CatalogSession {
    /// The sample's texts: manifest ones, plus the synthetic ones written under
    /// `syntheticFingerprint` (nil: none).
    public func texts(sampleID: Int64, syntheticFingerprint: String?) throws -> [TextRecord] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM texts WHERE sample_id = ? AND (origin != 'synthetic' OR fingerprint = ?)
            ORDER BY origin, position
            """, arguments: [sampleID, syntheticFingerprint]).map(TextRecord.init)
    }

    /// `texts(sampleID:syntheticFingerprint:)` for many samples, a few queries instead of one
    /// each: by sample, each sample's texts in the same order.
    public func texts(sampleIDs: [Int64], syntheticFingerprint: String?) throws -> [Int64: [TextRecord]] {
        var out: [Int64: [TextRecord]] = [:]
        var start = 0
        while start < sampleIDs.count {
            let chunk = Array(sampleIDs[start..<min(sampleIDs.count, start + 500)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            for row in try Row.fetchAll(db, sql: """
                SELECT * FROM texts WHERE sample_id IN (\(placeholders)) AND (origin != 'synthetic' OR fingerprint = ?)
                ORDER BY sample_id, origin, position
                """, arguments: StatementArguments(chunk) + [syntheticFingerprint]) {
                let t = TextRecord(row: row)
                out[t.sampleID, default: []].append(t)
            }
            start += chunk.count
        }
        return out
    }

    /// Replaces the sample's synthetic captions with `captions`.
    public func replaceSynthetic(sampleID: Int64, captions: [String], model: String, settings: String,
                                 fingerprint: String) throws {
        let old = try Int64.fetchAll(db, sql: "SELECT id FROM texts WHERE sample_id = ? AND origin = 'synthetic'",
                                     arguments: [sampleID])
        for id in old { try deleteTextDependents(id) }
        try db.execute(sql: "DELETE FROM texts WHERE sample_id = ? AND origin = 'synthetic'", arguments: [sampleID])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO texts (sample_id, origin, position, text, model, settings, fingerprint)
            VALUES (?, 'synthetic', ?, ?, ?, ?, ?)
            """)
        for (i, c) in captions.enumerated() {
            try insert.execute(arguments: [sampleID, i, c, model, settings, fingerprint])
        }
    }

    private func deleteTextDependents(_ id: Int64) throws {
        for table in ["scores", "decisions", "duplicate_texts", "assembled", "gated_texts"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE text_id = ?", arguments: [id])
        }
    }

    /// The text's stored score under `fingerprint`, if it was scored against `image` (the
    /// sample's image now; a score on other bytes is no score).
    public func score(textID: Int64, fingerprint: String, image: String?) throws -> TextScore? {
        try Row.fetchOne(db, sql: "SELECT * FROM scores WHERE text_id = ? AND fingerprint = ? AND image_sha256 IS ?",
                         arguments: [textID, fingerprint, image]).map {
            TextScore(textID: $0["text_id"], itmProbability: $0["itm_probability"], itcSimilarity: $0["itc_similarity"])
        }
    }

    /// Stores a score of a text against `image`, replacing one on other bytes.
    public func insertScore(_ s: TextScore, fingerprint: String, model: String, image: String?) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO scores (text_id, fingerprint, model, itm_probability, itc_similarity, image_sha256)
            VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [s.textID, fingerprint, model, s.itmProbability, s.itcSimilarity, image])
    }

    public func recordDecision(_ d: Decision, fingerprint: String) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO decisions (text_id, kept, reason, itm_probability, itc_similarity, fingerprint,
                                              rank, rank_score, rank_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [d.textID, d.kept, d.reason, d.itmProbability, d.itcSimilarity, fingerprint,
                                     d.rank?.position, d.rank?.score, d.rank?.by])
    }

    /// Decisions made under `fingerprint`, by text id.
    /// Per sample, the highest ITM probability among its texts the filter with `fingerprint`
    /// decided on (kept or not).
    public func bestITMBySample(fingerprint: String) throws -> [Int64: Double] {
        var out: [Int64: Double] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT t.sample_id AS sample_id, MAX(d.itm_probability) AS itm FROM decisions d
            JOIN texts t ON t.id = d.text_id WHERE d.fingerprint = ? AND d.itm_probability IS NOT NULL GROUP BY t.sample_id
            """, arguments: [fingerprint]) {
            out[row["sample_id"]] = row["itm"]
        }
        return out
    }

    public func decisions(fingerprint: String) throws -> [Int64: Decision] {
        var out: [Int64: Decision] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM decisions WHERE fingerprint = ?", arguments: [fingerprint]) {
            let d = Decision(row: row)
            out[d.textID] = d
        }
        return out
    }

    /// Every text of the samples that passed `stage` with `fingerprint` on their current image, in
    /// (sample, origin, position) order; synthetic texts only those of `syntheticFingerprint`.
    public func textsOfSamples(passing requirement: StageRequirement, syntheticFingerprint: String?) throws -> [TextRecord] {
        try Row.fetchAll(db, sql: """
            SELECT t.* FROM texts t JOIN samples s ON s.id = t.sample_id \(requirementJoin("p"))
            WHERE t.origin != 'synthetic' OR t.fingerprint = ?
            ORDER BY t.sample_id, t.origin, t.position
            """, arguments: [requirement.stage, requirement.fingerprint, syntheticFingerprint]).map(TextRecord.init)
    }
}

/// One judged text, for reports.
public struct JudgedText: Sendable, Equatable {
    public var sampleID: Int64
    public var origin: TextOrigin
    public var text: String
    public var kept: Bool?
    public var reason: String?
    public var itmProbability: Double?
    public var itcSimilarity: Double?
    /// Synthetic captions the filter ranked: their place among the sample's synthetic captions.
    public var rank: TextRank?
}

extension CatalogSession {
    /// Every decision under `fingerprint`: origin, kept, ITM probability (for histograms and
    /// noise ratios).
    public func decisionScores(fingerprint: String) throws -> [(origin: TextOrigin, kept: Bool, itm: Double?)] {
        try Row.fetchAll(db, sql: """
            SELECT t.origin, d.kept, d.itm_probability FROM decisions d JOIN texts t ON t.id = d.text_id
            WHERE d.fingerprint = ? ORDER BY d.text_id
            """, arguments: [fingerprint]).map { ($0["origin"], $0["kept"], $0["itm_probability"]) }
    }

    /// The texts of the first `limit` samples (in id order) that have a decision under
    /// `fingerprint`, with their decisions; human texts included.
    public func judgedSamples(fingerprint: String, syntheticFingerprint: String?, limit: Int) throws -> [(SampleRecord, [JudgedText])] {
        let ids = try Int64.fetchAll(db, sql: """
            SELECT DISTINCT t.sample_id FROM decisions d JOIN texts t ON t.id = d.text_id WHERE d.fingerprint = ?
            ORDER BY t.sample_id LIMIT ?
            """, arguments: [fingerprint, limit])
        return try ids.compactMap { id in
            guard let sample = try sample(id: id) else { return nil }
            let texts = try Row.fetchAll(db, sql: """
                SELECT t.sample_id, t.origin, t.text, d.kept, d.reason, d.itm_probability, d.itc_similarity,
                       d.rank, d.rank_score, d.rank_by FROM texts t
                LEFT JOIN decisions d ON d.text_id = t.id AND d.fingerprint = ?
                WHERE t.sample_id = ? AND (t.origin != 'synthetic' OR t.fingerprint = ?) ORDER BY t.origin, t.position
                """, arguments: [fingerprint, id, syntheticFingerprint]).map {
                JudgedText(sampleID: $0["sample_id"], origin: $0["origin"], text: $0["text"], kept: $0["kept"],
                           reason: $0["reason"], itmProbability: $0["itm_probability"], itcSimilarity: $0["itc_similarity"],
                           rank: TextRank(row: $0))
            }
            return (sample, texts)
        }
    }
}

extension CatalogSession {
    /// The first `limit` samples (in id order) with more than one synthetic caption of
    /// `syntheticFingerprint` judged under `fingerprint`, each with those captions best first
    /// (by rank; unranked ones after, in caption order): best-of-N candidates for reports.
    public func captionCandidates(fingerprint: String, syntheticFingerprint: String?, limit: Int) throws -> [(SampleRecord, [JudgedText])] {
        let ids = try Int64.fetchAll(db, sql: """
            SELECT t.sample_id FROM decisions d JOIN texts t ON t.id = d.text_id
            WHERE d.fingerprint = ? AND t.origin = 'synthetic' AND t.fingerprint = ?
            GROUP BY t.sample_id HAVING COUNT(*) > 1 ORDER BY t.sample_id LIMIT ?
            """, arguments: [fingerprint, syntheticFingerprint, limit])
        return try ids.compactMap { id in
            guard let sample = try sample(id: id) else { return nil }
            let texts = try Row.fetchAll(db, sql: """
                SELECT t.sample_id, t.origin, t.text, d.kept, d.reason, d.itm_probability, d.itc_similarity,
                       d.rank, d.rank_score, d.rank_by FROM texts t
                JOIN decisions d ON d.text_id = t.id AND d.fingerprint = ?
                WHERE t.sample_id = ? AND t.origin = 'synthetic' AND t.fingerprint = ?
                ORDER BY d.rank IS NULL, d.rank, t.position
                """, arguments: [fingerprint, id, syntheticFingerprint]).map {
                JudgedText(sampleID: $0["sample_id"], origin: $0["origin"], text: $0["text"], kept: $0["kept"],
                           reason: $0["reason"], itmProbability: $0["itm_probability"], itcSimilarity: $0["itc_similarity"],
                           rank: TextRank(row: $0))
            }
            return (sample, texts)
        }
    }
}
