import Basics
import Catalog
import Compression
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
    let incremental: Bool
    let sidecar: Bool
    let datasetsParquet: Bool
    let parquetCodec: BlockCodec
    let compactAbove: Double

    /// The stage's parameters, each declared once.
    enum Keys {
        static let samplesPerShard = StageParameter("samples_per_shard", .int(1...10_000_000), default: 10_000, help: "samples per WebDataset tar: image-text pairs, or images with `group_by_image`")
        static let image = StageParameter("image", .choice(["original", "resized"]), default: "original", help: "the fetched bytes, or decode's resized copy")
        static let webdataset = StageParameter("webdataset", .bool, default: true, help: "write WebDataset shards")
        static let blipPretrainJson = StageParameter("blip_pretrain_json", .bool, default: true, help: "write BLIP's pretrain json ({image, caption})")
        static let blipReleasedJson = StageParameter("blip_released_json", .bool, default: true, help: "write BLIP's released format ({url, caption}, web images)")
        static let groupByImage = StageParameter("group_by_image", .bool, default: false, help: "one sample per image with every kept text (KEY.txt the first, KEY.json all of them; pretrain json captions as a list) instead of one per image-text pair")
        static let parquetSidecar = StageParameter("parquet_sidecar", .bool, default: true, help: "a NNNNN.parquet beside each shard: one row per sample (key, source, caption, origin, url, sha256, size, scores, reason), as img2dataset writes")
        static let parquet = StageParameter("parquet", .bool, default: false, help: "also write export/parquet/NNNNN.parquet in Hugging Face datasets' image layout (an image struct of bytes and path, then the sidecar's columns)")
        static let parquetCompression = StageParameter("parquet_compression", .choice(["snappy", "zstd"]), default: "snappy", help: "page compression of the Parquet files (sidecars and the datasets layout)")
        static let mode = StageParameter("mode", .choice(["rebuild", "incremental"]), default: "rebuild", help: "rebuild: write every shard anew; incremental: write only new and changed samples into new shards and list removed ones in the next generation of shards.json (docs/export.md)")
        static let compactAbove = StageParameter("compact_above", .double(0...1), default: 0.25, help: "incremental: a shard whose share of removed samples would pass this is retired and its remaining samples written again; 0 compacts every shard with a removal", appliesWhen: .when(mode, in: ["incremental"], "incremental"))
        static let fsync = StageParameter("fsync", .bool, default: true, affectsResults: false, help: "flush every file to disk before it is renamed into place")

        static let all = [samplesPerShard.spec, image.spec, webdataset.spec, blipPretrainJson.spec, blipReleasedJson.spec, groupByImage.spec, parquetSidecar.spec, parquet.spec, parquetCompression.spec, mode.spec, compactAbove.spec, fsync.spec]
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
        incremental = p[Keys.mode] == "incremental"
        compactAbove = p[Keys.compactAbove]
        sidecar = p[Keys.parquetSidecar]
        datasetsParquet = p[Keys.parquet]
        parquetCodec = BlockCodec(rawValue: p[Keys.parquetCompression]) ?? .snappy
    }

    func run(_ context: DatasetContext) throws -> String {
        let folder = context.workspace.exportFolder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var options = WebDatasetOptions(samplesPerShard: samplesPerShard)
        options.durable = durable
        options.writeSampleLists = true
        if sidecar { options.sidecarSchema = ShardSample.capfiltSidecarSchema }
        options.sidecarCodec = parquetCodec
        let shardFolder = folder + "/webdataset"
        var shards: ShardOutput?
        if webdataset {
            if incremental {
                shards = .update(try WebDatasetUpdate(directory: shardFolder, options: options,
                                                      policy: WebDatasetUpdate.Policy(compactAbove: compactAbove)))
            } else {
                options.generation = (WebDatasetSummary.generation(ofIndexAt: shardFolder + "/" + options.indexName!) ?? 0) + 1
                shards = .rebuild(try WebDatasetWriter(directory: shardFolder, options: options))
            }
        }
        let pretrain = pretrainJSON ? try BLIPPretrainWriter(path: folder + "/blip_pretrain.json", durable: durable) : nil
        let released = releasedJSON ? try BLIPReleasedWriter(path: folder + "/blip_capfilt.json", durable: durable) : nil
        let parquet = datasetsParquet
            ? try DatasetsParquetWriter(directory: folder + "/parquet", rowsPerFile: samplesPerShard, codec: parquetCodec,
                                           durable: durable) : nil
        do {
            // An update compares the whole dataset with the current shards before it writes.
            if case .update(let update)? = shards {
                try forEachAssembled(context) { s in
                    for sample in shardSamples(s) { try update.observe(sample) }
                }
            }
            var pairs = 0, images = 0
            try forEachAssembled(context) { s in
                for sample in shardSamples(s) {
                    try parquet?.add(sample)
                    switch shards {
                    case .rebuild(let writer)?: _ = try writer.add(sample)
                    case .update(let update)?: try update.write(sample)
                    case nil: break
                    }
                }
                try appendJSON(s, folder: folder, pretrain: pretrain, released: released)
                pairs += s.texts.count
                images += 1
                context.progress.addDone(1)
            }
            var result = "{\"images\":\(images),\"pairs\":\(pairs)"
            switch shards {
            case .rebuild(let writer)?:
                let summary = try writer.finish()
                result += ",\"shards\":\(summary.shards.count),\"generation\":\(summary.generation ?? 0)"
            case .update(let update)?:
                let outcome = try update.finish()
                result += ",\"shards\":\(outcome.summary.shards.count),\"generation\":\(outcome.summary.generation ?? 0)"
                    + ",\"written\":\(outcome.written),\"removed\":\(outcome.removed),\"retired_shards\":\(outcome.retiredShards)"
            case nil:
                break
            }
            if let files = try parquet?.finish() { result += ",\"parquet_files\":\(files.count)" }
            _ = try pretrain?.finish()
            _ = try released?.finish()
            return result + "}"
        } catch {
            switch shards {
            case .rebuild(let writer)?: writer.discard()
            case .update(let update)?: update.discard()
            case nil: break
            }
            pretrain?.discard(); released?.discard(); parquet?.discard()
            throw error
        }
    }

    /// Where the shards go: a whole new export, or an update of the current one.
    private enum ShardOutput {
        case rebuild(WebDatasetWriter)
        case update(WebDatasetUpdate)
    }

    /// Every assembled sample of every shard's catalog, in (catalog shard, sample id) order.
    private func forEachAssembled(_ context: DatasetContext, _ body: (AssembledSample) throws -> Void) throws {
        for catalog in context.catalogs {
            var after: Int64 = 0
            while true {
                let page = try catalog.read { try $0.assembledSamples(afterID: after, limit: 256) }
                guard let last = page.last else { break }
                for s in page { try body(s) }
                after = last.sample.id
            }
        }
    }

    /// The WebDataset samples of one assembled image: one per kept text, or one with all of them.
    private func shardSamples(_ s: AssembledSample) -> [ShardSample] {
        guard webdataset || datasetsParquet else { return [] }
        let imagePath = imagePath(s)
        let imageExtension = useResized && s.image.resizedPath != nil ? "jpg" : Self.fileExtension(format: s.image.format)
        let metadata = Self.metadata(s.sample.metadata)
        if groupByImage {
            let record = GroupedSampleMetadata(
                key: "\(s.sample.source)/\(s.sample.key)", source: s.sample.source, url: s.sample.url,
                image: s.sample.localPath, sha256: s.image.sha256, width: s.image.width, height: s.image.height,
                metadata: metadata,
                texts: s.texts.map { GroupedSampleMetadata.Text(origin: $0.origin.rawValue, caption: $0.text, scores: Self.scores($0),
                                                                reason: Self.reason($0)) })
            return [.capfilt(record, image: .file(imagePath), imageExtension: imageExtension)]
        }
        return s.texts.map { t in
            let record = SampleMetadata(
                key: "\(s.sample.source)/\(s.sample.key)/\(t.origin)\(t.textID)", source: s.sample.source,
                origin: t.origin.rawValue, caption: t.text, url: s.sample.url,
                image: s.sample.localPath, sha256: s.image.sha256, width: s.image.width, height: s.image.height,
                scores: Self.scores(t), decision: "keep", reason: Self.reason(t), metadata: metadata)
            return .capfilt(record, image: .file(imagePath), imageExtension: imageExtension)
        }
    }

    private func imagePath(_ s: AssembledSample) -> String {
        useResized ? (s.image.resizedPath ?? s.image.blobPath) : s.image.blobPath
    }

    /// BLIP's pretrain json (an entry per pair, or per image with a caption list) and released
    /// json (always one `{url, caption}` per pair, as BLIP released it).
    private func appendJSON(_ s: AssembledSample, folder: String, pretrain: BLIPPretrainWriter?,
                            released: BLIPReleasedWriter?) throws {
        let image = Self.relativePath(imagePath(s), from: folder)
        if groupByImage {
            try pretrain?.append(image: image, captions: s.texts.map(\.text))
        } else {
            for t in s.texts { try pretrain?.append(image: image, caption: t.text) }
        }
        if let url = s.sample.url, !url.isEmpty {
            for t in s.texts { try released?.append(url: url, caption: t.text) }
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
