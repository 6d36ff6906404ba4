import GRDB

extension CatalogSession {
    /// Records the start of a run and returns its id.
    public func startRun(pipeline: String, command: String, startedAt: String) throws -> Int64 {
        try db.execute(sql: "INSERT INTO runs (pipeline, command, started_at) VALUES (?, ?, ?)",
                       arguments: [pipeline, command, startedAt])
        return db.lastInsertedRowID
    }

    public func finishRun(_ id: Int64, outcome: String, finishedAt: String) throws {
        try db.execute(sql: "UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?", arguments: [finishedAt, outcome, id])
    }
}
