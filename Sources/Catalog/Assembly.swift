import GRDB

/// One exported image with its texts.
public struct AssembledSample: Sendable, Equatable {
    public var sample: SampleRecord
    public var image: ImageRecord
    public var texts: [AssembledText]
}

public struct AssembledText: Sendable, Equatable {
    public var textID: Int64
    public var origin: TextOrigin
    public var text: String
    public var itmProbability: Double?
    public var itcSimilarity: Double?
    public var reason: String?
}

extension CatalogSession {
    /// Rebuilds the bootstrapped set: for every sample that passed `filter` on the image it has
    /// now and is not a duplicate, its human texts plus the web and synthetic texts the filter
    /// kept (under `decisionFingerprint`), minus repeated texts and texts any of `gates` dropped.
    /// A sample must also have passed every stage of `alsoPassing` (decontaminate stages, which
    /// may sit downstream of the filter). Returns the number of pairs.
    @discardableResult
    public func assemble(filter: StageRequirement, syntheticFingerprint: String?, decisionFingerprint: String,
                         gates: [StageRequirement] = [], alsoPassing: [StageRequirement] = []) throws -> Int {
        try db.execute(sql: "DELETE FROM assembled")
        try db.execute(sql: """
            INSERT INTO assembled (sample_id, text_id)
            SELECT t.sample_id, t.id FROM texts t JOIN samples s ON s.id = t.sample_id
            \(requirementJoin("p"))
            \(alsoPassing.indices.map { requirementJoin("ap\($0)") }.joined(separator: "\n"))
            LEFT JOIN duplicates d ON d.sample_id = t.sample_id
            LEFT JOIN duplicate_texts dt ON dt.text_id = t.id
            LEFT JOIN decisions dc ON dc.text_id = t.id AND dc.fingerprint = ?
            WHERE d.sample_id IS NULL AND dt.text_id IS NULL
              AND (t.origin != 'synthetic' OR t.fingerprint = ?)
              AND (t.origin = 'human' OR dc.kept = 1)
              AND \(notGated("t", gates))
            """, arguments: [filter.stage, filter.fingerprint] + gateArguments(alsoPassing) + [decisionFingerprint, syntheticFingerprint]
                + gateArguments(gates))
        return db.changesCount
    }

    /// The assembled set in sample order (texts by origin, then position), `limit` samples from
    /// `afterID` on.
    public func assembledSamples(afterID: Int64 = 0, limit: Int = Int.max) throws -> [AssembledSample] {
        let ids = try Int64.fetchAll(db, sql: """
            SELECT DISTINCT sample_id FROM assembled WHERE sample_id > ? ORDER BY sample_id LIMIT ?
            """, arguments: [afterID, min(limit, Int(Int32.max))])
        var out: [AssembledSample] = []
        for id in ids {
            guard let sample = try sample(id: id), let sha = sample.imageSHA256, let image = try image(sha256: sha) else { continue }
            let texts = try Row.fetchAll(db, sql: """
                SELECT t.id, t.origin, t.text, dc.itm_probability, dc.itc_similarity, dc.reason FROM assembled a
                JOIN texts t ON t.id = a.text_id LEFT JOIN decisions dc ON dc.text_id = t.id
                WHERE a.sample_id = ? ORDER BY t.origin, t.position
                """, arguments: [id]).map {
                AssembledText(textID: $0["id"], origin: $0["origin"], text: $0["text"], itmProbability: $0["itm_probability"],
                              itcSimilarity: $0["itc_similarity"], reason: $0["reason"])
            }
            out.append(AssembledSample(sample: sample, image: image, texts: texts))
        }
        return out
    }

    public func assembledPairCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM assembled") ?? 0
    }
}

extension CatalogSession {
    /// For every sample that passed `filter` and `alsoPassing` (on its current image) and is not a duplicate: how
    /// many of its texts are in the assembled set (0, 1, 2, ...), in sample order.
    public func assembledTextCounts(filter: StageRequirement, alsoPassing: [StageRequirement] = []) throws -> [Int] {
        try Int.fetchAll(db, sql: """
            SELECT (SELECT count(*) FROM assembled a WHERE a.sample_id = p.sample_id) FROM samples s
            \(requirementJoin("p"))
            \(alsoPassing.indices.map { requirementJoin("ap\($0)") }.joined(separator: "\n"))
            LEFT JOIN duplicates d ON d.sample_id = p.sample_id
            WHERE d.sample_id IS NULL
            ORDER BY p.sample_id
            """, arguments: [filter.stage, filter.fingerprint] + gateArguments(alsoPassing))
    }
}
