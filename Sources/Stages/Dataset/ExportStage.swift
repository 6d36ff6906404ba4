import Basics
import Catalog
import Export
import Foundation
import Pipeline

/// Writes the bootstrapped set for researchers: WebDataset shards (one sample per image-text
/// pair: `KEY.jpg`, `KEY.txt`, `KEY.json` with source, origin, scores and decision, plus a
/// `_stats.json` per shard and `shards.json`), BLIP's pretrain json (`{image, caption}`) and
/// BLIP's released format (`{url, caption}`, web images only). With `group_by_image`, a shard
/// sample and a pretrain entry hold one image with all of its kept texts (the image written once;
/// `KEY.json` lists the texts, the pretrain entry's `caption` is a list). Shards are written under a
/// temporary name and renamed when complete; the order is (shard, sample id, origin, position),
/// so the same catalog gives byte-identical files. The pretrain json names each image by its path
/// relative to the export folder (`../shards/00000-of-00001/blobs/ab/cd/<sha256>.jpg`), so two
/// workdirs with the same data export the same bytes, and a moved workdir still resolves.
final class ExportStage: DatasetStage {
    let samplesPerShard: Int
    let useResized: Bool
    let webdataset: Bool
    let pretrainJSON: Bool
    let releasedJSON: Bool
    let durable: Bool
    let groupByImage: Bool

    /// The stage's parameters, each declared once.
    enum Keys {
        static let samplesPerShard = StageParameter("samples_per_shard", .int(1...10_000_000), default: 10_000, help: "samples per WebDataset tar: image-text pairs, or images with `group_by_image`")
        static let image = StageParameter("image", .choice(["original", "resized"]), default: "original", help: "the fetched bytes, or decode's resized copy")
        static let webdataset = StageParameter("webdataset", .bool, default: true, help: "write WebDataset shards")
        static let blipPretrainJson = StageParameter("blip_pretrain_json", .bool, default: true, help: "write BLIP's pretrain json ({image, caption})")
        static let blipReleasedJson = StageParameter("blip_released_json", .bool, default: true, help: "write BLIP's released format ({url, caption}, web images)")
        static let groupByImage = StageParameter("group_by_image", .bool, default: false, help: "one sample per image with every kept text (KEY.txt the first, KEY.json all of them; pretrain json captions as a list) instead of one per image-text pair")
        static let fsync = StageParameter("fsync", .bool, default: true, affectsResults: false, help: "flush every file to disk before it is renamed into place")

        static let all = [samplesPerShard.spec, image.spec, webdataset.spec, blipPretrainJson.spec, blipReleasedJson.spec, groupByImage.spec, fsync.spec]
    }

    static let type = StageType(
        name: "export", kind: .wholeDataset, summary: "WebDataset shards and BLIP json of the assembled set.",
        parameters: Keys.all,
        requires: ["assemble"],
        make: { setup in ExportStage(setup.parameters) })

    init(_ p: StageParameters) {
        samplesPerShard = p[Keys.samplesPerShard]
        useResized = p[Keys.image] == "resized"
        webdataset = p[Keys.webdataset]
        pretrainJSON = p[Keys.blipPretrainJson]
        releasedJSON = p[Keys.blipReleasedJson]
        durable = p[Keys.fsync]
        groupByImage = p[Keys.groupByImage]
    }

    func run(_ context: DatasetContext) throws -> String {
        let folder = context.workspace.exportFolder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var options = WebDatasetOptions(samplesPerShard: samplesPerShard)
        options.durable = durable
        let shards = webdataset ? try WebDatasetWriter(directory: folder + "/webdataset", options: options) : nil
        let pretrain = pretrainJSON ? try BLIPPretrainWriter(path: folder + "/blip_pretrain.json", durable: durable) : nil
        let released = releasedJSON ? try BLIPReleasedWriter(path: folder + "/blip_capfilt.json", durable: durable) : nil
        do {
            var pairs = 0, images = 0
            for catalog in context.catalogs {
                var after: Int64 = 0
                while true {
                    let page = try catalog.read { try $0.assembledSamples(afterID: after, limit: 256) }
                    guard let last = page.last else { break }
                    for s in page {
                        try export(s, folder: folder, shards: shards, pretrain: pretrain, released: released)
                        pairs += s.texts.count
                        images += 1
                    }
                    context.progress.addDone(page.count)
                    after = last.sample.id
                }
            }
            let summary = try shards?.finish()
            _ = try pretrain?.finish()
            _ = try released?.finish()
            return "{\"images\":\(images),\"pairs\":\(pairs),\"shards\":\(summary?.shards.count ?? 0)}"
        } catch {
            shards?.discard(); pretrain?.discard(); released?.discard()
            throw error
        }
    }

    private func export(_ s: AssembledSample, folder: String, shards: WebDatasetWriter?, pretrain: BLIPPretrainWriter?,
                        released: BLIPReleasedWriter?) throws {
        let imagePath = useResized ? (s.image.resizedPath ?? s.image.blobPath) : s.image.blobPath
        let imageExtension = useResized && s.image.resizedPath != nil ? "jpg" : Self.fileExtension(format: s.image.format)
        let metadata = Self.metadata(s.sample.metadata)
        if groupByImage {
            if let shards {
                let record = GroupedSampleMetadata(
                    key: "\(s.sample.source)/\(s.sample.key)", source: s.sample.source, url: s.sample.url,
                    image: s.sample.localPath, sha256: s.image.sha256, width: s.image.width, height: s.image.height,
                    metadata: metadata,
                    texts: s.texts.map { GroupedSampleMetadata.Text(origin: $0.origin.rawValue, caption: $0.text, scores: Self.scores($0),
                                                                    reason: Self.reason($0)) })
                _ = try shards.add(.capfilt(record, image: .file(imagePath), imageExtension: imageExtension))
            }
            try pretrain?.append(image: Self.relativePath(imagePath, from: folder), captions: s.texts.map(\.text))
        }
        for t in s.texts {
            if !groupByImage {
                let key = "\(s.sample.source)/\(s.sample.key)/\(t.origin)\(t.textID)"
                if let shards {
                    let record = SampleMetadata(
                        key: key, source: s.sample.source, origin: t.origin.rawValue, caption: t.text, url: s.sample.url,
                        image: s.sample.localPath, sha256: s.image.sha256, width: s.image.width, height: s.image.height,
                        scores: Self.scores(t), decision: "keep", reason: Self.reason(t), metadata: metadata)
                    _ = try shards.add(.capfilt(record, image: .file(imagePath), imageExtension: imageExtension))
                }
                try pretrain?.append(image: Self.relativePath(imagePath, from: folder), caption: t.text)
            }
            // BLIP's released files are one {url, caption} per pair in either layout.
            if let url = s.sample.url, !url.isEmpty { try released?.append(url: url, caption: t.text) }
        }
    }

    static func scores(_ t: AssembledText) -> [String: Double] {
        var scores: [String: Double] = [:]
        if let itm = t.itmProbability { scores["itm"] = itm }
        if let itc = t.itcSimilarity { scores["itc"] = itc }
        return scores
    }

    static func reason(_ t: AssembledText) -> String? {
        t.reason ?? (t.origin == .human ? "human text" : nil)
    }

    /// `path` as seen from `folder`: `../shards/...` for a blob of the same workdir. Both are
    /// absolute; a path with nothing in common but the root stays absolute.
    static func relativePath(_ path: String, from folder: String) -> String {
        guard path.hasPrefix("/"), folder.hasPrefix("/") else { return path }
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        guard common > 1 else { return path }   // only "/" in common
        let up = Array(repeating: "..", count: base.count - common)
        return (up + target[common...]).joined(separator: "/")
    }

    static func fileExtension(format: String?) -> String {
        switch format {
        case "png": return "png"
        case "webp": return "webp"
        default: return "jpg"
        }
    }

    /// The manifest's extra columns, back from the catalog's JSON text.
    static func metadata(_ json: String) -> [String: JSONValue] {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: String] else { return [:] }
        return object.mapValues { .string($0) }
    }
}
