import GRDB

/// "This sample finished `stage` with this fingerprint, and it was ok": what a downstream
/// stage waits for.
public struct StageRequirement: Sendable, Hashable {
    public var stage: String
    public var fingerprint: String
    public init(stage: String, fingerprint: String) { self.stage = stage; self.fingerprint = fingerprint }
}

/// One sample's outcome in a per-sample stage.
public struct ProgressMark: Sendable, Equatable {
    public var sampleID: Int64
    public var status: SampleStatus
    public var reason: String?
    public init(sampleID: Int64, status: SampleStatus, reason: String? = nil) {
        self.sampleID = sampleID; self.status = status; self.reason = reason
    }
    public static func ok(_ id: Int64) -> ProgressMark { ProgressMark(sampleID: id, status: .ok) }
}

/// How many samples of one source ended a stage with one status, and the first of them.
public struct SourceOutcome: Sendable, Equatable {
    public var source: String
    public var status: SampleStatus
    public var count: Int
    /// The key of the sample with the lowest id among them, and its recorded reason.
    public var exampleKey: String
    public var exampleReason: String?
    public init(source: String, status: SampleStatus, count: Int, exampleKey: String, exampleReason: String?) {
        self.source = source; self.status = status; self.count = count
        self.exampleKey = exampleKey; self.exampleReason = exampleReason
    }
}

/// Per-stage counts for `capfilt status`.
public struct StageCounts: Sendable, Equatable {
    /// Samples whose inputs are ready (every requirement met).
    public var eligible: Int
    /// Finished with the current fingerprint, by status (ok or a failure status).
    public var byStatus: [SampleStatus: Int]
    /// Finished, but with an older fingerprint (parameters or model changed since) or on an
    /// image the sample no longer has.
    public var stale: Int

    public var done: Int { byStatus.values.reduce(0, +) }
    public var failed: Int { byStatus.filter { $0.key != .ok }.values.reduce(0, +) }
    public var pending: Int { max(0, eligible - done) }

    public init(eligible: Int = 0, byStatus: [SampleStatus: Int] = [:], stale: Int = 0) {
        self.eligible = eligible; self.byStatus = byStatus; self.stale = stale
    }
}

extension ProgressMark {
    /// The image a mark names when its stage read no image (a gate on manifest data before
    /// fetch): the mark holds whatever image the sample has or later gets.
    public static let anyImage = "*"
}

/// SQL: the mark `p` was made on the image sample `s` has now. Every result downstream of fetch is
/// valid for the image it was computed on only, so a mark on another image is no mark; a mark
/// made without an image (`ProgressMark.anyImage`) holds for any.
func currentImage(_ p: String, _ s: String = "s") -> String {
    "(\(p).image_sha256 IS \(s).image_sha256 OR \(p).image_sha256 = '\(ProgressMark.anyImage)')"
}

/// SQL: `alias` is an ok mark of a requirement on the sample's current image.
func requirementJoin(_ alias: String, sample: String = "s") -> String {
    " JOIN progress \(alias) ON \(alias).sample_id = \(sample).id AND \(alias).stage = ? AND \(alias).fingerprint = ?"
        + " AND \(alias).status = 'ok' AND \(currentImage(alias, sample))"
}

extension CatalogSession {
    /// Samples that still need `stage` (no mark with `fingerprint` on the sample's current image)
    /// and whose requirements are met, in id order, starting after `afterID`.
    public func pendingSamples(stage: String, fingerprint: String, requires: [StageRequirement],
                               afterID: Int64 = 0, limit: Int) throws -> [SampleRecord] {
        var sql = "SELECT \(sampleColumns) FROM samples s JOIN sources src ON src.id = s.source_id"
        var arguments: StatementArguments = []
        for (i, r) in requires.enumerated() {
            sql += requirementJoin("r\(i)")
            arguments += [r.stage, r.fingerprint]
        }
        sql += """
             LEFT JOIN progress p ON p.sample_id = s.id AND p.stage = ? AND p.fingerprint = ? AND \(currentImage("p"))
             WHERE p.sample_id IS NULL AND s.id > ? ORDER BY s.id LIMIT ?
            """
        arguments += [stage, fingerprint, afterID, limit]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(SampleRecord.init)
    }

    /// Records outcomes; a later mark for the same stage and sample replaces the earlier one.
    ///
    /// Each mark names the image its result was computed on: `images[sample]` for a stage that
    /// read the sample's image (a sample missing there had none), or, with `images` nil, the
    /// sample's `image_sha256` as this transaction leaves it (the fetch stage, which sets it).
    public func mark(stage: String, fingerprint: String, runID: Int64, _ marks: [ProgressMark],
                     images: [Int64: String]? = nil) throws {
        if let images {
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO progress (stage, sample_id, fingerprint, status, reason, run_id, image_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for m in marks {
                try statement.execute(arguments: [stage, m.sampleID, fingerprint, m.status, m.reason, runID, images[m.sampleID]])
            }
        } else {
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO progress (stage, sample_id, fingerprint, status, reason, run_id, image_sha256)
                VALUES (?, ?, ?, ?, ?, ?, (SELECT image_sha256 FROM samples WHERE id = ?))
                """)
            for m in marks {
                try statement.execute(arguments: [stage, m.sampleID, fingerprint, m.status, m.reason, runID, m.sampleID])
            }
        }
    }

    public func counts(stage: String, fingerprint: String, requires: [StageRequirement]) throws -> StageCounts {
        var sql = "SELECT count(*) FROM samples s"
        var arguments: StatementArguments = []
        for (i, r) in requires.enumerated() {
            sql += requirementJoin("r\(i)")
            arguments += [r.stage, r.fingerprint]
        }
        let eligible = try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
        var byStatus: [SampleStatus: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT p.status, count(*) AS n FROM progress p JOIN samples s ON s.id = p.sample_id
            WHERE p.stage = ? AND p.fingerprint = ? AND \(currentImage("p")) GROUP BY p.status
            """, arguments: [stage, fingerprint]) {
            byStatus[row["status"]] = row["n"]
        }
        let stale = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM progress p JOIN samples s ON s.id = p.sample_id
            WHERE p.stage = ? AND (p.fingerprint != ? OR NOT (\(currentImage("p"))))
            """, arguments: [stage, fingerprint]) ?? 0
        return StageCounts(eligible: eligible, byStatus: byStatus, stale: stale)
    }

    /// Forgets the outcomes with `status` (in `stage`, or in every stage), so that the next run
    /// processes those samples again. Returns how many were re-queued.
    public func requeue(status: SampleStatus, stage: String?) throws -> Int {
        if let stage {
            try db.execute(sql: "DELETE FROM progress WHERE status = ? AND stage = ?", arguments: [status, stage])
        } else {
            try db.execute(sql: "DELETE FROM progress WHERE status = ?", arguments: [status])
        }
        return db.changesCount
    }

    /// Forgets the outcomes of `stage` with `fingerprint` (on the samples' current images) whose
    /// status is one of `statuses`, so that the next run processes those samples again. Returns
    /// how many were re-queued, by status (statuses with none are left out).
    public func requeue(statuses: Set<SampleStatus>, stage: String, fingerprint: String) throws -> [SampleStatus: Int] {
        guard !statuses.isEmpty else { return [:] }
        let list = statuses.sorted()
        let placeholders = Array(repeating: "?", count: list.count).joined(separator: ", ")
        let arguments = StatementArguments([stage, fingerprint] + list.map(\.rawValue))
        var counts: [SampleStatus: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT p.status, count(*) AS n FROM progress p JOIN samples s ON s.id = p.sample_id
            WHERE p.stage = ? AND p.fingerprint = ? AND p.status IN (\(placeholders)) AND \(currentImage("p"))
            GROUP BY p.status
            """, arguments: arguments) {
            counts[row["status"]] = row["n"]
        }
        try db.execute(sql: """
            DELETE FROM progress WHERE stage = ? AND fingerprint = ? AND status IN (\(placeholders))
              AND (image_sha256 IS (SELECT image_sha256 FROM samples WHERE samples.id = progress.sample_id)
                   OR image_sha256 = '\(ProgressMark.anyImage)')
            """, arguments: arguments)
        return counts
    }

    /// One stage's current outcomes (marks with `fingerprint` on the sample's current image) by source and status, each with
    /// the first sample (lowest id) that has it: what the failure-share check reads.
    public func outcomesBySource(stage: String, fingerprint: String) throws -> [SourceOutcome] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT src.name AS source, p.status AS status, count(*) AS n, min(s.id) AS first_id
            FROM progress p JOIN samples s ON s.id = p.sample_id JOIN sources src ON src.id = s.source_id
            WHERE p.stage = ? AND p.fingerprint = ? AND \(currentImage("p"))
            GROUP BY src.name, p.status ORDER BY src.name, p.status
            """, arguments: [stage, fingerprint])
        return try rows.map { row in
            let first: Int64 = row["first_id"]
            let example = try Row.fetchOne(db, sql: """
                SELECT s.key AS key, p.reason AS reason FROM samples s
                JOIN progress p ON p.sample_id = s.id AND p.stage = ?
                WHERE s.id = ?
                """, arguments: [stage, first])
            return SourceOutcome(source: row["source"], status: row["status"], count: row["n"],
                                 exampleKey: example?["key"] ?? "", exampleReason: example?["reason"])
        }
    }

    /// The last sample id in the catalog (0 when empty): a cheap version of the sample set.
    public func lastSampleID() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM samples") ?? 0
    }

    /// A digest of one per-sample stage's current outcomes: which samples finished, how, with
    /// which fingerprint, on which image. Whole-dataset stages use it as their input version.
    ///
    /// Marks on a sample's current image only count, and a sample whose image was replaced adds
    /// its replacement count (`image_changes`): recomputing a sample on new bytes rewrites its
    /// marks with the same statuses, and the version must still change. A catalog whose images
    /// were never replaced keeps the version it had before content keys. A sample that gained
    /// texts (`text_changes`, a merged manifest row) moves it the same way.
    public func progressVersion(stage: String, fingerprint: String) throws -> String {
        let row = try Row.fetchOne(db, sql: """
            SELECT count(*) AS n, coalesce(sum(p.sample_id), 0) AS ids,
                   coalesce(sum(CASE WHEN p.status = 'ok' THEN p.sample_id * 7 ELSE p.sample_id * 3 END), 0) AS w,
                   coalesce(sum(p.sample_id * s.image_changes), 0) AS c,
                   coalesce(sum(p.sample_id * s.text_changes), 0) AS t
            FROM progress p JOIN samples s ON s.id = p.sample_id
            WHERE p.stage = ? AND p.fingerprint = ? AND \(currentImage("p"))
            """, arguments: [stage, fingerprint])
        let n: Int64 = row?["n"] ?? 0, ids: Int64 = row?["ids"] ?? 0, w: Int64 = row?["w"] ?? 0, c: Int64 = row?["c"] ?? 0
        let t: Int64 = row?["t"] ?? 0
        return "\(n).\(ids).\(w)" + (c == 0 ? "" : ".\(c)") + (t == 0 ? "" : ".t\(t)")
    }

    // MARK: whole-dataset stages

    public func stageState(_ stage: String) throws -> (fingerprint: String, inputVersion: String, summary: String)? {
        try Row.fetchOne(db, sql: "SELECT fingerprint, input_version, summary FROM stage_state WHERE stage = ?",
                         arguments: [stage]).map { ($0["fingerprint"], $0["input_version"], $0["summary"]) }
    }

    public func setStageState(_ stage: String, fingerprint: String, inputVersion: String, runID: Int64,
                              summary: String = "{}") throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO stage_state (stage, fingerprint, input_version, run_id, summary) VALUES (?, ?, ?, ?, ?)
            """, arguments: [stage, fingerprint, inputVersion, runID, summary])
    }

    public func clearStageState(_ stage: String) throws {
        try db.execute(sql: "DELETE FROM stage_state WHERE stage = ?", arguments: [stage])
    }
}

extension CatalogSession {
    /// Forgets every mark of `stage` (benchmarks; a changed fingerprint does this implicitly).
    @discardableResult
    public func clearProgress(stage: String) throws -> Int {
        try db.execute(sql: "DELETE FROM progress WHERE stage = ?", arguments: [stage])
        return db.changesCount
    }
}
