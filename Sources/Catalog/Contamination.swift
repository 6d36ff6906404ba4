import GRDB

extension SampleStatus {
    /// The sample's image is in an evaluation set (a decontaminate stage found it).
    public static let contaminated = SampleStatus(rawValue: "contaminated")
}

/// A decontaminate stage's match for one training sample, as the catalog keeps it.
public struct ContaminationRecord: Sendable, Equatable {
    public var sampleID: Int64
    public var evalSet: String
    public var evalImage: String
    /// `exact`, `phash` or `cosine`.
    public var method: String
    /// Bits for phash, 0 for exact, the cosine for cosine.
    public var distance: Double

    public init(sampleID: Int64, evalSet: String, evalImage: String, method: String, distance: Double) {
        self.sampleID = sampleID; self.evalSet = evalSet; self.evalImage = evalImage; self.method = method; self.distance = distance
    }
}

/// A contaminated sample with what the report shows of it.
public struct ContaminatedSample: Sendable, Equatable {
    public var record: ContaminationRecord
    public var source: String
    public var key: String
    public var image: ImageRecord?
}

extension CatalogSession {
    /// Replaces what stage `stage` recorded for `sampleID`: its match, or nothing (clean).
    public func replaceContamination(stage: String, fingerprint: String, sampleID: Int64, _ record: ContaminationRecord?) throws {
        try db.cachedStatement(sql: "DELETE FROM contamination WHERE stage = ? AND sample_id = ?").execute(arguments: [stage, sampleID])
        guard let r = record else { return }
        try db.cachedStatement(sql: """
            INSERT INTO contamination (stage, sample_id, fingerprint, eval_set, eval_image, method, distance) VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [stage, sampleID, fingerprint, r.evalSet, r.evalImage, r.method, r.distance])
    }

    /// The samples stage `stage` (under `fingerprint`) holds contaminated on the image they have
    /// now, in sample order, with their images.
    public func contaminatedSamples(stage: String, fingerprint: String) throws -> [ContaminatedSample] {
        try Row.fetchAll(db, sql: """
            SELECT c.sample_id, c.eval_set, c.eval_image, c.method, c.distance, src.name AS source, s.key, s.image_sha256
            FROM contamination c
            JOIN progress p ON p.stage = c.stage AND p.sample_id = c.sample_id AND p.fingerprint = c.fingerprint
            JOIN samples s ON s.id = c.sample_id
            JOIN sources src ON src.id = s.source_id
            WHERE c.stage = ? AND c.fingerprint = ? AND p.status = 'contaminated' AND \(currentImage("p"))
            ORDER BY c.sample_id
            """, arguments: [stage, fingerprint]).map { row in
            let sha: String? = row["image_sha256"]
            return ContaminatedSample(
                record: ContaminationRecord(sampleID: row["sample_id"], evalSet: row["eval_set"], evalImage: row["eval_image"],
                                            method: row["method"], distance: row["distance"]),
                source: row["source"], key: row["key"], image: try sha.flatMap { try image(sha256: $0) })
        }
    }
}
