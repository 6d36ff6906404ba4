import Foundation
import GRDB

/// One dataset shard's SQLite database (WAL mode, so `capfilt status` can read while a run
/// writes). All SQL of the project lives in this module, parameterised; the rest of the code sees
/// typed records and the methods of `CatalogSession`.
public final class Catalog: @unchecked Sendable {
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the catalog at `path` and applies pending migrations.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            // NORMAL is durable in WAL mode against process crashes (kill -9); only a power
            // loss can drop the last transactions, never corrupt the database.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator().migrate(pool)
        } catch {
            throw CatalogError.open(path: path, reason: "\(error)")
        }
    }

    /// Runs `body` in one write transaction: all of it lands, or none of it.
    public func write<T>(_ body: (CatalogSession) throws -> T) throws -> T {
        try pool.write { db in try body(CatalogSession(db: db)) }
    }

    /// Runs `body` on a consistent read-only snapshot.
    public func read<T>(_ body: (CatalogSession) throws -> T) throws -> T {
        try pool.read { db in try body(CatalogSession(db: db)) }
    }

    /// The names of the applied migrations, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Schema.migrator().appliedIdentifiers(db).sorted() }
    }

    /// Checkpoints the WAL into the main file (used before copying a catalog).
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }
}

/// Access to the catalog inside one transaction or snapshot. Query methods live in extensions,
/// one file per area (samples, progress, fetches, texts, dedup, runs).
public struct CatalogSession {
    let db: Database
}

public enum CatalogError: Error, CustomStringConvertible {
    case open(path: String, reason: String)
    case missing(String)

    public var description: String {
        switch self {
        case .open(let path, let reason): return "cannot open catalog \(path): \(reason)"
        case .missing(let what): return "not in the catalog: \(what)"
        }
    }
}
