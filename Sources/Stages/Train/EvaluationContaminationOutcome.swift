import Catalog
import Foundation
import Pipeline

/// The decontaminate stages' verdicts joined to the known planted copies (`contamination_labels`:
/// `[{web_key, test_image}]`): the share of planted copies found, and the web samples removed
/// that were no copy.
struct ContaminationOutcome {
    var planted: Int
    var found: Int
    var cleanRemoved: Int
    var recall: Double { planted == 0 ? 0 : Double(found) / Double(planted) }

    init(_ context: DatasetContext, labels path: String) throws {
        let rows = try EvaluationFiles.labelList(path, shape: "{web_key, test_image}")
        let plantedKeys = Set(rows.compactMap { $0["web_key"].map { "\($0)" } })
        let stages = context.allUpstream.filter { $0.type == "decontaminate" }
        guard !stages.isEmpty else { throw StageFailure(.config, "contamination_labels needs a decontaminate stage upstream") }
        var removed: Set<String> = []
        for catalog in context.catalogs {
            for stage in stages {
                for s in try catalog.read({ try $0.contaminatedSamples(stage: stage.name, fingerprint: stage.fingerprint) }) {
                    removed.insert(s.key)
                }
            }
        }
        planted = plantedKeys.count
        found = plantedKeys.intersection(removed).count
        cleanRemoved = removed.subtracting(plantedKeys).count
    }
}
