import Foundation
import Imaging
import MED
import Tensor

/// A filter threshold chosen on held-out human pairs instead of BLIP's fixed 0.5: the ITM match
/// probability that `keep` of the human captions reach (their (1 − keep) quantile). Human captions
/// are the clean reference the filter is meant to accept; only they are used, never test labels
/// or the noisy data being filtered, so the threshold adapts to a model's calibration (a small
/// model trained briefly is rarely centred on 0.5) without tuning on what it judges.
struct FilterCalibration {
    /// (image path, caption) of every human pair.
    var pairs: [(image: String, caption: String)]

    /// A Karpathy / BLIP json list (`[{image, caption: text or [texts]}]`, image paths relative to
    /// the file's folder) or a COCO captions file (`images` + `annotations`, paths relative to
    /// `imageRoot`).
    init(path: String, imageRoot: String?) throws {
        guard let json = readJSON(path: path) else { throw StageFailure("calibration", "\(path): not readable JSON") }
        pairs = []
        if let list = captionList(json, imageRoot: imageRoot ?? (path as NSString).deletingLastPathComponent) {
            for (image, captions) in list { for c in captions { pairs.append((image, c)) } }
        } else if let coco = json as? [String: Any], let images = coco["images"] as? [[String: Any]],
                  let annotations = coco["annotations"] as? [[String: Any]] {
            guard let root = imageRoot else {
                throw StageFailure("calibration", "\(path): a COCO captions file needs calibrate_image_root")
            }
            var files: [Int: String] = [:]
            for image in images {
                if let id = image["id"] as? Int, let name = image["file_name"] as? String { files[id] = name }
            }
            for a in annotations {
                guard let id = a["image_id"] as? Int, let file = files[id], let caption = a["caption"] as? String else { continue }
                pairs.append((file.hasPrefix("/") ? file : root + "/" + file, caption))
            }
        }
        guard !pairs.isEmpty else { throw StageFailure("calibration", "\(path): no (image, caption) pairs") }
    }

    /// The (1 − keep) quantile of the pairs' ITM probabilities; `score` gives the probabilities of
    /// (image slot, caption) pairs for a batch of images.
    func threshold(keep: Double, imageSize: Int, batchImages: Int,
                   score: ([(Int, String)], [[Float]]) -> [Double]) throws -> (threshold: Double, pairs: Int) {
        let paths = Array(Set(pairs.map(\.image))).sorted()
        let slot = Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, $0) })
        var probabilities: [Double] = []
        for start in stride(from: 0, to: paths.count, by: batchImages) {
            let chunk = Array(paths[start..<min(paths.count, start + batchImages)])
            let pixels = try zip(chunk, transformImageFiles(chunk, size: imageSize)).map { path, decoded in
                do { return try decoded.get() } catch { throw StageFailure("calibration", "\(path): \(error)") }
            }
            let batchPairs = pairs.filter { slot[$0.image]! >= start && slot[$0.image]! < start + chunk.count }
                .map { (slot[$0.image]! - start, $0.caption) }
            probabilities += score(batchPairs, pixels)
        }
        probabilities.sort()
        let index = min(probabilities.count - 1, Int((Double(probabilities.count) * (1 - keep)).rounded(.down)))
        return (probabilities[index], probabilities.count)
    }
}
