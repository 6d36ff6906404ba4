import Basics

/// What one shard's `_stats.json` reports, gathered as samples are written.
struct ShardStats {
    var count = 0
    var firstKey: String?
    var lastKey: String?
    /// Per member name: how many and how many bytes of data (headers not counted).
    var members: [String: (count: Int, bytes: Int)] = [:]
    /// Per label, per value: how many samples.
    var labels: [String: [String: Int]] = [:]
    /// Per value name: finite observations, min, max, sum.
    var values: [String: (count: Int, min: Double, max: Double, sum: Double)] = [:]

    mutating func add(key: String, memberSizes: [(String, Int)], labels sampleLabels: [String: String],
                      values sampleValues: [String: Double]) {
        count += 1
        if firstKey == nil { firstKey = key }
        lastKey = key
        for (name, size) in memberSizes {
            let old = members[name] ?? (0, 0)
            members[name] = (old.count + 1, old.bytes + size)
        }
        for (label, value) in sampleLabels { labels[label, default: [:]][value, default: 0] += 1 }
        for (name, value) in sampleValues where value.isFinite {
            if let old = values[name] {
                values[name] = (old.count + 1, Swift.min(old.min, value), Swift.max(old.max, value), old.sum + value)
            } else {
                values[name] = (1, value, value, value)
            }
        }
    }

    /// The stats record; `bytes` and `sha256` are the finished tar's.
    func json(name: String, bytes: Int, sha256: String?) -> JSONValue {
        .object([
            "shard": .string(name),
            "count": .int(count),
            "bytes": .int(bytes),
            "sha256": .optional(sha256),
            "first_key": .optional(firstKey),
            "last_key": .optional(lastKey),
            "members": .object(members.mapValues { .object(["count": .int($0.count), "bytes": .int($0.bytes)]) }),
            "labels": .object(labels.mapValues { .object($0.mapValues { .int($0) }) }),
            "values": .object(values.mapValues {
                .object(["count": .int($0.count), "min": .double($0.min), "max": .double($0.max),
                         "mean": .double($0.sum / Double($0.count))])
            }),
        ])
    }
}
