/// SBU Captions as one JSON object with parallel arrays `image_urls` and `captions`. The file is
/// opened twice so that both arrays stream side by side. Key = index in the arrays.
struct SBUJSONReader: ManifestReader {
    private var urls: JSONArrayReader
    private var captions: JSONArrayReader
    private let context: ReaderContext
    private var done = false

    init(path: String, context: ReaderContext) throws {
        self.context = context
        let a = try JSONStream(path: path), b = try JSONStream(path: path)
        var seen: [String] = []
        var top = JSONObjectReader(stream: a)
        let hasURLs = try top.seek("image_urls", seen: &seen)
        var seen2: [String] = []
        var top2 = JSONObjectReader(stream: b)
        let hasCaptions = try top2.seek("captions", seen: &seen2)
        if !hasURLs || !hasCaptions {
            let found = hasURLs ? seen2 : seen
            throw ManifestError.missingColumns(
                file: path, missing: [hasURLs ? nil : "image_urls", hasCaptions ? nil : "captions"].compactMap { $0 },
                expected: ["image_urls", "captions"], found: found)
        }
        urls = JSONArrayReader(stream: a)
        captions = JSONArrayReader(stream: b)
    }

    mutating func next() throws -> ManifestRecord? {
        if done { return nil }
        let u = try urls.next(), c = try captions.next()
        switch (u, c) {
        case (nil, nil):
            done = true
            return nil
        case (let u?, nil), (nil, let u?):
            done = true
            return context.problem(line: u.line, record: u.index, "image_urls and captions have different lengths")
        case (let u?, let c?):
            let problem = { [context] (reason: String) in
                context.problem(line: u.line, record: u.index, reason,
                                excerpt: Text.excerpt(u.raw) + " / " + Text.excerpt(c.raw))
            }
            switch (u.value, c.value) {
            case let (.failure(r), _), let (_, .failure(r)): return problem(r.reason)
            case let (.success(uv), .success(cv)):
                switch (Check.url(uv.stringValue), Check.caption(cv.stringValue)) {
                case let (.success(url), .success(caption)):
                    return context.sample(key: String(u.index), url: url, captions: [caption])
                case let (.failure(r), _), let (_, .failure(r)):
                    return problem(r.reason)
                }
            }
        }
    }
}
