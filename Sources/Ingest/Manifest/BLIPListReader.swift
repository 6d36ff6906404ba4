/// JSON lists in BLIP's layouts, streamed one element at a time:
/// - CapFilt releases (`ccs_filtered.json`, ...): `[{url, caption}]`; key = index of the element;
/// - pretraining lists and `vg_caption.json`: `[{image, caption}]`; key = the image path;
/// - Karpathy splits: `[{image, caption, image_id}]`, caption a string (train) or a list
///   (val / test); key = `image_id`, else the image path.
/// Consecutive elements for the same image (or URL) become one sample with all their captions,
/// which is how these files list several captions of one image.
struct BLIPListReader: ManifestReader {
    enum Layout { case urlCaption, imageCaption, karpathy }

    private var elements: JSONArrayReader
    private let layout: Layout
    private let context: ReaderContext
    private let root: ImageRoot
    private let locationKey: String
    private let captionKey: String
    private var checkedKeys = false
    private var pending: (group: String, sample: ManifestSample)?
    private var queue = RecordQueue()
    private var finished = false

    init(path: String, layout: Layout, context: ReaderContext, options: ManifestOptions) throws {
        elements = JSONArrayReader(stream: try JSONStream(path: path))
        self.layout = layout
        self.context = context
        root = ImageRoot(option: options.imageRoot, manifest: path)
        locationKey = layout == .urlCaption ? (options.urlColumn ?? "url") : "image"
        captionKey = options.captionColumn ?? "caption"
    }

    mutating func next() throws -> ManifestRecord? {
        while queue.isEmpty && !finished {
            guard let element = try elements.next() else {
                finished = true
                if let p = pending { queue.push(.sample(p.sample)); pending = nil }
                break
            }
            try read(element)
        }
        return queue.pop()
    }

    private mutating func read(_ element: JSONElement) throws {
        let value: ParsedJSON
        switch element.value {
        case .failure(let r):
            return reject(element, r.reason)
        case .success(let v):
            value = v
        }
        guard case .object(let members) = value else { return reject(element, "expected a JSON object") }
        if !checkedKeys {
            checkedKeys = true
            let keys = members.map(\.0)
            let missing = [locationKey, captionKey].filter { !keys.contains($0) }
            if !missing.isEmpty {
                throw ManifestError.missingColumns(file: context.file, missing: missing,
                                                   expected: [locationKey, captionKey], found: keys)
            }
        }
        // Captions: a string, or a list of strings (Karpathy val / test).
        var captions: [String] = []
        switch value[captionKey] {
        case .string(let s)?:
            if case .success(let c) = Check.caption(s) { captions.append(c) }
        case .array(let items)?:
            for item in items {
                if case .success(let c) = Check.caption(item.stringValue) { captions.append(c) }
            }
        default: break
        }
        let group: String
        var url: String?
        var localPath: String?
        switch layout {
        case .urlCaption:
            switch Check.url(value[locationKey]?.scalarText) {
            case .success(let u): url = u; group = u
            case .failure(let r): return reject(element, r.reason)
            }
        case .imageCaption, .karpathy:
            guard let image = value[locationKey]?.stringValue, !image.isEmpty else {
                return reject(element, ManifestReason.missingImage)
            }
            switch root.resolve(image) {
            case .success(let p): localPath = p; group = image
            case .failure(let r): return reject(element, r.reason)
            }
        }
        if captions.isEmpty { return reject(element, ManifestReason.missingCaption) }

        if let p = pending, p.group == group {
            pending!.sample.captions.append(contentsOf: captions)
            return
        }
        if let p = pending { queue.push(.sample(p.sample)) }
        let key: String
        switch layout {
        case .urlCaption: key = String(element.index)
        case .imageCaption: key = group
        case .karpathy: key = value["image_id"]?.scalarText ?? group
        }
        let used: Set<String> = layout == .karpathy ? [locationKey, captionKey, "image_id"] : [locationKey, captionKey]
        var metadata: [String: String] = [:]
        for (k, v) in members where !used.contains(k) && context.keeps(k) {
            if let text = v.metadataText { metadata[k] = text }
        }
        guard case .sample(let s) = context.sample(key: key, url: url, localPath: localPath, captions: captions,
                                                   metadata: metadata) else { return }
        pending = (group, s)
    }

    private mutating func reject(_ element: JSONElement, _ reason: String) {
        // Keep file order: the sample being grouped came before this element.
        if let p = pending { queue.push(.sample(p.sample)); pending = nil }
        queue.push(context.problem(line: element.line, record: element.index, reason,
                                   excerpt: Text.excerpt(element.raw)))
    }
}
