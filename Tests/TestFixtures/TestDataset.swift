import Foundation
import Imaging

/// A small dataset on disk for the pipeline and stage tests: JPEG images of coloured shapes with captions, in
/// BLIP pretrain json manifests, with planted problems and duplicates:
/// - web.json: `distinct` images, then an exact copy of image 0 (same bytes), a re-encoded copy
///   of image 1 (quality 60), a resized copy of image 2, a slightly cropped copy of image 3, a
///   corrupt file, a truncated JPEG and a path that does not exist;
/// - human.json: `human` more images with five human captions each, in the Karpathy val/test
///   layout (one row malformed: no caption).
public struct TestDataset {
    public let folder: URL
    public let distinct: Int
    public let human: Int

    public static let plantedExact = "copy-of-0"
    public static let plantedNear = ["reencoded-1", "resized-2", "cropped-3"]

    public init(folder: URL, distinct: Int = 24, human: Int = 6) throws {
        self.folder = folder
        self.distinct = distinct
        self.human = human
        let images = folder.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var rng = SplitMix(seed: 7)
        var web: [[String: String]] = []
        var originals: [RGBImage] = []
        let colours = ["red", "green", "blue", "yellow", "white", "black"]
        let shapes = ["square", "bar", "block"]
        for i in 0..<(distinct + human) {
            let image = Self.scene(&rng, width: 64 + Int(rng.next() % 32), height: 48 + Int(rng.next() % 32))
            originals.append(image)
            let name = String(format: "img-%03d.jpg", i)
            try Data(try ImageEncoder.jpeg(image, quality: 90)).write(to: images.appendingPathComponent(name))
            let caption = "a \(colours[i % colours.count]) \(shapes[i % shapes.count]) on a plain background"
            if i < distinct {
                web.append(["image": "images/" + name, "caption": i % 5 == 4 ? "IMG_\(2000 + i)" : caption])
            }
        }
        // Planted duplicates.
        try FileManager.default.copyItem(at: images.appendingPathComponent("img-000.jpg"),
                                         to: images.appendingPathComponent("\(Self.plantedExact).jpg"))
        try Data(try ImageEncoder.jpeg(originals[1], quality: 60)).write(to: images.appendingPathComponent("reencoded-1.jpg"))
        let resized = ExportResizer(imageSize: 40, mode: .keepRatio)(originals[2])
        try Data(try ImageEncoder.jpeg(resized, quality: 90)).write(to: images.appendingPathComponent("resized-2.jpg"))
        let o3 = originals[3]
        let cropped = crop(o3, x: 1, y: 1, width: o3.width - 2, height: o3.height - 2)
        try Data(try ImageEncoder.jpeg(cropped, quality: 90)).write(to: images.appendingPathComponent("cropped-3.jpg"))
        for name in [Self.plantedExact] + Self.plantedNear {
            web.append(["image": "images/\(name).jpg", "caption": "a duplicate of an earlier picture"])
        }
        // Bad inputs.
        try Data((0..<900).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: images.appendingPathComponent("corrupt.jpg"))
        let whole = try ImageEncoder.jpeg(originals[5], quality: 90)
        try Data(whole.prefix(whole.count / 3)).write(to: images.appendingPathComponent("truncated.jpg"))
        web.append(["image": "images/corrupt.jpg", "caption": "random bytes"])
        web.append(["image": "images/truncated.jpg", "caption": "the first third of a picture"])
        web.append(["image": "images/missing.jpg", "caption": "a picture that is not there"])
        try JSONSerialization.data(withJSONObject: web, options: [.sortedKeys]).write(to: folder.appendingPathComponent("web.json"))

        var humanRows: [[String: Any]] = []
        for i in distinct..<(distinct + human) {
            let name = String(format: "img-%03d.jpg", i)
            humanRows.append(["image": "images/" + name, "caption": (0..<5).map { "a photo of shape number \(i), take \($0)" }])
        }
        humanRows.append(["image": "images/img-000.jpg"])
        try JSONSerialization.data(withJSONObject: humanRows, options: [.sortedKeys]).write(to: folder.appendingPathComponent("human.json"))
    }

    /// A few coloured rectangles on a background: distinct enough that perceptual hashes differ.
    public static func scene(_ rng: inout SplitMix, width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height,
                             fill: (UInt8(rng.next() % 256), UInt8(rng.next() % 256), UInt8(rng.next() % 256)))
        for _ in 0..<4 {
            let w = 8 + Int(rng.next() % UInt64(width / 2)), h = 8 + Int(rng.next() % UInt64(height / 2))
            let x0 = Int(rng.next() % UInt64(width - w)), y0 = Int(rng.next() % UInt64(height - h))
            let c = (UInt8(rng.next() % 256), UInt8(rng.next() % 256), UInt8(rng.next() % 256))
            for y in y0..<(y0 + h) {
                for x in x0..<(x0 + w) {
                    let i = (y * width + x) * 3
                    image.pixels[i] = c.0; image.pixels[i + 1] = c.1; image.pixels[i + 2] = c.2
                }
            }
        }
        return image
    }

    /// Tests/MEDTests/Fixtures/med: the tiny random BLIP models of the parity tests.
    public static var models: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MEDTests/Fixtures/med")
    }

    /// The test pipeline over this dataset; `threshold` and `workdir` vary between tests, and the
    /// caption and filter batch sizes, captions per image and the filter's best-of-N settings
    /// (`keepTop`, `rankBy`; left out of the file when nil) where a test needs them to.
    /// `semantic`: dedup also runs SemDeDup on the filter's embeddings. `evaluationFolder`: a
    /// decontaminate stage after decode matches the dataset's images against that folder's.
    public func pipelineYAML(workdir: URL, threshold: Double = 0.5, shards: Int = 1, captionStrategy: String = "nucleus",
                      captionBatchSize: Int = 3, filterBatchSize: Int = 4, captionsPerImage: Int = 1,
                      keepTop: Int? = nil, rankBy: String? = nil, semantic: Bool = false, evaluationFolder: String? = nil) -> String {
        let decontaminate = evaluationFolder.map {
            """

              decontaminate:
                needs: [decode]
                eval_sets:
                  - {path: \($0), name: held-out}
                phash: true
                radius: 2
                residual: 0.2
            """
        } ?? ""
        return """
        dataset: pipeline-test
        workdir: \(workdir.path)
        shards: \(shards)
        threads: 1
        stages:
          ingest:
            manifests:
              - {path: web.json, format: blip-pretrain, source: web}
              - {path: human.json, format: karpathy, source: people}
            batch_size: 7
          fetch:
            needs: [ingest]
            allow_private: true
            fsync: false
          decode:
            needs: [fetch]
            batch_size: 5
            resize: 24\(decontaminate)
          caption:
            needs: [\(evaluationFolder == nil ? "decode" : "decontaminate")]
            model: \(Self.models.appendingPathComponent("captioner").path)
            batch_size: \(captionBatchSize)
            strategy: \(captionStrategy)
            max_length: 12
            min_length: 4\(captionsPerImage == 1 ? "" : "\n    captions_per_image: \(captionsPerImage)")
          filter:
            needs: [caption]
            model: \(Self.models.appendingPathComponent("itm").path)
            batch_size: \(filterBatchSize)
            threshold: \(threshold)\(keepTop.map { "\n    keep_top: \($0)" } ?? "")\(rankBy.map { "\n    rank_by: \($0)" } ?? "")
          dedup:
            needs: [decode, caption\(semantic ? ", filter" : "")]
            radius: 6\(semantic ? "\n    semantic: true\n    clusters: 4\n    epsilon: 0.1" : "")
          assemble:
            needs: [filter, dedup]
          export:
            needs: [assemble]
            samples_per_shard: 10
            fsync: false
          report:
            needs: [export]
            samples: 8
        """
    }

    public func writePipeline(workdir: URL, threshold: Double = 0.5, shards: Int = 1, captionStrategy: String = "nucleus",
                       captionBatchSize: Int = 3, filterBatchSize: Int = 4, captionsPerImage: Int = 1,
                       keepTop: Int? = nil, rankBy: String? = nil, semantic: Bool = false, evaluationFolder: String? = nil,
                       name: String = "pipeline.yaml") throws -> String {
        let path = folder.appendingPathComponent(name).path
        try pipelineYAML(workdir: workdir, threshold: threshold, shards: shards, captionStrategy: captionStrategy,
                         captionBatchSize: captionBatchSize, filterBatchSize: filterBatchSize, captionsPerImage: captionsPerImage,
                         keepTop: keepTop, rankBy: rankBy, semantic: semantic, evaluationFolder: evaluationFolder)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension TestDataset {
    /// Gives the file behind one image path new bytes: a different picture drawn from `seed`, as
    /// when the image behind a URL changes between two fetches.
    public func replaceImage(_ name: String, seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let picture = Self.scene(&rng, width: 64 + Int(rng.next() % 32), height: 48 + Int(rng.next() % 32))
        try Data(try ImageEncoder.jpeg(picture, quality: 90)).write(to: folder.appendingPathComponent("images/" + name))
    }

    /// Gives the file behind one image path the bytes of another image of the dataset.
    public func replaceImage(_ name: String, withCopyOf other: String) throws {
        let images = folder.appendingPathComponent("images")
        try Data(contentsOf: images.appendingPathComponent(other)).write(to: images.appendingPathComponent(name))
    }
}

/// The dataset's seeded generator: Imaging's SplitMix64, so the dataset is the same on every machine.
public typealias SplitMix = SplitMix64

public func temporaryFolder(_ label: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-\(label)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
