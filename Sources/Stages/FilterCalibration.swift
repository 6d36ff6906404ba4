import Dispatch
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
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) else {
            throw StageFailure("calibration", "\(path): not readable JSON")
        }
        func resolve(_ file: String, _ root: String) -> String { file.hasPrefix("/") ? file : root + "/" + file }
        pairs = []
        if let list = json as? [[String: Any]] {
            let folder = imageRoot ?? (path as NSString).deletingLastPathComponent
            for entry in list {
                guard let image = entry["image"] as? String else { continue }
                let captions = (entry["caption"] as? [String]) ?? (entry["caption"] as? String).map { [$0] } ?? []
                for c in captions { pairs.append((resolve(image, folder), c)) }
            }
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
                pairs.append((resolve(file, root), caption))
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
        let transform = BlipImageTransform(size: imageSize)
        var probabilities: [Double] = []
        for start in stride(from: 0, to: paths.count, by: batchImages) {
            let chunk = Array(paths[start..<min(paths.count, start + batchImages)])
            let decoded = UnsafeResults<Result<[Float], Error>>(count: chunk.count)
            DispatchQueue.concurrentPerform(iterations: chunk.count) { i in
                decoded[i] = Result { transform(try ImageDecoder.decode(contentsOf: chunk[i])) }
            }
            let pixels = try (0..<chunk.count).map { i in
                do { return try decoded[i]!.get() } catch {
                    throw StageFailure("calibration", "\(chunk[i]): \(error)")
                }
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
