import Catalog
import Foundation
import Pipeline

/// The semantic dedup's records judged against planted semantic duplicates (the demo's
/// `semantic/planted_pairs.json`: `[{original, variant}]`, web sample keys). A pair is found when
/// one of the two is recorded as a semantic duplicate of the other. Recall: found pairs over
/// planted pairs; precision: found pairs over all semantic-duplicate records.
struct SemanticDedupOutcome {
    var planted: Int
    var found: Int
    var records: Int

    var recall: Double { planted == 0 ? 0 : Double(found) / Double(planted) }
    var precision: Double { records == 0 ? 0 : Double(found) / Double(records) }

    /// `planted` pairs of keys against `recorded` semantic duplicates, each as the web keys of the
    /// duplicate and its representative (nil where one is not a web sample).
    init(planted: [(original: String, variant: String)], recorded: [(duplicate: String?, representative: String?)]) {
        let pairs = Set(planted.map { [$0.original, $0.variant].sorted() })
        var found = Set<[String]>()
        for r in recorded {
            guard let a = r.duplicate, let b = r.representative else { continue }
            if pairs.contains([a, b].sorted()) { found.insert([a, b].sorted()) }
        }
        self.planted = pairs.count
        self.found = found.count
        records = recorded.count
    }

    /// The labels file and the semantic-duplicate records of every shard.
    init(_ context: DatasetContext, labels path: String) throws {
        guard context.upstream(type: "dedup") != nil else {
            throw StageFailure(.config, "semantic_duplicate_labels needs a dedup stage upstream (with `semantic: true`)")
        }
        guard let data = FileManager.default.contents(atPath: path),
              let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw StageFailure(.io, "\(path): expected a JSON list of {original, variant}")
        }
        let planted = try rows.map { row -> (original: String, variant: String) in
            guard let original = row["original"], let variant = row["variant"] else {
                throw StageFailure(.io, "\(path): a row without original or variant")
            }
            return ("\(original)", "\(variant)")
        }
        var recorded: [(duplicate: String?, representative: String?)] = []
        for catalog in context.catalogs {
            try catalog.read { session in
                for record in try session.duplicates() where record.kind == "semantic" {
                    // Only web samples carry the planted keys (a human sample's key may be the same number).
                    guard let sample = try session.sample(id: record.sampleID), sample.origin == .web,
                          record.representative.hasPrefix(sample.source + "/") else {
                        recorded.append((nil, nil))
                        continue
                    }
                    recorded.append((sample.key, String(record.representative.dropFirst(sample.source.count + 1))))
                }
            }
        }
        self.init(planted: planted, recorded: recorded)
    }
}
