import GRDB

/// What the dedup stage needs of one decoded sample.
public struct DedupInput: Sendable, Equatable {
    public var sampleID: Int64
    public var source: String
    public var key: String
    public var url: String?
    public var sha256: String
    public var phash: UInt64?
}

/// A sample left out because another one (the representative) stands for it.
public struct DuplicateRecord: Sendable, Equatable {
    public var sampleID: Int64
    /// exact, near or url.
    public var kind: String
    /// What the group shares (a SHA-256, a URL, or the representative's perceptual hash).
    public var groupKey: String
    /// The representative, as "source/key" (it may live in another shard's catalog).
    public var representative: String
    /// Hamming distance to the representative (0 for exact and url).
    public var distance: Int

    public init(sampleID: Int64, kind: String, groupKey: String, representative: String, distance: Int) {
        self.sampleID = sampleID; self.kind = kind; self.groupKey = groupKey
        self.representative = representative; self.distance = distance
    }
}

extension CatalogSession {
    /// Samples that passed `requirement` (the decode stage) on the image they have now, in id
    /// order, minus those any of `gates` dropped: a dropped sample is in no group, so it never
    /// stands in for a duplicate that is kept.
    public func dedupInputs(passing requirement: StageRequirement, gates: [StageRequirement] = []) throws -> [DedupInput] {
        let pairs = gates.map { _ in "(g.stage = ? AND g.fingerprint = ?)" }.joined(separator: " OR ")
        let notDropped = gates.isEmpty ? "" : """
            WHERE NOT EXISTS (SELECT 1 FROM progress g WHERE g.sample_id = s.id AND g.status != 'ok'
                              AND \(currentImage("g")) AND (\(pairs)))
            """
        return try Row.fetchAll(db, sql: """
            SELECT s.id, src.name AS source, s.key, s.url, i.sha256, i.phash FROM samples s
            JOIN sources src ON src.id = s.source_id
            \(requirementJoin("p"))
            JOIN images i ON i.sha256 = s.image_sha256
            \(notDropped)
            ORDER BY s.id
            """, arguments: [requirement.stage, requirement.fingerprint] + gateArguments(gates)).map {
            DedupInput(sampleID: $0["id"], source: $0["source"], key: $0["key"], url: $0["url"], sha256: $0["sha256"],
                       phash: ($0["phash"] as Int64?).map { UInt64(bitPattern: $0) })
        }
    }

    /// Replaces every duplicate record (dedup always recomputes the whole set).
    public func replaceDuplicates(_ records: [DuplicateRecord], duplicateTexts: [(text: Int64, sameAs: Int64)]) throws {
        try db.execute(sql: "DELETE FROM duplicates")
        try db.execute(sql: "DELETE FROM duplicate_texts")
        let insert = try db.cachedStatement(sql: """
            INSERT INTO duplicates (sample_id, kind, group_key, representative, distance) VALUES (?, ?, ?, ?, ?)
            """)
        for r in records {
            try insert.execute(arguments: [r.sampleID, r.kind, r.groupKey, r.representative, r.distance])
        }
        let text = try db.cachedStatement(sql: "INSERT INTO duplicate_texts (text_id, same_as) VALUES (?, ?)")
        for t in duplicateTexts { try text.execute(arguments: [t.text, t.sameAs]) }
    }

    public func duplicates() throws -> [DuplicateRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM duplicates ORDER BY sample_id").map {
            DuplicateRecord(sampleID: $0["sample_id"], kind: $0["kind"], groupKey: $0["group_key"],
                            representative: $0["representative"], distance: $0["distance"])
        }
    }

    public func duplicateTextCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM duplicate_texts") ?? 0
    }
}
