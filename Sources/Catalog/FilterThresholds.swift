import Foundation
import GRDB

/// The ITM probability below which a filter dropped texts, and where it came from: stored once
/// per filter fingerprint beside the decisions it made.
public struct FilterThreshold: Sendable, Equatable {
    public enum Origin: String, Sendable {
        /// The stage's `threshold` parameter (BLIP's 0.5 by default).
        case fixed
        /// Chosen on held-out pairs (`calibrate_on`).
        case calibrated
    }

    public var value: Double
    public var origin: Origin
    /// Calibrated only: "keep" or "f1".
    public var rule: String?
    /// Calibrated with `keep`: the share of matching held-out pairs kept.
    public var keepShare: Double?
    /// Calibrated only: the held-out pairs scored (for `keep`, the matching ones).
    public var pairs: Int?
    /// Calibrated with `f1`: the held-out pairs' precision and recall at the threshold.
    public var precision: Double?
    public var recall: Double?
    /// Calibrated only: the held-out file.
    public var file: String?

    public init(value: Double, origin: Origin, rule: String? = nil, keepShare: Double? = nil, pairs: Int? = nil,
                precision: Double? = nil, recall: Double? = nil, file: String? = nil) {
        self.value = value; self.origin = origin; self.rule = rule; self.keepShare = keepShare; self.pairs = pairs
        self.precision = precision; self.recall = recall; self.file = file
    }

    /// One line for people: how the threshold was chosen.
    public var summary: String {
        switch (origin, rule) {
        case (.fixed, _):
            return "fixed (the filter's `threshold`)"
        case (.calibrated, "f1"):
            return String(format: "calibrated: the best F1 at finding the mismatches of %d audited pairs (there: precision %.3f, recall %.3f)",
                          pairs ?? 0, precision ?? 0, recall ?? 0)
        case (.calibrated, _):
            return String(format: "calibrated: %.0f%% of %d held-out matching pairs reach it", (keepShare ?? 0) * 100, pairs ?? 0)
        }
    }
}

extension CatalogSession {
    /// Records the threshold a filter with `fingerprint` decides with (the same for every batch).
    public func recordFilterThreshold(_ t: FilterThreshold, fingerprint: String) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO filter_thresholds (fingerprint, threshold, origin, rule, keep_share, pairs, precision, recall, file)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [fingerprint, t.value, t.origin.rawValue, t.rule, t.keepShare, t.pairs, t.precision,
                                     t.recall, t.file])
    }

    /// The threshold the filter with `fingerprint` decided with; nil before it decided anything.
    public func filterThreshold(fingerprint: String) throws -> FilterThreshold? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM filter_thresholds WHERE fingerprint = ?", arguments: [fingerprint])
        else { return nil }
        return FilterThreshold(value: row["threshold"], origin: FilterThreshold.Origin(rawValue: row["origin"]) ?? .fixed,
                               rule: row["rule"], keepShare: row["keep_share"], pairs: row["pairs"], precision: row["precision"],
                               recall: row["recall"], file: row["file"])
    }
}
