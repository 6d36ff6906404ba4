import Foundation

/// The manifest layouts capfilt reads. Raw values are the `--format` names.
public enum ManifestFormat: String, CaseIterable, Sendable {
    /// COCO captions JSON (`captions_train2014.json`, `captions_val2017.json`, ...).
    case coco
    /// BLIP's Karpathy-split JSON (`coco_karpathy_train.json`, ...).
    case karpathy
    /// Visual Genome `region_descriptions.json` with `image_data.json` next to it.
    case vg
    /// BLIP's `vg_caption.json`: `[{image, caption}]`.
    case vgCaption = "vg-caption"
    /// Conceptual Captions 3M TSV: `caption<TAB>url`, no header.
    case cc3m
    /// Conceptual 12M TSV: `url<TAB>caption`, no header.
    case cc12m
    /// SBU Captions: the urls text file with the captions file next to it.
    case sbu
    /// SBU Captions as one JSON object `{image_urls: [...], captions: [...]}`.
    case sbuJSON = "sbu-json"
    /// LAION Parquet (or any Parquet with url / caption columns).
    case laion
    /// BLIP's released CapFilt lists: `[{url, caption}]`.
    case blipCapfilt = "blip-capfilt"
    /// BLIP's pretraining lists: `[{image, caption}]`.
    case blipPretrain = "blip-pretrain"
    /// CSV / TSV / JSON Lines with named columns (img2dataset's url_col / caption_col).
    case csv, tsv, jsonl
    /// WebDataset tar shards (img2dataset's output: `KEY.jpg`, `.txt`, `.json`, and a Parquet
    /// sidecar per shard); `path` is one shard or their folder.
    case webdataset

    /// Also accepts a few other spellings (`parquet`, `visual-genome`, `ndjson`, ...).
    public init?(name: String) {
        let n = name.lowercased()
        if let f = ManifestFormat(rawValue: n) { self = f; return }
        let aliases: [String: ManifestFormat] = [
            "parquet": .laion, "visual-genome": .vg, "visualgenome": .vg, "vg_caption": .vgCaption,
            "coco-karpathy": .karpathy, "capfilt": .blipCapfilt, "blip_capfilt": .blipCapfilt,
            "pretrain": .blipPretrain, "blip_pretrain": .blipPretrain, "ndjson": .jsonl, "json-lines": .jsonl,
            "sbu_json": .sbuJSON, "cc12m-tsv": .cc12m, "cc3m-tsv": .cc3m,
            "img2dataset": .webdataset, "wds": .webdataset, "tar": .webdataset,
        ]
        guard let f = aliases[n] else { return nil }
        self = f
    }

    /// The source name samples get unless `ManifestOptions.source` says otherwise.
    public var defaultSource: String {
        switch self {
        case .vgCaption: return "vg"
        case .sbuJSON: return "sbu"
        default: return rawValue
        }
    }

    /// Human-annotated (COCO, Visual Genome) or web alt-text.
    public var defaultOrigin: SampleOrigin {
        switch self {
        case .coco, .karpathy, .vg, .vgCaption: return .human
        default: return .web
        }
    }

    /// Tells the format from the file's content (decompressing gzip), with the extension as a
    /// hint for CSV, JSON Lines and Parquet. A folder is read as Visual Genome or SBU by the
    /// names of the files in it.
    public static func detect(path: String, options: ManifestOptions = ManifestOptions()) throws -> ManifestFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestError.io(file: path, reason: "no such file")
        }
        if isDirectory.boolValue {
            if Companions.find(in: path, names: Companions.vgRegions) != nil { return .vg }
            if Companions.find(in: path, names: Companions.sbuURLs) != nil { return .sbu }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if names.contains(where: { $0.hasSuffix(".tar") }) { return .webdataset }
            throw ManifestError.undetectedFormat(file: path, reason: "a folder without region_descriptions.json, SBU text files or .tar shards")
        }
        var name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        let raw = try InputFile(path: path)
        if raw.size >= 4, try raw.read(count: 4, offset: 0, what: "magic") == Array("PAR1".utf8) { return .laion }
        if raw.size >= 512, try raw.read(count: 5, offset: 257, what: "magic") == Array("ustar".utf8) { return .webdataset }
        if name.hasSuffix(".tar") { return .webdataset }
        if name.hasSuffix(".parquet") { return .laion }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return .jsonl }
        if name.hasSuffix(".csv") { return .csv }

        let input = try ByteReader(path: path)
        var head = try input.prefix(64 << 10)
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { head = head.dropFirst(3) }
        guard let first = head.firstIndex(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw ManifestError.undetectedFormat(file: path, reason: "no content")
        }
        switch head[first] {
        case UInt8(ascii: "["): return try detectArray(path)
        case UInt8(ascii: "{"): return try detectObject(path)
        default: return try detectText(path, head: head[first...], options: options)
        }
    }

    private static func detectArray(_ path: String) throws -> ManifestFormat {
        var array = JSONArrayReader(stream: try JSONStream(path: path))
        guard let element = try array.next() else { return .blipCapfilt }
        guard case .success(let v) = element.value, case .object = v else {
            throw ManifestError.undetectedFormat(file: path, reason: "the first element of the JSON array is not an object")
        }
        let keys = Set(v.keys)
        if keys.contains("regions") { return .vg }
        if keys.contains("url") && keys.contains("caption") { return .blipCapfilt }
        if keys.contains("image") && keys.contains("caption") {
            if case .array? = v["caption"] { return .karpathy }
            if keys.contains("image_id") { return .karpathy }
            // BLIP's vg_caption.json points into the VG_100K folders of the VG download.
            if v["image"]?.stringValue?.contains("VG_100K") == true { return .vgCaption }
            return .blipPretrain
        }
        if keys.contains("image_id") && keys.contains("url") {
            throw ManifestError.undetectedFormat(
                file: path, reason: "this is Visual Genome's image_data.json; read region_descriptions.json next to it")
        }
        throw ManifestError.undetectedFormat(
            file: path, reason: "JSON array of objects with keys \(v.keys.joined(separator: ", "))")
    }

    private static func detectObject(_ path: String) throws -> ManifestFormat {
        let stream = try JSONStream(path: path)
        var top = JSONObjectReader(stream: stream)
        while let key = try top.nextKey() {
            switch key {
            case "images", "annotations": return .coco
            case "image_urls": return .sbuJSON
            default: try stream.skipValue()
            }
        }
        // A first object that is neither COCO nor SBU: one JSON object a line.
        return .jsonl
    }

    private static func detectText(_ path: String, head: ArraySlice<UInt8>, options: ManifestOptions) throws -> ManifestFormat {
        let lineEnd = head.firstIndex(of: 0x0A) ?? head.endIndex
        var line = head[head.startIndex..<lineEnd]
        if line.last == 0x0D { line = line.dropLast() }
        let text = String(decoding: line, as: UTF8.self)
        func isURL(_ s: Substring) -> Bool {
            let l = s.trimmingCharacters(in: .whitespaces).lowercased()
            return l.hasPrefix("http://") || l.hasPrefix("https://")
        }
        let urlName = (options.urlColumn ?? "url").lowercased()
        if text.contains("\t") {
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false)
            let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if names.contains(urlName) && !fields.contains(where: isURL) { return .tsv }
            if fields.count == 2 {
                if isURL(fields[1]) { return .cc3m }
                if isURL(fields[0]) { return .cc12m }
            }
            throw ManifestError.undetectedFormat(
                file: path, reason: "tab-separated, but neither a header with a '\(urlName)' column nor caption/url pairs")
        }
        if isURL(Substring(text)) { return .sbu }
        if text.contains(",") { return .csv }
        throw ManifestError.undetectedFormat(file: path, reason: "not JSON, Parquet, CSV or TSV")
    }
}

/// File names of the two-file formats.
enum Companions {
    static let vgRegions = ["region_descriptions.json", "region_descriptions.json.gz"]
    static let vgImages = ["image_data.json", "image_data.json.gz"]
    static let sbuURLs = ["SBU_captioned_photo_dataset_urls.txt", "SBU_captioned_photo_dataset_urls.txt.gz"]
    static let sbuCaptions = ["SBU_captioned_photo_dataset_captions.txt", "SBU_captioned_photo_dataset_captions.txt.gz"]

    static func find(in folder: String, names: [String]) -> String? {
        for n in names {
            let p = (folder as NSString).appendingPathComponent(n)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }

    /// The sibling of `path` whose name has `from` replaced by `to` (last occurrence).
    static func sibling(of path: String, replacing from: String, with to: String) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        guard let r = name.range(of: from, options: .backwards) else { return nil }
        let p = (folder as NSString).appendingPathComponent(name.replacingCharacters(in: r, with: to))
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }
}

/// Opens a manifest for reading. The format is detected when not given
/// (`ManifestFormat.detect`). A file holding nothing but whitespace yields no records whatever
/// its format.
public func openManifest(path: String, format: ManifestFormat? = nil,
                         options: ManifestOptions = ManifestOptions()) throws -> any ManifestReader {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ManifestError.io(file: path, reason: "no such file")
    }
    if !isDirectory.boolValue, try isBlank(path) { return EmptyManifestReader() }
    let format = try format ?? ManifestFormat.detect(path: path, options: options)
    let context = { (file: String) in ReaderContext(file: file, format: format, options: options) }
    if isDirectory.boolValue && format != .vg && format != .sbu && format != .webdataset {
        throw ManifestError.io(file: path, reason: "is a directory (only vg, sbu and webdataset read a folder)")
    }
    switch format {
    case .coco:
        return try COCOReader(path: path, context: context(path), options: options)
    case .karpathy:
        return try BLIPListReader(path: path, layout: .karpathy, context: context(path), options: options)
    case .vgCaption, .blipPretrain:
        return try BLIPListReader(path: path, layout: .imageCaption, context: context(path), options: options)
    case .blipCapfilt:
        return try BLIPListReader(path: path, layout: .urlCaption, context: context(path), options: options)
    case .vg:
        var regions = path
        var images = options.companionPath
        if isDirectory.boolValue {
            guard let r = Companions.find(in: path, names: Companions.vgRegions) else {
                throw ManifestError.missingCompanion(file: path, expected: "region_descriptions.json")
            }
            regions = r
            images = images ?? Companions.find(in: path, names: Companions.vgImages)
        } else if (path as NSString).lastPathComponent.hasPrefix("image_data") {
            // Given the image table: the regions file is the manifest proper.
            guard let r = Companions.sibling(of: path, replacing: "image_data", with: "region_descriptions") else {
                throw ManifestError.missingCompanion(file: path, expected: "region_descriptions.json")
            }
            images = images ?? path
            regions = r
        } else {
            images = images ?? Companions.find(in: (path as NSString).deletingLastPathComponent, names: Companions.vgImages)
        }
        guard let images else { throw ManifestError.missingCompanion(file: regions, expected: "image_data.json") }
        if try isBlank(regions) { return EmptyManifestReader() }
        return try VisualGenomeReader(regionsPath: regions, imageDataPath: images, context: context(regions),
                                      options: options)
    case .cc3m:
        return try ConceptualCaptionsReader(path: path, layout: .captionThenURL, context: context(path))
    case .cc12m:
        return try ConceptualCaptionsReader(path: path, layout: .urlThenCaption, context: context(path))
    case .sbu:
        var urls = path
        var captions = options.companionPath
        if isDirectory.boolValue {
            guard let u = Companions.find(in: path, names: Companions.sbuURLs) else {
                throw ManifestError.missingCompanion(file: path, expected: Companions.sbuURLs[0])
            }
            urls = u
            captions = captions ?? Companions.find(in: path, names: Companions.sbuCaptions)
        } else if captions == nil {
            if let c = Companions.sibling(of: path, replacing: "urls", with: "captions") {
                captions = c
            } else if let u = Companions.sibling(of: path, replacing: "captions", with: "urls") {
                // Given the captions file: the urls file leads.
                captions = path
                urls = u
            }
        }
        guard let captions else {
            throw ManifestError.missingCompanion(file: urls, expected: "the captions file (\(Companions.sbuCaptions[0]))")
        }
        return try SBUTextReader(urlsPath: urls, captionsPath: captions, context: context(urls))
    case .sbuJSON:
        return try SBUJSONReader(path: path, context: context(path))
    case .laion:
        return try LAIONReader(path: path, context: context(path), options: options)
    case .csv:
        return try DelimitedManifestReader(path: path, delimiter: UInt8(ascii: ","), context: context(path), options: options)
    case .tsv:
        return try DelimitedManifestReader(path: path, delimiter: 0x09, context: context(path), options: options)
    case .jsonl:
        return try JSONLinesReader(path: path, context: context(path), options: options)
    case .webdataset:
        return WebDatasetReader(shards: try webDatasetShards(path: path, pattern: options.shards), context: context(path))
    }
}

/// The shard files of a WebDataset source: `pattern` under the folder `path`, else `path` itself
/// when it is a file, else every `*.tar` in it, by name.
public func webDatasetShards(path: String, pattern: String?) throws -> [String] {
    var isDirectory: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
    let shards: [String]
    do {
        if let pattern {
            shards = try ShardPattern.expand(pattern, in: folder)
        } else {
            shards = isDirectory.boolValue ? try ShardPattern.expand("*.tar", in: path) : [path]
        }
    } catch let e as ShardPatternError {
        throw ManifestError.io(file: path, reason: e.description)
    }
    guard !shards.isEmpty else { throw ManifestError.io(file: path, reason: "no .tar shards") }
    return shards
}

/// True when the file, decompressed, holds only whitespace (or nothing).
private func isBlank(_ path: String) throws -> Bool {
    if try InputFile(path: path).size == 0 { return true }
    let input = try ByteReader(path: path)
    while true {
        let chunk = input.buffer[input.start..<input.end]
        if chunk.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) { return false }
        input.start = input.end
        if !(try input.fill()) { return true }
    }
}

/// The reader of an empty manifest.
struct EmptyManifestReader: ManifestReader {
    mutating func next() throws -> ManifestRecord? { nil }
}
