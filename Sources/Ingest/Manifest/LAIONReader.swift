/// LAION-style Parquet: `URL, TEXT, WIDTH, HEIGHT, similarity, punsafe, pwatermark, ...`, or
/// lower-case `url, caption`. Column names match ignoring case; every other readable column
/// goes into metadata under its lower-cased name (nulls left out). Key = 0-based row number.
/// Only the URL, caption and kept metadata columns are read from the file.
struct LAIONReader: ManifestReader {
    private var rows: ParquetRowReader
    private let context: ReaderContext
    private let metadataNames: [String]

    init(path: String, context: ReaderContext, options: ManifestOptions) throws {
        let file = try ParquetFile(path: path)
        self.context = context
        let names = file.columns.map(\.name)
        let urlNames = options.urlColumn.map { [$0] } ?? ["URL", "url"]
        let captionNames = options.captionColumn.map { [$0] } ?? ["TEXT", "caption"]
        let u = urlNames.lazy.compactMap { findColumn($0, in: names) }.first
        let c = captionNames.lazy.compactMap { findColumn($0, in: names) }.first
        guard let u, let c else {
            let all = file.columns.map(\.name) + file.skippedColumns
            throw ManifestError.missingColumns(
                file: path,
                missing: [u == nil ? urlNames.joined(separator: " or ") : nil,
                          c == nil ? captionNames.joined(separator: " or ") : nil].compactMap { $0 },
                expected: [urlNames.joined(separator: " or "), captionNames.joined(separator: " or ")], found: all)
        }
        let wanted = options.metadataColumns.map { Set($0.map { $0.lowercased() }) }
        let extras = file.columns.indices.filter { i in
            i != u && i != c && (wanted?.contains(file.columns[i].name.lowercased()) ?? true)
        }
        metadataNames = extras.map { file.columns[$0].name.lowercased() }
        rows = file.rows(columns: [u, c] + extras)
    }

    mutating func next() throws -> ManifestRecord? {
        guard let values = try rows.next() else { return nil }
        let url: String, caption: String
        switch (Check.url(values[0].utf8Text), Check.caption(values[1].utf8Text)) {
        case let (.success(u), .success(c)): url = u; caption = c
        case let (.failure(r), _), let (_, .failure(r)):
            let excerpt = Text.excerpt((values[0].utf8Text ?? "null") + "\t" + (values[1].utf8Text ?? "null"))
            return context.problem(record: rows.row, rowGroup: rows.rowGroup, r.reason, excerpt: excerpt)
        }
        var metadata: [String: String] = [:]
        for (name, value) in zip(metadataNames, values[2...]) {
            if let text = value.text { metadata[name] = text }
        }
        return context.sample(key: String(rows.row), url: url, captions: [caption], metadata: metadata)
    }
}
