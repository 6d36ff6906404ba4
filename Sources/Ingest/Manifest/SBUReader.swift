/// SBU Captions as two line-aligned text files (`SBU_captioned_photo_dataset_urls.txt` and
/// `..._captions.txt`): line n of one goes with line n of the other. Key = 0-based line number.
struct SBUTextReader: ManifestReader {
    private var urls: LineReader
    private var captions: LineReader
    private let context: ReaderContext
    private let captionsPath: String
    private var done = false

    init(urlsPath: String, captionsPath: String, context: ReaderContext) throws {
        urls = try LineReader(path: urlsPath)
        captions = try LineReader(path: captionsPath)
        self.captionsPath = captionsPath
        self.context = context
    }

    mutating func next() throws -> ManifestRecord? {
        if done { return nil }
        let u = try urls.next()
        let urlText = u.flatMap { $0.tooLong ? nil : Text.string(urls.input.buffer[$0.range]) }
        let urlBad = u.map { $0.tooLong || Text.string(urls.input.buffer[$0.range]) == nil } ?? false
        let c = try captions.next()
        let captionText = c.flatMap { $0.tooLong ? nil : Text.string(captions.input.buffer[$0.range]) }
        let captionBad = c.map { $0.tooLong || Text.string(captions.input.buffer[$0.range]) == nil } ?? false
        switch (u, c) {
        case (nil, nil):
            done = true
            return nil
        case (let u?, nil):
            done = true
            return context.problem(line: u.number, record: u.number - 1,
                                   "captions file ends at line \(u.number - 1); the urls file goes on")
        case (nil, let c?):
            done = true
            return context.problem(line: c.number, record: c.number - 1, file: captionsPath,
                                   "urls file ends at line \(c.number - 1); the captions file goes on")
        case (let u?, let c?):
            let row = u.number - 1
            if urlBad {
                return context.problem(line: u.number, record: row, u.tooLong ? ManifestReason.lineTooLong : ManifestReason.invalidUTF8)
            }
            if captionBad {
                return context.problem(line: c.number, record: row, file: captionsPath,
                                       c.tooLong ? ManifestReason.lineTooLong : ManifestReason.invalidUTF8)
            }
            switch (Check.url(urlText), Check.caption(captionText)) {
            case let (.success(url), .success(caption)):
                return context.sample(key: String(row), url: url, captions: [caption])
            case let (.failure(r), _), let (_, .failure(r)):
                return context.problem(line: u.number, record: row, r.reason,
                                       excerpt: Text.excerpt((urlText ?? "") + "\t" + (captionText ?? "")))
            }
        }
    }
}

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
