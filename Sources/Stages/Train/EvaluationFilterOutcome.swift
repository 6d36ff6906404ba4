import Catalog
import Evaluation
import Foundation
import Pipeline

/// The filter's decisions on web texts joined to the known noise of each web row (by the
/// sample key, which for a CC3M manifest is the row number), and its verdicts on synthetic texts.
struct FilterOutcome {
    var detection: DetectionMetrics
    /// The same texts judged by BLIP's rule (ITM probability below 0.5 dropped), from the stored
    /// scores: the reference point when the filter's threshold was calibrated.
    var detectionAtBLIPThreshold: DetectionMetrics
    /// Recall per noise kind and, where the labels name it, the attribute that was changed
    /// ("wrong_attribute (shape)"): which errors the filter can see.
    var detectionByChange: DetectionMetrics
    var syntheticNoiseRatio: Double
    /// The ITM probability below which the filter dropped a text, and how it was chosen.
    var threshold: Double
    var thresholdOrigin: String

    init(_ context: DatasetContext, labels path: String) throws {
        guard let filter = context.upstream(type: "filter") else { throw StageFailure(.config, "no filter stage upstream") }
        let synthetic = context.upstream(type: "caption")?.fingerprint
        let rows = try EvaluationFiles.labelList(path, shape: "{key, kind}")
        var kindOf: [String: String] = [:], changeOf: [String: String] = [:]
        for row in rows {
            guard let kind = row["kind"] as? String, let key = row["key"] else { continue }
            kindOf["\(key)"] = kind
            if let changed = row["changed"] as? String { changeOf["\(key)"] = "\(kind) (\(changed))" }
        }
        var dropped: [Bool] = [], droppedAtHalf: [Bool] = [], kinds: [String] = [], changes: [String] = []
        var syntheticDropped = 0, syntheticTotal = 0
        var recorded: FilterThreshold?
        for catalog in context.catalogs {
            try catalog.read { session in
                let decisions = try session.decisions(fingerprint: filter.fingerprint)
                if recorded == nil { recorded = try session.filterThreshold(fingerprint: filter.fingerprint) }
                var keys: [Int64: String] = [:]
                for t in try session.textsOfSamples(passing: filter.requirement, syntheticFingerprint: synthetic) {
                    guard let d = decisions[t.id] else { continue }
                    if t.origin == .synthetic {
                        syntheticTotal += 1
                        if !d.kept { syntheticDropped += 1 }
                    } else if t.origin == .web {
                        if keys[t.sampleID] == nil { keys[t.sampleID] = try session.sample(id: t.sampleID)?.key ?? "" }
                        let key = keys[t.sampleID]!
                        guard let kind = kindOf[key] else { continue }
                        changes.append(changeOf[key] ?? kind)
                        dropped.append(!d.kept)
                        droppedAtHalf.append((d.itmProbability ?? 1) < FilterStage.blipThreshold)
                        kinds.append(kind)
                    }
                }
            }
        }
        guard let recorded else { throw StageFailure(.config, "the filter `\(filter.name)` recorded no threshold: it decided nothing") }
        threshold = recorded.value
        thresholdOrigin = recorded.origin == .fixed ? "fixed" : recorded.summary
        detection = Detection.evaluate(dropped: dropped, kinds: kinds)
        detectionAtBLIPThreshold = Detection.evaluate(dropped: droppedAtHalf, kinds: kinds)
        detectionByChange = Detection.evaluate(dropped: dropped, kinds: changes)
        syntheticNoiseRatio = syntheticTotal == 0 ? 0 : Double(syntheticDropped) / Double(syntheticTotal)
    }
}
