import GRDB

/// A text a gate stage dropped, with its rule and the value against the bound.
public struct GatedText: Sendable, Equatable {
    public var textID: Int64
    public var rule: String
    public var reason: String
    public init(textID: Int64, rule: String, reason: String) { self.textID = textID; self.rule = rule; self.reason = reason }
}

/// SQL: text `t` was not dropped by any of `gates` (their current fingerprints). Its arguments
/// are `gateArguments(gates)`.
func notGated(_ t: String, _ gates: [StageRequirement]) -> String {
    guard !gates.isEmpty else { return "1" }
    let pairs = Array(repeating: "(g.stage = ? AND g.fingerprint = ?)", count: gates.count).joined(separator: " OR ")
    return "NOT EXISTS (SELECT 1 FROM gated_texts g WHERE g.text_id = \(t).id AND (\(pairs)))"
}

func gateArguments(_ gates: [StageRequirement]) -> StatementArguments {
    StatementArguments(gates.flatMap { [$0.stage, $0.fingerprint] })
}

extension CatalogSession {
    /// Replaces what gate `stage` dropped of the sample's texts: a sample judged again (new
    /// rules, a new image) forgets its earlier drops.
    public func replaceGatedTexts(stage: String, fingerprint: String, sampleID: Int64, _ dropped: [GatedText]) throws {
        try db.cachedStatement(sql: "DELETE FROM gated_texts WHERE stage = ? AND sample_id = ?").execute(arguments: [stage, sampleID])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO gated_texts (stage, text_id, sample_id, fingerprint, rule, reason) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for d in dropped {
            try insert.execute(arguments: [stage, d.textID, sampleID, fingerprint, d.rule, d.reason])
        }
    }

    /// The ids of the sample's texts that any of `gates` dropped.
    public func gatedTextIDs(sampleID: Int64, gates: [StageRequirement]) throws -> Set<Int64> {
        guard !gates.isEmpty else { return [] }
        let pairs = Array(repeating: "(stage = ? AND fingerprint = ?)", count: gates.count).joined(separator: " OR ")
        return Set(try Int64.fetchAll(db, sql: "SELECT text_id FROM gated_texts WHERE sample_id = ? AND (\(pairs))",
                                      arguments: [sampleID] + gateArguments(gates)))
    }

    /// The ids of every text that any of `gates` dropped, over the whole catalog.
    public func gatedTextIDs(gates: [StageRequirement]) throws -> Set<Int64> {
        guard !gates.isEmpty else { return [] }
        let pairs = Array(repeating: "(stage = ? AND fingerprint = ?)", count: gates.count).joined(separator: " OR ")
        return Set(try Int64.fetchAll(db, sql: "SELECT text_id FROM gated_texts WHERE \(pairs)", arguments: gateArguments(gates)))
    }

    /// What gate `stage` dropped under `fingerprint`, in text order.
    public func gatedTexts(stage: String, fingerprint: String) throws -> [GatedText] {
        try Row.fetchAll(db, sql: "SELECT text_id, rule, reason FROM gated_texts WHERE stage = ? AND fingerprint = ? ORDER BY text_id",
                         arguments: [stage, fingerprint]).map { GatedText(textID: $0["text_id"], rule: $0["rule"], reason: $0["reason"]) }
    }

    /// What gate `stage` dropped under `fingerprint`, as `capfilt inspect dropped` lists it (no
    /// score or threshold; the reason names the rule), in (sample, origin, position) order.
    public func gatedTextRows(stage: String, fingerprint: String) throws -> [DroppedText] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, src.name AS source, s.key, t.origin, t.text, g.rule, g.reason
            FROM gated_texts g
            JOIN texts t ON t.id = g.text_id
            JOIN samples s ON s.id = g.sample_id
            JOIN sources src ON src.id = s.source_id
            WHERE g.stage = ? AND g.fingerprint = ?
            ORDER BY s.id, t.origin, t.position
            """, arguments: [stage, fingerprint]).map {
            let rule: String = $0["rule"], reason: String = $0["reason"]
            return DroppedText(sampleID: $0["id"], source: $0["source"], key: $0["key"], origin: $0["origin"], text: $0["text"],
                               itmProbability: nil, itcSimilarity: nil, threshold: nil, reason: "\(rule): \(reason)")
        }
    }

    /// How many texts gate `stage` dropped under `fingerprint`, by rule.
    public func gatedTextCounts(stage: String, fingerprint: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT rule, count(*) AS n FROM gated_texts WHERE stage = ? AND fingerprint = ? GROUP BY rule
            """, arguments: [stage, fingerprint]) {
            out[row["rule"]] = row["n"]
        }
        return out
    }
}
