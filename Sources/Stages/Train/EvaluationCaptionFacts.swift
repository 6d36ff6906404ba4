import Catalog
import Evaluation
import Foundation
import Pipeline

/// How many synthetic captions are false, judged against known facts of their images
/// (`caption_facts`: JSON Lines of `{"key", "facts": [{"accept": [...], "reject": [...]}]}`, keyed
/// like the noise labels), before the filter and among the captions it kept. The second share
/// is the noise a bootstrapped model still learns from; the filter's own drop share
/// (`synthetic_noise_ratio`) cannot tell it, since a confident false caption is kept.
struct CaptionFactOutcome {
    /// Every judged synthetic caption of a sample with facts.
    var all: Proportion
    /// Those the filter kept.
    var kept: Proportion

    init(_ context: DatasetContext, facts path: String) throws {
        guard let filter = context.upstream(type: "filter") else { throw StageFailure(.config, "no filter stage upstream") }
        let synthetic = context.upstream(type: "caption")?.fingerprint
        let facts = try Self.read(path)
        var falseAll = 0, totalAll = 0, falseKept = 0, totalKept = 0
        for catalog in context.catalogs {
            try catalog.read { session in
                let decisions = try session.decisions(fingerprint: filter.fingerprint)
                // nil: the sample has no facts (a row the facts file does not list).
                var factsOfSample: [Int64: [CaptionFact]?] = [:]
                for t in try session.textsOfSamples(passing: filter.requirement, syntheticFingerprint: synthetic)
                where t.origin == .synthetic {
                    guard let decision = decisions[t.id] else { continue }
                    if factsOfSample[t.sampleID] == nil {
                        factsOfSample[t.sampleID] = .some(try session.sample(id: t.sampleID).flatMap { facts[$0.key] })
                    }
                    guard case .some(.some(let known)) = factsOfSample[t.sampleID] else { continue }
                    let isFalse = !CaptionFacts.holds(known, caption: t.text)
                    totalAll += 1
                    if isFalse { falseAll += 1 }
                    if decision.kept {
                        totalKept += 1
                        if isFalse { falseKept += 1 }
                    }
                }
            }
        }
        all = Proportion(count: falseAll, total: totalAll)
        kept = Proportion(count: falseKept, total: totalKept)
    }

    static func read(_ path: String) throws -> [String: [CaptionFact]] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw StageFailure(.io, "\(path): cannot read")
        }
        var out: [String: [CaptionFact]] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let key = object["key"],
                  let facts = object["facts"] as? [[String: Any]] else {
                throw StageFailure(.io, "\(path):\(number + 1): expected {\"key\", \"facts\": [{\"accept\": [...], \"reject\": [...]}]}")
            }
            out["\(key)"] = facts.map {
                CaptionFact(accept: $0["accept"] as? [String] ?? [], reject: $0["reject"] as? [String] ?? [])
            }
        }
        return out
    }
}
