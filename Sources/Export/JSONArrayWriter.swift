import Basics

/// Streams a JSON array to a file one record at a time, in constant memory: `[`, one compact
/// record per line separated by `,`, then `]` and a newline (`[]` when empty). The file is
/// written as `.NAME.partial` and renamed into place by `finish()` (see `AtomicFile`), so a
/// reader never sees half an array; the next writer to the same path overwrites a leftover.
///
/// Not for concurrent use. A writer dropped without `finish()` leaves its `.partial`.
public final class JSONArrayWriter {
    public let path: String
    public private(set) var count = 0
    private let file: AtomicFile
    private let encoder: DeterministicJSON
    private var usable = true

    public init(path: String, durable: Bool = true, escapeNonASCII: Bool = false) throws {
        self.path = path
        try makeDirectory(splitPath(path).directory)
        file = try AtomicFile(path: path, durable: durable, hashing: false)
        encoder = DeterministicJSON(escapeNonASCII: escapeNonASCII)
    }

    public func append(_ record: JSONValue) throws {
        guard usable else { throw ExportError.closed(path) }
        var bytes = [UInt8]()
        bytes += Array((count == 0 ? "[\n" : ",\n").utf8)
        encoder.append(record, to: &bytes)
        do { try file.sink.write(bytes) } catch {
            usable = false
            throw error
        }
        count += 1
    }

    /// Closes the array and renames the file into place; returns the number of records.
    @discardableResult
    public func finish() throws -> Int {
        guard usable else { throw ExportError.closed(path) }
        usable = false
        try file.sink.write(Array((count == 0 ? "[]\n" : "\n]\n").utf8))
        try file.commit()
        return count
    }

    /// Removes the temporary file; nothing appears under `path`.
    public func discard() {
        usable = false
        file.discard()
    }
}
