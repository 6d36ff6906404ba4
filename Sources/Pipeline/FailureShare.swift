import Catalog
import Foundation

/// How much of a source a per-sample stage may lose before the run stops. A folder that cannot
/// be read, a host that went away or a model that rejects every image fails every sample of a
/// source with a recorded status; without a limit the run would still end "ok" and the
/// dataset would quietly lack that source.
public struct FailureLimit: Sendable, Equatable {
    /// The largest share of a source's samples (those the stage finished) that may fail.
    public var maxShare: Double
    /// Sources with fewer finished samples in the stage are not judged (a few bad rows of a
    /// small source are not a lost source).
    public var minSamples: Int

    public init(maxShare: Double, minSamples: Int) { self.maxShare = maxShare; self.minSamples = minSamples }

    public static let standard = FailureLimit(maxShare: 0.5, minSamples: 20)
}

/// The stage key that overrides the pipeline's `max_failure_share` for one per-sample stage.
public enum FailureShareKeys {
    public static let maxFailureShare = StageParameter<Double?>.optional(
        "max_failure_share", .double(0...1), affectsResults: false,
        help: "largest share of a source's samples this stage may fail before the run stops "
            + "(default: the pipeline's `max_failure_share`, 0.5; 1 turns the check off)")
}

/// A per-sample stage failed more of a source than its limit allows: the run stops before any
/// stage downstream uses what is left.
public struct FailureShareExceeded: Error, CustomStringConvertible, Equatable {
    public var stage: String
    /// The shard, when the pipeline has several.
    public var shard: String?
    public var source: String
    public var failed: Int
    public var total: Int
    public var limit: Double
    /// The most frequent failure status, how many samples have it, and its first sample.
    public var status: SampleStatus
    public var statusCount: Int
    public var sampleKey: String
    public var reason: String?

    public var description: String {
        let percent = String(format: "%.0f%%", 100 * Double(failed) / Double(max(total, 1)))
        var s = "stage `\(stage)`\(shard.map { " [\($0)]" } ?? ""): \(failed) of \(total) samples of source `\(source)` failed "
            + "(\(percent), more than max_failure_share \(limit)); most are `\(status)` (\(statusCount)), "
            + "e.g. sample `\(sampleKey)`"
        if let reason, !reason.isEmpty { s += ": \(reason)" }
        s += ". Stopped before the stages downstream; fix the input and `capfilt retry --status \(status) --stage \(stage)`, "
            + "or raise max_failure_share"
        return s
    }

    /// The first source of `outcomes` (one stage's, by source and status) whose failed share
    /// is above `limit`, or nil.
    public static func check(stage: String, shard: String?, outcomes: [SourceOutcome], limit: FailureLimit) -> FailureShareExceeded? {
        let sources = Dictionary(grouping: outcomes, by: \.source)
        for source in sources.keys.sorted() {
            let rows = sources[source]!
            let total = rows.reduce(0) { $0 + $1.count }
            let failures = rows.filter { $0.status != .ok }
            let failed = failures.reduce(0) { $0 + $1.count }
            guard total >= limit.minSamples, total > 0, Double(failed) > limit.maxShare * Double(total),
                  let top = failures.max(by: { ($0.count, $1.status) < ($1.count, $0.status) }) else { continue }
            return FailureShareExceeded(stage: stage, shard: shard, source: source, failed: failed, total: total,
                                        limit: limit.maxShare, status: top.status, statusCount: top.count,
                                        sampleKey: top.exampleKey, reason: top.exampleReason)
        }
        return nil
    }
}
