/// Where a text comes from: human annotators (COCO, Visual Genome) or the web (alt-text).
public enum SampleOrigin: String, Sendable, Codable, Equatable, CaseIterable {
    case human, web
}

/// One normalised row of any manifest: an image (URL or local file) with its captions.
public struct ManifestSample: Sendable, Codable, Equatable {
    /// Source name, e.g. "cc3m", "coco", "laion".
    public var source: String
    /// Stable key within the source (e.g. a COCO image id, or the row number of a TSV): the
    /// same manifest always yields the same keys, which is what makes resuming exact.
    public var key: String
    /// http(s) URL for web sources.
    public var url: String?
    /// Local file, already resolved under the image root and checked not to escape it.
    public var localPath: String?
    public var captions: [String]
    public var origin: SampleOrigin
    /// The source's other columns, kept as text.
    public var metadata: [String: String]
    /// The image is a member of the archive at `localPath` (a WebDataset shard), not the whole file.
    public var member: ArchiveMember?
    /// Why the source has no image for this row (a download that failed when the shard was made,
    /// e.g. `failed_to_download: HTTP Error 404: Not Found`); the fetch stage records it and
    /// fetches nothing.
    public var sourceFailure: String?

    public init(source: String, key: String, url: String? = nil, localPath: String? = nil,
                captions: [String], origin: SampleOrigin, metadata: [String: String] = [:],
                member: ArchiveMember? = nil, sourceFailure: String? = nil) {
        self.source = source; self.key = key; self.url = url; self.localPath = localPath
        self.captions = captions; self.origin = origin; self.metadata = metadata
        self.member = member; self.sourceFailure = sourceFailure
    }
}

/// Where an image lies inside a local archive: bytes `offset..<offset + size`.
public struct ArchiveMember: Sendable, Codable, Equatable {
    public var offset: Int
    public var size: Int
    public init(offset: Int, size: Int) { self.offset = offset; self.size = size }
}
