import Foundation
import Imaging
import Ingest
import MED
import Tensor

/// A filter threshold chosen on held-out pairs instead of BLIP's fixed 0.5, so that it adapts to
/// a model's calibration (a small model trained briefly is rarely centred on 0.5) without tuning
/// on what it judges: never the test labels or the noisy data being filtered.
///
/// Two kinds of held-out pairs, two rules:
/// - human captions only (all of them match): `keep`, the ITM probability that a chosen share of
///   them reach. It fixes how many clean texts are dropped (1 − keep), whatever the noise.
/// - an audited sample, every pair marked `match: true|false` (what a data team checks by hand):
///   `f1`, the threshold whose drops best find the mismatches (the highest F1 of precision and
///   recall of "dropped = mismatch"). It weighs both errors at the noise level actually met.
struct FilterCalibration {
    /// `calibrate_rule`'s words.
    enum RuleName: String, CaseIterable, Sendable { case keep, f1 }

    enum Rule: Equatable {
        case keep(Double)
        case f1

        /// `calibrate_rule`'s value.
        var name: String {
            switch self {
            case .keep: return RuleName.keep.rawValue
            case .f1: return RuleName.f1.rawValue
            }
        }

        /// The share of matching pairs `keep` keeps.
        var keepShare: Double? {
            if case .keep(let share) = self { return share }
            return nil
        }
    }

    /// (image path, caption, whether they match; nil for a list without labels: human captions).
    var pairs: [(image: String, caption: String, match: Bool?)]

    /// Every pair carries a match label.
    var labelled: Bool { pairs.allSatisfy { $0.match != nil } }

    /// A Karpathy / BLIP json list (`[{image, caption: text or [texts]}]`, image paths relative to
    /// the file's folder), optionally with `"match": true|false` on every entry, or a COCO
    /// captions file (`images` + `annotations`, paths relative to `imageRoot`).
    init(path: String, imageRoot: String?) throws {
        guard let json = readJSON(path: path) else { throw StageFailure(.calibration, "\(path): not readable JSON") }
        pairs = []
        let root = imageRoot ?? (path as NSString).deletingLastPathComponent
        if let list = json as? [[String: Any]], list.contains(where: { $0["match"] != nil }) {
            for (i, result) in BLIPJSONList.entries(json: list)!.enumerated() {
                guard let entry = try? result.get(), entry.captions.count == 1, let match = entry.match else {
                    throw StageFailure(.calibration, "\(path): entry \(i) needs image, caption and match (true or false), as the others have")
                }
                pairs.append((resolvedImagePath(entry.image, root: root), entry.captions[0], match))
            }
        } else if let list = captionList(json, imageRoot: root) {
            for (image, captions) in list { for c in captions { pairs.append((image, c, nil)) } }
        } else if let coco = json as? [String: Any], let images = coco["images"] as? [[String: Any]],
                  let annotations = coco["annotations"] as? [[String: Any]] {
            guard let imageRoot else {
                throw StageFailure(.calibration, "\(path): a COCO captions file needs calibrate_image_root")
            }
            var files: [Int: String] = [:]
            for image in images {
                if let id = image["id"] as? Int, let name = image["file_name"] as? String { files[id] = name }
            }
            for a in annotations {
                guard let id = a["image_id"] as? Int, let file = files[id], let caption = a["caption"] as? String else { continue }
                pairs.append((resolvedImagePath(file, root: imageRoot), caption, nil))
            }
        }
        guard !pairs.isEmpty else { throw StageFailure(.calibration, "\(path): no (image, caption) pairs") }
    }

    /// What a rule chose, and how the held-out pairs fare under it.
    struct Outcome {
        var threshold: Double
        var pairs: Int
        /// With labels: of the dropped pairs, the share that do not match; of those that do not
        /// match, the share dropped.
        var precision: Double?
        var recall: Double?
    }

    /// Scores every pair with the filter's scorer, `batchImages` images at a time, and applies `rule`.
    func threshold(rule: Rule, scorer: ITMScorer, batchImages: Int) throws -> Outcome {
        let transform = BlipImageTransform(size: scorer.imageSize)
        let paths = Array(Set(pairs.map(\.image))).sorted()
        let slot = Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, $0) })
        var probabilities = [Double](repeating: 0, count: pairs.count)
        for start in stride(from: 0, to: paths.count, by: batchImages) {
            let chunk = Array(paths[start..<min(paths.count, start + batchImages)])
            let pixels = try zip(chunk, transform.transformFiles(chunk)).map { path, decoded in
                do { return try decoded.get() } catch { throw StageFailure(.calibration, "\(path): \(error)") }
            }
            let members = pairs.indices.filter { slot[pairs[$0].image]! >= start && slot[pairs[$0].image]! < start + chunk.count }
            let batchScores = scorer.score(members.map { (slot[pairs[$0].image]! - start, pairs[$0].caption) }, images: pixels)
            for (i, score) in zip(members, batchScores) { probabilities[i] = score.itm }
        }
        switch rule {
        case .keep(let keep):
            // Human captions only: a labelled list contributes its matching pairs.
            let clean = zip(pairs, probabilities).filter { $0.0.match ?? true }.map(\.1).sorted()
            guard !clean.isEmpty else { throw StageFailure(.calibration, "no matching pairs to keep") }
            let index = min(clean.count - 1, Int((Double(clean.count) * (1 - keep)).rounded(.down)))
            return Outcome(threshold: clean[index], pairs: clean.count)
        case .f1:
            guard labelled else { throw StageFailure(.calibration, "calibrate_rule f1 needs every pair marked with match") }
            let mismatched = zip(pairs, probabilities).map { (p: $0.1, noise: $0.0.match == false) }
            guard let best = Self.bestF1(mismatched) else {
                throw StageFailure(.calibration, "calibrate_rule f1 needs both matching and mismatched pairs")
            }
            return Outcome(threshold: best.threshold, pairs: pairs.count, precision: best.precision, recall: best.recall)
        }
    }

    /// The threshold (drop below it) whose drops have the highest F1 as a detector of `noise`;
    /// it lies halfway between the last dropped and the first kept probability, so that it does
    /// not sit on a held-out score. nil without both kinds of pairs.
    static func bestF1(_ scored: [(p: Double, noise: Bool)]) -> (threshold: Double, precision: Double, recall: Double)? {
        let sorted = scored.sorted { $0.p < $1.p }
        let totalNoise = sorted.filter(\.noise).count
        guard totalNoise > 0, totalNoise < sorted.count else { return nil }
        // Dropping the k lowest: F1 = 2 TP / (k + noise). Only k between distinct scores is a threshold.
        var best: (k: Int, tp: Int, f1: Double) = (0, 0, 0)
        var tp = 0
        for k in 1...sorted.count {
            if sorted[k - 1].noise { tp += 1 }
            if k < sorted.count && sorted[k].p == sorted[k - 1].p { continue }
            let f1 = 2 * Double(tp) / Double(k + totalNoise)
            if f1 > best.f1 { best = (k, tp, f1) }
        }
        let threshold = best.k < sorted.count ? (sorted[best.k - 1].p + sorted[best.k].p) / 2 : sorted[best.k - 1].p.nextUp
        return (threshold, Double(best.tp) / Double(best.k), Double(best.tp) / Double(totalNoise))
    }
}
