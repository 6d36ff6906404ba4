import Imaging

/// What one fetch job reads, where it writes, and how it fetches.
public struct FetchJobSettings: Sendable {
    /// Samples, as JSON Lines (what `capfilt ingest` writes).
    public var input: String
    /// The blob store folder (created if missing).
    public var store: String
    /// The results file (JSON Lines): appended to, and read first to resume.
    public var results: String
    public var fetch: FetchOptions
    /// On resume, fetch again the keys whose last status was transient.
    public var retryFailed: Bool
    /// fsync blobs and images (crash safety).
    public var durable: Bool
    /// Also write every fetched image resized, as a JPEG file.
    public var images: FetchImageSettings?

    public init(input: String, store: String, results: String, fetch: FetchOptions = FetchOptions(),
                retryFailed: Bool = false, durable: Bool = true, images: FetchImageSettings? = nil) {
        self.input = input; self.store = store; self.results = results; self.fetch = fetch
        self.retryFailed = retryFailed; self.durable = durable; self.images = images
    }
}

/// Resized JPEG output of a fetch job: `directory/<key>.jpg`, as img2dataset's `files` format.
public struct FetchImageSettings: Sendable {
    public var directory: String
    public var resizer: ExportResizer
    /// JPEG quality, 1-100.
    public var quality: Int
    /// Threads that decode, resize and encode.
    public var threads: Int

    public init(directory: String, resizer: ExportResizer, quality: Int, threads: Int) {
        self.directory = directory; self.resizer = resizer; self.quality = quality; self.threads = threads
    }
}
