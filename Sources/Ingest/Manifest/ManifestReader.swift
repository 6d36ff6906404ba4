/// A reader of one manifest: yields its rows one at a time, normalised, in file order.
///
/// Readers stream: memory does not grow with the number of rows, except for COCO and the
/// Visual Genome image table, whose joins need one side in memory (see docs/ingest.md).
public protocol ManifestReader {
    /// The next record, or nil at the end. A malformed row comes back as `.malformed` and the
    /// reader carries on; only a problem that ends the whole file is thrown.
    mutating func next() throws -> ManifestRecord?
}

/// A reader that can say exactly where it stands and start again from there, so that a resumed
/// ingest need not read again what it stored (a shard list of 100 GB is not re-read to skip it).
public protocol ResumableManifestReader: ManifestReader {
    /// Where the reader stands: a reader resumed here yields exactly the records not yet returned.
    var position: String { get }
    /// Continues from a `position` an earlier reader of the same input gave.
    mutating func resume(at position: String) throws
}

/// One row of a manifest: a normalised sample, or why the row was skipped.
public enum ManifestRecord: Sendable, Equatable {
    case sample(ManifestSample)
    case malformed(ManifestProblem)

    public var sample: ManifestSample? {
        if case .sample(let s) = self { return s }
        return nil
    }

    public var problem: ManifestProblem? {
        if case .malformed(let p) = self { return p }
        return nil
    }
}

/// Where and why a row was skipped.
public struct ManifestProblem: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The file the row is in (as given, not made absolute).
    public var file: String
    /// 1-based line where the row starts (text and JSON files).
    public var line: Int?
    /// 0-based index of the row in the file: TSV/CSV data row, JSON array element, Parquet row.
    public var record: Int?
    /// Parquet row group of the row.
    public var rowGroup: Int?
    public var reason: String
    /// The start of the raw row, for a human reading the rejects.
    public var excerpt: String?

    public init(file: String, line: Int? = nil, record: Int? = nil, rowGroup: Int? = nil,
                reason: String, excerpt: String? = nil) {
        self.file = file; self.line = line; self.record = record; self.rowGroup = rowGroup
        self.reason = reason; self.excerpt = excerpt
    }

    public var description: String {
        var at = file
        if let line { at += ":\(line)" }
        if let rowGroup { at += " row group \(rowGroup)" }
        if let record { at += " record \(record)" }
        return "\(at): \(reason)"
    }
}

/// The reasons readers give for a skipped row; the text is what the rejects file shows.
public enum ManifestReason {
    public static let missingURL = "missing url"
    public static let notHTTP = "url is not http(s)"
    public static let missingCaption = "missing caption"
    public static let missingImage = "missing image path"
    public static let pathEscapesRoot = "path escapes image root"
    public static let invalidUTF8 = "invalid UTF-8"
    public static let lineTooLong = "line longer than 16 MiB"
    public static let truncatedJSON = "truncated JSON at end of file"

    public static func columnCount(expected: Int, found: Int) -> String {
        "bad column count: expected \(expected), found \(found)"
    }
}

/// Problems that stop a whole manifest (as opposed to one row).
public enum ManifestError: Error, Equatable, CustomStringConvertible {
    /// The file lacks a column (or JSON key) the format needs.
    case missingColumns(file: String, missing: [String], expected: [String], found: [String])
    /// The format could not be told from the file; `--format` picks one.
    case undetectedFormat(file: String, reason: String)
    /// A two-file format (Visual Genome, SBU) could not find its second file.
    case missingCompanion(file: String, expected: String)
    case io(file: String, reason: String)
    /// The file is damaged in a way that ends reading (bad gzip, bad Parquet footer, ...).
    case corrupt(file: String, reason: String)
    /// A valid file using a feature this reader does not implement.
    case unsupported(file: String, reason: String)

    public var description: String {
        switch self {
        case let .missingColumns(file, missing, expected, found):
            let list = found.isEmpty ? "(none)" : found.joined(separator: ", ")
            return "\(file): missing column(s) \(missing.joined(separator: ", ")); "
                + "expected columns: \(expected.joined(separator: ", ")); found: \(list)"
        case let .undetectedFormat(file, reason):
            return "\(file): cannot tell the manifest format (\(reason)); pass --format"
        case let .missingCompanion(file, expected):
            return "\(file): needs its companion file \(expected) (pass --companion)"
        case let .io(file, reason): return "\(file): \(reason)"
        case let .corrupt(file, reason): return "\(file): corrupt: \(reason)"
        case let .unsupported(file, reason): return "\(file): unsupported: \(reason)"
        }
    }
}

/// Settings shared by every format; each reader uses the ones that apply to it.
public struct ManifestOptions: Sendable, Equatable {
    /// Source name written into every sample; defaults to the format's (`coco`, `cc3m`, ...).
    public var source: String?
    /// Folder that relative image paths resolve under (COCO, Karpathy, Visual Genome, BLIP
    /// pretrain JSON). Defaults to the manifest's folder.
    public var imageRoot: String?
    /// Column (or JSON key) holding the URL: img2dataset's `url_col`. Default "url"
    /// (Parquet: URL or url).
    public var urlColumn: String?
    /// Column (or JSON key) holding the caption: img2dataset's `caption_col`. Default "caption"
    /// (Parquet: TEXT or caption).
    public var captionColumn: String?
    /// The second file of a two-file format: Visual Genome's image_data.json, SBU's captions file.
    public var companionPath: String?
    /// Prepended to every key, to keep keys apart when several files feed one source.
    public var keyPrefix: String
    /// Overrides the format's origin (e.g. a BLIP pretrain JSON built from COCO is human text).
    public var origin: SampleOrigin?
    /// Extra columns to carry into metadata (CSV, TSV, JSONL, Parquet); nil carries them all.
    /// With Parquet, columns not named here are not read at all.
    public var metadataColumns: [String]?
    /// WebDataset: which tar files of the folder at `path` to read, as a `ShardPattern`
    /// (`{00000..00127}.tar`); nil reads every `*.tar` of the folder in name order.
    public var shards: String?

    public init(source: String? = nil, imageRoot: String? = nil, urlColumn: String? = nil,
                captionColumn: String? = nil, companionPath: String? = nil, keyPrefix: String = "",
                origin: SampleOrigin? = nil, metadataColumns: [String]? = nil, shards: String? = nil) {
        self.source = source; self.imageRoot = imageRoot; self.urlColumn = urlColumn
        self.captionColumn = captionColumn; self.companionPath = companionPath
        self.keyPrefix = keyPrefix; self.origin = origin; self.metadataColumns = metadataColumns
        self.shards = shards
    }
}

extension ManifestReader {
    /// Reads everything that is left. Meant for small files and tests: it holds all rows.
    public mutating func readAll() throws -> (samples: [ManifestSample], problems: [ManifestProblem]) {
        var samples: [ManifestSample] = []
        var problems: [ManifestProblem] = []
        while let record = try next() {
            switch record {
            case .sample(let s): samples.append(s)
            case .malformed(let p): problems.append(p)
            }
        }
        return (samples, problems)
    }
}
