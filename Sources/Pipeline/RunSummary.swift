import Foundation

/// What one stage did in one run (and shard): `ran` (did work), `up-to-date` (nothing pending
/// or already done with the same fingerprint and inputs), `not-selected`.
public struct StageRunRecord: Codable, Sendable, Equatable {
    public var stage: String
    public var type: String
    public var shard: String?
    public var fingerprint: String
    public var action: String
    public var processed: Int
    public var failed: Int
    public var seconds: Double
}

/// A run's record, written to `<workdir>/runs/last-run.json` (and one file per run).
public struct RunSummary: Codable, Sendable {
    public var pipeline: String
    public var command: String
    public var startedAt: String
    public var finishedAt: String
    public var cancelled: Bool
    public var stages: [StageRunRecord]

    /// The stages that did work, in order, without repeats (over all shards).
    public var ranStages: [String] {
        var seen: Set<String> = []
        return stages.filter { $0.action == "ran" && seen.insert($0.stage).inserted }.map(\.stage)
    }
}

func timestamp(_ date: Date = Date()) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: date)
}
