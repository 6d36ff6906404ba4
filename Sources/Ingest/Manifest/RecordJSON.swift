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
        JSONWriter.writeString(source, to: &out)
        out += #","key":"#.utf8
        JSONWriter.writeString(key, to: &out)
        if let url {
            out += #","url":"#.utf8
            JSONWriter.writeString(url, to: &out)
        }
        if let localPath {
            out += #","localPath":"#.utf8
            JSONWriter.writeString(localPath, to: &out)
        }
        out += #","captions":["#.utf8
        for (i, c) in captions.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(c, to: &out)
        }
        out += #"],"origin":"#.utf8
        JSONWriter.writeString(origin.rawValue, to: &out)
        out += #","metadata":{"#.utf8
        for (i, key) in metadata.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.writeString(metadata[key]!, to: &out)
        }
        out += "}}".utf8
    }
}

extension ManifestProblem {
    public func jsonLine() -> String {
        var out = ""
        JSONWriter.write(jsonValue, to: &out)
        return out
    }

    /// Appends the JSON line and a newline to `buffer`.
    public func appendJSONLine(to buffer: inout [UInt8]) {
        JSONWriter.write(jsonValue, to: &buffer)
        buffer.append(0x0A)
    }

    private var jsonValue: JSONValue {
        var o: [(String, JSONValue)] = [("file", .string(file))]
        if let line { o.append(("line", .number(String(line)))) }
        if let record { o.append(("record", .number(String(record)))) }
        if let rowGroup { o.append(("rowGroup", .number(String(rowGroup)))) }
        o.append(("reason", .string(reason)))
        if let excerpt { o.append(("excerpt", .string(excerpt))) }
        return .object(o)
    }
}
