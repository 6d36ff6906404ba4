/// What every reader needs to turn a row into a record: the file name for problems, the source
/// name, origin and key prefix for samples, and which extra columns to keep.
struct ReaderContext: Sendable {
    let file: String
    let source: String
    let origin: SampleOrigin
    let keyPrefix: String
    let metadataColumns: Set<String>?

    init(file: String, format: ManifestFormat, options: ManifestOptions) {
        self.file = file
        source = options.source ?? format.defaultSource
        origin = options.origin ?? format.defaultOrigin
        keyPrefix = options.keyPrefix
        metadataColumns = options.metadataColumns.map(Set.init)
    }

    func keeps(_ column: String) -> Bool { metadataColumns?.contains(column) ?? true }

    func sample(key: String, url: String? = nil, localPath: String? = nil, captions: [String],
                metadata: [String: String] = [:], member: ArchiveMember? = nil, sourceFailure: String? = nil) -> ManifestRecord {
        .sample(ManifestSample(source: source, key: keyPrefix + key, url: url, localPath: localPath,
                               captions: captions, origin: origin, metadata: metadata, member: member,
                               sourceFailure: sourceFailure))
    }

    func problem(line: Int? = nil, record: Int? = nil, rowGroup: Int? = nil, file: String? = nil,
                 _ reason: String, excerpt: String? = nil) -> ManifestRecord {
        .malformed(ManifestProblem(file: file ?? self.file, line: line, record: record, rowGroup: rowGroup,
                                   reason: reason, excerpt: excerpt))
    }
}

/// Finds a column by name: exactly, else ignoring case.
func findColumn(_ name: String, in columns: [String]) -> Int? {
    if let i = columns.firstIndex(of: name) { return i }
    let lower = name.lowercased()
    return columns.firstIndex { $0.lowercased() == lower }
}

/// A first-in first-out queue of records, for readers that find several records at once.
struct RecordQueue {
    private var items: [ManifestRecord] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func push(_ r: ManifestRecord) { items.append(r) }

    mutating func pop() -> ManifestRecord? {
        guard head < items.count else { return nil }
        let r = items[head]
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        return r
    }
}
