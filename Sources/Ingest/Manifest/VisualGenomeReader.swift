/// Visual Genome: `region_descriptions.json` (`[{id, regions: [{region_id, image_id, x, y,
/// width, height, phrase}]}]`) joined with `image_data.json` (`[{image_id, url, width, height,
/// coco_id, flickr_id}]`). One sample per image; its region phrases are the captions (trimmed,
/// exact repeats dropped); key = image id. The local path is the URL's last two components
/// (`VG_100K/1.jpg`, `VG_100K_2/...`, the folders of the VG download) under the image root;
/// the URL goes into metadata with the image's sizes and ids.
///
/// The regions file (~700 MB) is streamed; the image table (108k rows) is held in memory.
struct VisualGenomeReader: ManifestReader {
    private struct Image {
        var relativePath: String?
        var metadata: [String: String]
    }

    private var regions: JSONArrayReader
    private var images: [String: Image] = [:]
    private var queue = RecordQueue()
    private let context: ReaderContext
    private let root: ImageRoot
    private let imageDataPath: String

    init(regionsPath: String, imageDataPath: String, context: ReaderContext, options: ManifestOptions) throws {
        self.context = context
        self.imageDataPath = imageDataPath
        root = ImageRoot(option: options.imageRoot, manifest: regionsPath)
        var table = JSONArrayReader(stream: try JSONStream(path: imageDataPath))
        var checked = false
        while let e = try table.next() {
            guard case .success(let v) = e.value, let id = (v["image_id"] ?? v["id"])?.scalarText else {
                let reason: String
                if case .failure(let r) = e.value { reason = r.reason } else { reason = "image without an image_id" }
                queue.push(context.problem(line: e.line, record: e.index, file: imageDataPath, reason,
                                           excerpt: Text.excerpt(e.raw)))
                continue
            }
            if !checked {
                checked = true
                if v["url"] == nil {
                    throw ManifestError.missingColumns(file: imageDataPath, missing: ["url"],
                                                       expected: ["image_id", "url"], found: v.keys)
                }
            }
            var metadata: [String: String] = [:]
            for key in v.keys where key != "image_id" && key != "id" && context.keeps(key) {
                if let text = v[key]?.metadataText { metadata[key] = text }
            }
            var relative: String?
            if let url = v["url"]?.stringValue {
                let parts = url.split(separator: "/")
                if parts.count >= 2 { relative = parts.suffix(2).joined(separator: "/") }
            }
            images[id] = Image(relativePath: relative, metadata: metadata)
        }
        regions = JSONArrayReader(stream: try JSONStream(path: regionsPath))
    }

    mutating func next() throws -> ManifestRecord? {
        if let r = queue.pop() { return r }
        guard let e = try regions.next() else { return nil }
        let problem = { [context] (reason: String) in
            context.problem(line: e.line, record: e.index, reason, excerpt: Text.excerpt(e.raw))
        }
        let v: ParsedJSON
        switch e.value {
        case .failure(let r): return problem(r.reason)
        case .success(let value): v = value
        }
        guard case .array(let list)? = v["regions"] else { return problem("expected {id, regions: [...]}") }
        guard let id = (v["id"] ?? v["image_id"] ?? list.first?["image_id"])?.scalarText else {
            return problem("regions without an image id")
        }
        var captions: [String] = []
        var seen: Set<String> = []
        for region in list {
            if case .success(let phrase) = Check.caption(region["phrase"]?.stringValue), seen.insert(phrase).inserted {
                captions.append(phrase)
            }
        }
        guard let image = images[id] else { return problem("image_id \(id) not in image_data.json") }
        if captions.isEmpty { return problem(ManifestReason.missingCaption) }
        guard let relative = image.relativePath else { return problem(ManifestReason.missingImage) }
        switch root.resolve(relative) {
        case .success(let path):
            return context.sample(key: id, localPath: path, captions: captions, metadata: image.metadata)
        case .failure(let r):
            return problem(r.reason)
        }
    }
}
