/// JSON Lines with one object a line: the URL and caption keys are named like CSV columns
/// (`url_col` / `caption_col`); other keys go into metadata (null values left out, arrays and
/// objects as compact JSON). Keys are 0-based data row numbers.
struct JSONLinesReader: ManifestReader {
    private var lines: LineReader
    private let context: ReaderContext
    private let urlName: String
    private let captionName: String
    /// The key names as the file spells them, fixed by the first object.
    private var urlKey: String?
    private var captionKey: String?
    private var row = 0

    init(path: String, context: ReaderContext, options: ManifestOptions) throws {
        lines = try LineReader(path: path)
        self.context = context
        urlName = options.urlColumn ?? "url"
        captionName = options.captionColumn ?? "caption"
    }

    mutating func next() throws -> ManifestRecord? {
        while let line = try lines.next() {
            if line.tooLong {
                defer { row += 1 }
                return context.problem(line: line.number, record: row, ManifestReason.lineTooLong)
            }
            let bytes = lines.input.buffer[line.range]
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            defer { row += 1 }
            let value: ParsedJSON
            do {
                value = try JSONParser.parse(bytes)
            } catch let e as JSONSyntaxError {
                return context.problem(line: line.number, record: row, "invalid JSON: \(e.message)",
                                       excerpt: Text.excerpt(bytes))
            }
            guard case .object(let members) = value else {
                return context.problem(line: line.number, record: row, "expected a JSON object",
                                       excerpt: Text.excerpt(bytes))
            }
            if urlKey == nil {
                let keys = members.map(\.0)
                let u = findColumn(urlName, in: keys).map { keys[$0] }
                let c = findColumn(captionName, in: keys).map { keys[$0] }
                guard let u, let c else {
                    throw ManifestError.missingColumns(
                        file: context.file,
                        missing: [u == nil ? urlName : nil, c == nil ? captionName : nil].compactMap { $0 },
                        expected: [urlName, captionName], found: keys)
                }
                urlKey = u
                captionKey = c
            }
            let url: String, caption: String
            switch (Check.url(value[urlKey!]?.scalarText), Check.caption(value[captionKey!]?.stringValue)) {
            case let (.success(u), .success(c)): url = u; caption = c
            case let (.failure(r), _), let (_, .failure(r)):
                return context.problem(line: line.number, record: row, r.reason, excerpt: Text.excerpt(bytes))
            }
            var metadata: [String: String] = [:]
            for (k, v) in members where k != urlKey && k != captionKey && context.keeps(k) {
                if let text = v.metadataText { metadata[k] = text }
            }
            return context.sample(key: String(row), url: url, captions: [caption], metadata: metadata)
        }
        return nil
    }
}
