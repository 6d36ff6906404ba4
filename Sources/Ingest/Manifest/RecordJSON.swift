import Basics

/// One-line JSON forms of samples and problems, for the `.jsonl` outputs of `capfilt ingest`.
/// Field names match the types' `Codable` forms, so `JSONDecoder` reads the lines back.
extension ManifestSample {
    public func jsonLine() -> String {
        var out: [UInt8] = []
        writeJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON line and a newline to `buffer`.
    public func appendJSONLine(to buffer: inout [UInt8]) {
        writeJSON(to: &buffer)
        buffer.append(0x0A)
    }

    /// Written field by field (no intermediate tree): this runs once per sample of a big ingest.
    private func writeJSON(to out: inout [UInt8]) {
        out += #"{"source":"#.utf8
        appendString(source, to: &out)
        out += #","key":"#.utf8
        appendString(key, to: &out)
        if let url {
            out += #","url":"#.utf8
            appendString(url, to: &out)
        }
        if let localPath {
            out += #","localPath":"#.utf8
            appendString(localPath, to: &out)
        }
        if let member {
            out += #","member":{"offset":\#(member.offset),"size":\#(member.size)}"#.utf8
        }
        if let sourceFailure {
            out += #","sourceFailure":"#.utf8
            appendString(sourceFailure, to: &out)
        }
        out += #","captions":["#.utf8
        for (i, c) in captions.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(c, to: &out)
        }
        out += #"],"origin":"#.utf8
        appendString(origin.rawValue, to: &out)
        out += #","metadata":{"#.utf8
        for (i, key) in metadata.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(metadata[key]!, to: &out)
        }
        out += "}}".utf8
    }
}

extension ManifestProblem {
    public func jsonLine() -> String {
        lineWriter.encode(jsonValue)
    }

    /// Appends the JSON line and a newline to `buffer`.
    public func appendJSONLine(to buffer: inout [UInt8]) {
        lineWriter.append(jsonValue, to: &buffer)
        buffer.append(0x0A)
    }

    private var jsonValue: JSONValue {
        var o: [(String, JSONValue)] = [("file", .string(file))]
        if let line { o.append(("line", .int(line))) }
        if let record { o.append(("record", .int(record))) }
        if let rowGroup { o.append(("rowGroup", .int(rowGroup))) }
        o.append(("reason", .string(reason)))
        if let excerpt { o.append(("excerpt", .string(excerpt))) }
        return .orderedObject(o)
    }
}

/// Compact, with the escapes ingest's lines have always had.
private let lineWriter = DeterministicJSON(escaping: .lineBreaksAndTabs)

private func appendString(_ string: String, to out: inout [UInt8]) {
    DeterministicJSON.appendString(string, to: &out, escaping: .lineBreaksAndTabs)
}
