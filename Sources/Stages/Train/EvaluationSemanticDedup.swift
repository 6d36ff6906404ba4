import Catalog
import Foundation
import Pipeline

/// The semantic dedup's records judged against planted semantic duplicates (the demo's
/// `semantic/planted_pairs.json`: `[{original, variant}]`, web sample keys). A pair is found when
/// its two samples end in one group: one is recorded as a duplicate of the other, or both of the
/// same kept sample (SemDeDup keeps the best of a cluster's near-identical images, which may be a
/// third one). Recall: found pairs over planted pairs; precision: the dropped samples whose
/// planted partner is in their group, over all semantic-duplicate records.
struct SemanticDedupOutcome {
    var planted: Int
    var found: Int
    var records: Int
    var correctDrops: Int

    var recall: Double { planted == 0 ? 0 : Double(found) / Double(planted) }
    var precision: Double { records == 0 ? 0 : Double(correctDrops) / Double(records) }

    /// `planted` pairs of web keys against `recorded` semantic duplicates, each as the name
    /// ("source/key") of the duplicate and of the sample kept for it; `webSource` names the web
    /// samples' source.
    init(planted: [(original: String, variant: String)], recorded: [(duplicate: String, representative: String)], webSource: String?) {
        var keptFor: [String: String] = [:]
        for r in recorded { keptFor[r.duplicate] = r.representative }
        func group(_ name: String) -> String { keptFor[name] ?? name }
        var found = 0, correct = 0
        for pair in planted {
            guard let source = webSource else { break }
            let (a, b) = (source + "/" + pair.original, source + "/" + pair.variant)
            guard group(a) == group(b) else { continue }
            found += 1
            if keptFor[a] != nil { correct += 1 }
            if keptFor[b] != nil { correct += 1 }
        }
        self.planted = planted.count
        self.found = found
        records = recorded.count
        correctDrops = correct
    }

    /// The labels file and the semantic-duplicate records of every shard.
    init(_ context: DatasetContext, labels path: String) throws {
        guard context.upstream(type: "dedup") != nil else {
            throw StageFailure(.config, "semantic_duplicate_labels needs a dedup stage upstream (with `semantic: true`)")
        }
        let rows = try EvaluationFiles.labelList(path, shape: "{original, variant}")
        let planted = try rows.map { row -> (original: String, variant: String) in
            guard let original = row["original"], let variant = row["variant"] else {
                throw StageFailure(.io, "\(path): a row without original or variant")
            }
            return ("\(original)", "\(variant)")
        }
        var recorded: [(duplicate: String, representative: String)] = []
        var webSource: String?
        for catalog in context.catalogs {
            try catalog.read { session in
                for record in try session.duplicates() where record.kind == "semantic" {
                    guard let sample = try session.sample(id: record.sampleID) else { continue }
                    // Only web samples carry the planted keys (a human sample's key may be the same number).
                    if sample.origin == .web { webSource = sample.source }
                    recorded.append((sample.source + "/" + sample.key, record.representative))
                }
            }
        }
        self.init(planted: planted, recorded: recorded, webSource: webSource)
    }
}
