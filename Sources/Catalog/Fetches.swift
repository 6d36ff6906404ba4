import GRDB

/// One fetch of a sample's image, as the fetch stage records it.
public struct FetchRecord: Sendable, Equatable {
    public var sampleID: Int64
    /// The fetch's outcome: the status the fetch stage marks the sample with (`local` marks it `ok`).
    public var status: SampleStatus
    public var attempts: Int
    public var bytes: Int
    public var sha256: String?
    public var httpCode: Int
    public var latencySeconds: Double
    public var finalURL: String?
    public var contentType: String?
    public var error: String?
    /// Where the body is stored (content-addressed), when the fetch succeeded.
    public var blobPath: String?

    public init(sampleID: Int64, status: SampleStatus, attempts: Int, bytes: Int, sha256: String?, httpCode: Int,
                latencySeconds: Double, finalURL: String?, contentType: String?, error: String?, blobPath: String?) {
        self.sampleID = sampleID; self.status = status; self.attempts = attempts; self.bytes = bytes
        self.sha256 = sha256; self.httpCode = httpCode; self.latencySeconds = latencySeconds
        self.finalURL = finalURL; self.contentType = contentType; self.error = error; self.blobPath = blobPath
    }
}

/// An image's decoded facts.
public struct ImageRecord: Sendable, Equatable {
    public var sha256: String
    public var bytes: Int
    public var blobPath: String
    public var format: String?
    public var width: Int?
    public var height: Int?
    public var phash: UInt64?
    public var resizedPath: String?

    init(row: Row) {
        sha256 = row["sha256"]; bytes = row["bytes"]; blobPath = row["blob_path"]; format = row["format"]
        width = row["width"]; height = row["height"]
        phash = (row["phash"] as Int64?).map { UInt64(bitPattern: $0) }
        resizedPath = row["resized_path"]
    }
}

extension CatalogSession {
    /// Records a fetch; a successful one links the sample to its image (created if new).
    public func recordFetch(_ f: FetchRecord, runID: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO fetches (sample_id, run_id, status, attempts, bytes, sha256, http_code, latency_seconds,
                                 final_url, content_type, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [f.sampleID, runID, f.status, f.attempts, f.bytes, f.sha256, f.httpCode,
                                     f.latencySeconds, f.finalURL, f.contentType, f.error])
        if f.status == .ok || f.status == .local, let sha = f.sha256, let blob = f.blobPath {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO images (sha256, bytes, blob_path) VALUES (?, ?, ?)")
                .execute(arguments: [sha, f.bytes, blob])
            try db.cachedStatement(sql: "UPDATE samples SET image_sha256 = ? WHERE id = ?").execute(arguments: [sha, f.sampleID])
        }
    }

    public func image(sha256: String) throws -> ImageRecord? {
        // Cached: stages look images up one sample at a time.
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM images WHERE sha256 = ?"), arguments: [sha256]).map(ImageRecord.init)
    }

    public func recordDecoded(sha256: String, format: String, width: Int, height: Int, phash: UInt64,
                              resizedPath: String?) throws {
        try db.cachedStatement(sql: """
            UPDATE images SET format = ?, width = ?, height = ?, phash = ?, resized_path = ? WHERE sha256 = ?
            """).execute(arguments: [format, width, height, Int64(bitPattern: phash), resizedPath, sha256])
    }

    /// The latest fetch of each sample, in sample order (for reports and exports).
    public func latestFetches() throws -> [FetchRecord] {
        try Row.fetchAll(db, sql: """
            SELECT f.* FROM fetches f JOIN (SELECT sample_id, max(id) AS id FROM fetches GROUP BY sample_id) l
            ON l.id = f.id ORDER BY f.sample_id
            """).map {
            FetchRecord(sampleID: $0["sample_id"], status: $0["status"], attempts: $0["attempts"], bytes: $0["bytes"],
                        sha256: $0["sha256"], httpCode: $0["http_code"], latencySeconds: $0["latency_seconds"],
                        finalURL: $0["final_url"], contentType: $0["content_type"], error: $0["error"], blobPath: nil)
        }
    }
}
