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
