/// One record of a delimited file.
struct DelimitedRecord {
    var fields: [String]
    /// Line where the record starts (a quoted field may carry it over several lines).
    var line: Int
    /// Set when the record could not be read; `fields` is then empty.
    var problem: String?
    var excerpt: String
}

/// RFC 4180 records: fields split on `delimiter`; a field that starts with a double quote runs
/// to the closing quote and may hold delimiters, newlines and doubled quotes (`""`). A quote in
/// the middle of an unquoted field is kept as text, as most CSV writers expect. Line endings
/// inside quoted fields become "\n". Blank lines are skipped.
struct DelimitedRecordReader {
    private var lines: LineReader
    private let delimiter: UInt8
    private let quoting: Bool
    private var field: [UInt8] = []

    init(path: String, delimiter: UInt8, quoting: Bool = true) throws {
        lines = try LineReader(path: path)
        self.delimiter = delimiter
        self.quoting = quoting
    }

    var path: String { lines.path }

    mutating func next() throws -> DelimitedRecord? {
        var fields: [String] = []
        var inQuotes = false
        var quoted = false
        var badUTF8 = false
        var startLine = 0
        var excerpt = ""
        field.removeAll(keepingCapacity: true)
        while let line = try lines.next() {
            if line.tooLong {
                return DelimitedRecord(fields: [], line: startLine == 0 ? line.number : startLine,
                                       problem: ManifestReason.lineTooLong, excerpt: excerpt)
            }
            let buffer = lines.input.buffer
            if startLine == 0 {
                if line.range.isEmpty { continue }
                startLine = line.number
                excerpt = Text.excerpt(buffer[line.range])
            } else {
                // The newline belongs to the quoted field that is still open.
                field.append(0x0A)
            }
            var k = line.range.lowerBound
            let end = line.range.upperBound
            while k < end {
                let c = buffer[k]
                if inQuotes {
                    if c == 0x22 {
                        if k + 1 < end && buffer[k + 1] == 0x22 {
                            field.append(0x22)
                            k += 1
                        } else {
                            inQuotes = false
                        }
                    } else {
                        field.append(c)
                    }
                } else if c == delimiter {
                    finishField(&fields, &badUTF8)
                    quoted = false
                } else if c == 0x22 && quoting && field.isEmpty && !quoted {
                    inQuotes = true
                    quoted = true
                } else {
                    field.append(c)
                }
                k += 1
            }
            if inQuotes { continue }
            finishField(&fields, &badUTF8)
            if badUTF8 {
                return DelimitedRecord(fields: [], line: startLine, problem: ManifestReason.invalidUTF8, excerpt: excerpt)
            }
            return DelimitedRecord(fields: fields, line: startLine, problem: nil, excerpt: excerpt)
        }
        if startLine == 0 { return nil }
        return DelimitedRecord(fields: [], line: startLine, problem: "unterminated quoted field", excerpt: excerpt)
    }

    private mutating func finishField(_ fields: inout [String], _ badUTF8: inout Bool) {
        if let s = String(validating: field, as: UTF8.self) {
            fields.append(s)
        } else {
            badUTF8 = true
            fields.append("")
        }
        field.removeAll(keepingCapacity: true)
    }
}

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
