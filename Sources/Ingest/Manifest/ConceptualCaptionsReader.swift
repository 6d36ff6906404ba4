import Foundation

/// Conceptual Captions TSVs, no header: CC3M is `caption<TAB>url`, CC12M `url<TAB>caption`.
/// Keys are 0-based row numbers (blank lines are not rows), as img2dataset numbers them.
struct ConceptualCaptionsReader: ManifestReader {
    enum Layout { case captionThenURL, urlThenCaption }

    private var lines: LineReader
    private let layout: Layout
    private let context: ReaderContext
    private var row = 0

    init(path: String, layout: Layout, context: ReaderContext) throws {
        lines = try LineReader(path: path)
        self.layout = layout
        self.context = context
    }

    mutating func next() throws -> ManifestRecord? {
        while let line = try lines.next() {
            if line.tooLong {
                defer { row += 1 }
                return context.problem(line: line.number, record: row, ManifestReason.lineTooLong)
            }
            if line.range.isEmpty { continue }
            defer { row += 1 }
            let buffer = lines.input.buffer
            let bytes = buffer[line.range]
            guard let tab = Text.find(0x09, in: buffer, line.range) else {
                return context.problem(line: line.number, record: row,
                                       ManifestReason.columnCount(expected: 2, found: 1), excerpt: Text.excerpt(bytes))
            }
            if Text.find(0x09, in: buffer, (tab + 1)..<line.range.upperBound) != nil {
                let found = bytes.reduce(1) { $1 == 0x09 ? $0 + 1 : $0 }
                return context.problem(line: line.number, record: row,
                                       ManifestReason.columnCount(expected: 2, found: found), excerpt: Text.excerpt(bytes))
            }
            guard let first = Text.string(bytes[..<tab]), let second = Text.string(bytes[(tab + 1)...]) else {
                return context.problem(line: line.number, record: row, ManifestReason.invalidUTF8, excerpt: Text.excerpt(bytes))
            }
            let (captionText, urlText) = layout == .captionThenURL ? (first, second) : (second, first)
            let url: String, caption: String
            switch (Check.url(urlText), Check.caption(captionText)) {
            case let (.success(u), .success(c)): url = u; caption = c
            case let (.failure(r), _), let (_, .failure(r)):
                return context.problem(line: line.number, record: row, r.reason, excerpt: Text.excerpt(bytes))
            }
            return context.sample(key: String(row), url: url, captions: [caption])
        }
        return nil
    }
}
