import GRDB

/// A sample as the per-sample stages see it.
public struct SampleRecord: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var key: String
    public var url: String?
    public var localPath: String?
    public var origin: TextOrigin
    public var imageSHA256: String?
    public var metadata: String
    /// The image's byte range in the archive at `localPath` (a WebDataset shard member).
    public var memberOffset: Int?
    public var memberSize: Int?
    /// Why the source has no image for this sample.
    public var sourceFailure: String?

    init(row: Row) {
        id = row["id"]; source = row["source"]; key = row["key"]; url = row["url"]
        localPath = row["local_path"]; origin = row["origin"]; imageSHA256 = row["image_sha256"]
        metadata = row["metadata"]
        memberOffset = row["member_offset"]; memberSize = row["member_size"]; sourceFailure = row["source_failure"]
    }
}

/// A manifest row to store.
public struct NewSample: Sendable {
    public var key: String
    public var url: String?
    public var localPath: String?
    public var origin: TextOrigin
    public var metadata: String
    public var captions: [String]
    public var memberOffset: Int?
    public var memberSize: Int?
    public var sourceFailure: String?

    public init(key: String, url: String?, localPath: String?, origin: TextOrigin, metadata: String, captions: [String],
                memberOffset: Int? = nil, memberSize: Int? = nil, sourceFailure: String? = nil) {
        self.key = key; self.url = url; self.localPath = localPath; self.origin = origin
        self.metadata = metadata; self.captions = captions
        self.memberOffset = memberOffset; self.memberSize = memberSize; self.sourceFailure = sourceFailure
    }
}

/// A malformed manifest row to record.
public struct NewProblem: Sendable {
    /// The count of records read from the manifest up to and including this one (1-based): the
    /// problem's key within its source.
    public var record: Int
    public var file: String
    /// 1-based line of the file where the row starts (text and JSON manifests).
    public var line: Int?
    /// The reader's 0-based index of the row (`ManifestProblem.record`, what `capfilt ingest`
    /// prints as `record`).
    public var row: Int?
    public var rowGroup: Int?
    public var reason: String
    public var excerpt: String?

    public init(record: Int, file: String, line: Int?, row: Int? = nil, rowGroup: Int?, reason: String, excerpt: String?) {
        self.record = record; self.file = file; self.line = line; self.row = row; self.rowGroup = rowGroup
        self.reason = reason; self.excerpt = excerpt
    }
}

/// What `insertSample` did.
public enum SampleInsert: Sendable, Equatable {
    case inserted(Int64)
    /// The sample existed; new captions were added to it.
    case merged(Int64)
    case unchanged

    public var isNew: Bool { if case .inserted = self { return true }; return false }
}

public struct SourceRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var format: String
    public var path: String
    public var recordsDone: Int
    public var samples: Int
    public var problems: Int
    /// The reader's exact resume position, for readers that keep one (shards).
    public var position: String?
}

let sampleColumns = """
    s.id, src.name AS source, s.key, s.url, s.local_path, s.origin, s.image_sha256, s.metadata,
    s.member_offset, s.member_size, s.source_failure
    """

extension CatalogSession {
    /// The source named `name`, created if new. A source's format and path may change between
    /// runs (a manifest moved); its cursor stays.
    public func source(name: String, format: String, path: String) throws -> SourceRecord {
        try db.execute(sql: """
            INSERT INTO sources (name, format, path) VALUES (?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET format = excluded.format, path = excluded.path
            """, arguments: [name, format, path])
        guard let s = try sources().first(where: { $0.name == name }) else { throw CatalogError.missing("source \(name)") }
        return s
    }

    public func sources() throws -> [SourceRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM sources ORDER BY id").map {
            SourceRecord(id: $0["id"], name: $0["name"], format: $0["format"], path: $0["path"],
                         recordsDone: $0["records_done"], samples: $0["samples"], problems: $0["problems"],
                         position: $0["position"])
        }
    }

    /// Stores a sample and its manifest captions. When `(source, key)` is already there (a
    /// manifest that lists one image in several places), the captions it does not have yet are
    /// added to it instead, so no text is lost.
    @discardableResult
    public func insertSample(_ sample: NewSample, sourceID: Int64) throws -> SampleInsert {
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO samples (source_id, key, url, local_path, origin, metadata, member_offset, member_size, source_failure)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [sourceID, sample.key, sample.url, sample.localPath, sample.origin, sample.metadata,
                                       sample.memberOffset, sample.memberSize, sample.sourceFailure])
        let text = try db.cachedStatement(sql: "INSERT INTO texts (sample_id, origin, position, text) VALUES (?, ?, ?, ?)")
        if db.changesCount > 0 {
            let sampleID = db.lastInsertedRowID
            for (i, caption) in sample.captions.enumerated() {
                try text.execute(arguments: [sampleID, sample.origin, i, caption])
            }
            return .inserted(sampleID)
        }
        guard let sampleID = try Int64.fetchOne(db, sql: "SELECT id FROM samples WHERE source_id = ? AND key = ?",
                                                arguments: [sourceID, sample.key]) else { return .unchanged }
        let existing = Set(try String.fetchAll(db, sql: "SELECT text FROM texts WHERE sample_id = ? AND origin != 'synthetic'",
                                               arguments: [sampleID]))
        var position = try Int.fetchOne(db, sql: "SELECT coalesce(max(position) + 1, 0) FROM texts WHERE sample_id = ? AND origin = ?",
                                        arguments: [sampleID, sample.origin]) ?? 0
        var added = 0
        for caption in sample.captions where !existing.contains(caption) {
            try text.execute(arguments: [sampleID, sample.origin, position, caption])
            position += 1
            added += 1
        }
        return added > 0 ? .merged(sampleID) : .unchanged
    }

    /// Forgets a sample's marks in `stages` (its texts changed, so they must judge it again), and
    /// counts the change so that the input version of whole-dataset stages moves.
    public func resetProgress(sampleID: Int64, stages: [String]) throws {
        try db.execute(sql: "UPDATE samples SET text_changes = text_changes + 1 WHERE id = ?", arguments: [sampleID])
        for stage in stages {
            try db.execute(sql: "DELETE FROM progress WHERE sample_id = ? AND stage = ?", arguments: [sampleID, stage])
        }
    }

    public func insertProblem(_ problem: NewProblem, sourceID: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO manifest_problems (source_id, record, file, line, row_index, row_group, reason, excerpt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [sourceID, problem.record, problem.file, problem.line, problem.row, problem.rowGroup,
                                     problem.reason, problem.excerpt])
    }

    /// Moves a source's ingest cursor (records read, and the reader's own position when it keeps
    /// one) and its counters.
    public func advanceSource(_ sourceID: Int64, recordsDone: Int, position: String? = nil, newSamples: Int, newProblems: Int) throws {
        try db.execute(sql: """
            UPDATE sources SET records_done = ?, position = ?, samples = samples + ?, problems = problems + ? WHERE id = ?
            """, arguments: [recordsDone, position, newSamples, newProblems, sourceID])
    }

    public func sampleCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM samples") ?? 0
    }

    public func sample(id: Int64) throws -> SampleRecord? {
        try Row.fetchOne(db, sql: "SELECT \(sampleColumns) FROM samples s JOIN sources src ON src.id = s.source_id WHERE s.id = ?",
                         arguments: [id]).map(SampleRecord.init)
    }

    public func problems() throws -> [NewProblem] {
        try Row.fetchAll(db, sql: "SELECT * FROM manifest_problems ORDER BY source_id, record").map {
            NewProblem(record: $0["record"], file: $0["file"], line: $0["line"], row: $0["row_index"], rowGroup: $0["row_group"],
                       reason: $0["reason"], excerpt: $0["excerpt"])
        }
    }
}
