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

    /// A line's text, or the reason it cannot be used.
    private static func text(_ line: Line, _ reader: LineReader) -> Result<String, Refusal> {
        if line.tooLong { return .failure(Refusal(ManifestReason.lineTooLong)) }
        guard let s = Text.string(reader.input.buffer[line.range]) else { return .failure(Refusal(ManifestReason.invalidUTF8)) }
        return .success(s)
    }

    mutating func next() throws -> ManifestRecord? {
        if done { return nil }
        let u = try urls.next(), c = try captions.next()
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
            let urlText: String, captionText: String
            switch (Self.text(u, urls), Self.text(c, captions)) {
            case let (.success(a), .success(b)): urlText = a; captionText = b
            case let (.failure(r), _): return context.problem(line: u.number, record: row, r.reason)
            case let (_, .failure(r)): return context.problem(line: c.number, record: row, file: captionsPath, r.reason)
            }
            switch (Check.url(urlText), Check.caption(captionText)) {
            case let (.success(url), .success(caption)):
                return context.sample(key: String(row), url: url, captions: [caption])
            case let (.failure(r), _), let (_, .failure(r)):
                return context.problem(line: u.number, record: row, r.reason,
                                       excerpt: Text.excerpt(urlText + "\t" + captionText))
            }
        }
    }
}
