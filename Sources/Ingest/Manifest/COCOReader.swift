/// COCO captions files (2014 and 2017 layouts):
/// `{info, licenses, images: [{id, file_name, coco_url, flickr_url, width, height, ...}],
///   annotations: [{id, image_id, caption}]}`.
/// One sample per image with all its captions in file order; key = image id; the local path is
/// `image_root/file_name`; `coco_url`, `flickr_url`, sizes and the rest go into metadata.
///
/// The file is streamed, but the join needs the image table and the captions in memory
/// (about 100 bytes a caption: some 60 MB for train2014). Samples come out after the whole
/// file is read, in the order of `images`.
struct COCOReader: ManifestReader {
    private struct Image {
        var id: String
        var fileName: String?
        var metadata: [String: String]
        var line: Int
        var index: Int
        var excerpt: String
    }

    private var queue = RecordQueue()
    private var images: [Image] = []
    private var captions: [String: [String]] = [:]
    /// Image ids, once `images` has been read; annotations read before it are checked later.
    private var knownIDs: Set<String>?
    private var deferred: [(problem: ManifestRecord, imageID: String)] = []
    private var emitted = 0
    private let context: ReaderContext
    private let root: ImageRoot

    init(path: String, context: ReaderContext, options: ManifestOptions) throws {
        self.context = context
        root = ImageRoot(option: options.imageRoot, manifest: path)
        let stream = try JSONStream(path: path)
        var top = JSONObjectReader(stream: stream)
        var seen: [String] = []
        while let key = try top.nextKey() {
            seen.append(key)
            switch key {
            case "images": try readImages(JSONArrayReader(stream: stream))
            case "annotations": try readAnnotations(JSONArrayReader(stream: stream))
            default: try stream.skipValue()
            }
        }
        let missing = ["images", "annotations"].filter { !seen.contains($0) }
        if !missing.isEmpty {
            throw ManifestError.missingColumns(file: path, missing: missing, expected: ["images", "annotations"],
                                               found: seen)
        }
        let known = knownIDs ?? []
        for (problem, id) in deferred where !known.contains(id) { queue.push(problem) }
        deferred = []
    }

    private mutating func readImages(_ array: JSONArrayReader) throws {
        var array = array
        while let e = try array.next() {
            switch e.value {
            case .failure(let r):
                queue.push(context.problem(line: e.line, record: e.index, r.reason, excerpt: Text.excerpt(e.raw)))
            case .success(let v):
                guard let id = v["id"]?.scalarText else {
                    queue.push(context.problem(line: e.line, record: e.index, "image without an id",
                                               excerpt: Text.excerpt(e.raw)))
                    continue
                }
                var metadata: [String: String] = [:]
                for key in v.keys where key != "id" && key != "file_name" && context.keeps(key) {
                    if let text = v[key]?.metadataText { metadata[key] = text }
                }
                images.append(Image(id: id, fileName: v["file_name"]?.stringValue, metadata: metadata,
                                    line: e.line, index: e.index, excerpt: Text.excerpt(e.raw)))
            }
        }
        knownIDs = Set(images.map(\.id))
    }

    private mutating func readAnnotations(_ array: JSONArrayReader) throws {
        var array = array
        while let e = try array.next() {
            switch e.value {
            case .failure(let r):
                queue.push(context.problem(line: e.line, record: e.index, r.reason, excerpt: Text.excerpt(e.raw)))
            case .success(let v):
                guard let imageID = v["image_id"]?.scalarText else {
                    queue.push(context.problem(line: e.line, record: e.index, "annotation without an image_id",
                                               excerpt: Text.excerpt(e.raw)))
                    continue
                }
                switch Check.caption(v["caption"]?.stringValue) {
                case .success(let c):
                    let orphan = { [context] in
                        context.problem(line: e.line, record: e.index, "annotation for unknown image_id \(imageID)",
                                        excerpt: Text.excerpt(e.raw))
                    }
                    if let knownIDs {
                        if knownIDs.contains(imageID) { captions[imageID, default: []].append(c) } else { queue.push(orphan()) }
                    } else {
                        captions[imageID, default: []].append(c)
                        deferred.append((orphan(), imageID))
                    }
                case .failure(let r):
                    queue.push(context.problem(line: e.line, record: e.index, r.reason, excerpt: Text.excerpt(e.raw)))
                }
            }
        }
    }

    mutating func next() throws -> ManifestRecord? {
        if let r = queue.pop() { return r }
        while emitted < images.count {
            let image = images[emitted]
            emitted += 1
            let problem = { [context] (reason: String) in
                context.problem(line: image.line, record: image.index, reason, excerpt: image.excerpt)
            }
            guard let fileName = image.fileName, !fileName.isEmpty else { return problem(ManifestReason.missingImage) }
            guard let caps = captions.removeValue(forKey: image.id) else { return problem(ManifestReason.missingCaption) }
            switch root.resolve(fileName) {
            case .success(let path):
                return context.sample(key: image.id, localPath: path, captions: caps, metadata: image.metadata)
            case .failure(let r):
                return problem(r.reason)
            }
        }
        return nil
    }
}
