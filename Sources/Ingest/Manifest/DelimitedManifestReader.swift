/// CSV or TSV with a header row, img2dataset's generic input: the URL and caption columns are
/// named by `url_col` / `caption_col` (default "url" and "caption"); every other column is
/// carried into metadata (empty cells are left out). Keys are 0-based data row numbers.
struct DelimitedManifestReader: ManifestReader {
    private var records: DelimitedRecordReader
    private let context: ReaderContext
    private var header: [String] = []
    private var urlIndex = 0
    private var captionIndex = 0
    private var extras: [(Int, String)] = []
    private var row = 0

    init(path: String, delimiter: UInt8, context: ReaderContext, options: ManifestOptions) throws {
        records = try DelimitedRecordReader(path: path, delimiter: delimiter)
        self.context = context
        guard let first = try records.next() else { return }   // empty file: no rows
        if let problem = first.problem {
            throw ManifestError.corrupt(file: path, reason: "header line \(first.line): \(problem)")
        }
        header = first.fields.map { Text.trimmed($0) }
        let urlName = options.urlColumn ?? "url"
        let captionName = options.captionColumn ?? "caption"
        let u = findColumn(urlName, in: header), c = findColumn(captionName, in: header)
        guard let u, let c else {
            throw ManifestError.missingColumns(
                file: path, missing: [u == nil ? urlName : nil, c == nil ? captionName : nil].compactMap { $0 },
                expected: [urlName, captionName], found: header)
        }
        urlIndex = u
        captionIndex = c
        extras = header.enumerated().filter { $0.offset != u && $0.offset != c && context.keeps($0.element) }
            .map { ($0.offset, $0.element) }
    }

    mutating func next() throws -> ManifestRecord? {
        guard !header.isEmpty, let record = try records.next() else { return nil }
        defer { row += 1 }
        if let problem = record.problem {
            return context.problem(line: record.line, record: row, problem, excerpt: record.excerpt)
        }
        guard record.fields.count == header.count else {
            return context.problem(line: record.line, record: row,
                                   ManifestReason.columnCount(expected: header.count, found: record.fields.count),
                                   excerpt: record.excerpt)
        }
        let url: String, caption: String
        switch (Check.url(record.fields[urlIndex]), Check.caption(record.fields[captionIndex])) {
        case let (.success(u), .success(c)): url = u; caption = c
        case let (.failure(r), _), let (_, .failure(r)):
            return context.problem(line: record.line, record: row, r.reason, excerpt: record.excerpt)
        }
        var metadata: [String: String] = [:]
        for (i, name) in extras where !record.fields[i].isEmpty { metadata[name] = record.fields[i] }
        return context.sample(key: String(row), url: url, captions: [caption], metadata: metadata)
    }
}
