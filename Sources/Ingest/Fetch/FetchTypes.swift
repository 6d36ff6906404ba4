/// One thing to download.
public struct FetchRequest: Sendable, Equatable {
    /// Echoed in the result; the fetcher does not interpret it.
    public var key: String
    /// http(s) URL, or a file:// URL when `allowFile` is set.
    public var url: String
    /// Lowercase or uppercase hex SHA-256 the body must have, when the manifest gives one.
    public var expectedSHA256: String?
    /// Allows the file:// scheme for the first request (never for redirects). Only for samples
    /// that come from a local image root.
    public var allowFile: Bool
    /// The image is bytes of a local archive (`archivePath`): read from the disk, never fetched.
    public var archivePath: String?
    public var member: ArchiveMember?
    /// The source already failed to get this image (`status: message`); nothing is fetched and
    /// the result reports the failure (`SourceFailure`).
    public var sourceFailure: String?

    public init(key: String, url: String, expectedSHA256: String? = nil, allowFile: Bool = false) {
        self.key = key; self.url = url; self.expectedSHA256 = expectedSHA256; self.allowFile = allowFile
    }

    /// A request for an image inside a local archive; `url` is the image's original address,
    /// echoed in the result.
    public static func archived(key: String, path: String, member: ArchiveMember, url: String?) -> FetchRequest {
        var r = FetchRequest(key: key, url: url ?? "")
        r.archivePath = path
        r.member = member
        return r
    }

    /// A request that only records the failure the source met when it tried to get the image.
    public static func failedAtSource(key: String, url: String?, failure: String) -> FetchRequest {
        var r = FetchRequest(key: key, url: url ?? "")
        r.sourceFailure = failure
        return r
    }

    /// The request for a stored sample: a source's failure is only recorded, an archive member is
    /// read from its shard, a URL is fetched, a local file is read; a sample with none of them
    /// gets an empty URL, which fails as `bad_url`.
    public static func forSample(key: String, url: String?, localPath: String?, member: ArchiveMember?,
                                 sourceFailure: String?, expectedSHA256: String? = nil) -> FetchRequest {
        if let sourceFailure { return .failedAtSource(key: key, url: url, failure: sourceFailure) }
        if let member, let localPath, !localPath.isEmpty {
            var r = FetchRequest.archived(key: key, path: localPath, member: member, url: url)
            r.expectedSHA256 = expectedSHA256
            return r
        }
        if let url, !url.isEmpty { return FetchRequest(key: key, url: url, expectedSHA256: expectedSHA256) }
        if let localPath, !localPath.isEmpty { return .localFile(key: key, path: localPath, expectedSHA256: expectedSHA256) }
        return FetchRequest(key: key, url: "")
    }

    /// Answered from the disk or the request itself, without the network.
    var isLocal: Bool { member != nil || sourceFailure != nil }

    /// A request for a local file (absolute path), as a percent-encoded file:// URL.
    public static func localFile(key: String, path: String, expectedSHA256: String? = nil) -> FetchRequest {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = Array("file://".utf8)
        for byte in path.utf8 {
            let unreserved = (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a)
                || "/-._~!$&'()*+,;=:@".utf8.contains(byte)
            if unreserved {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return FetchRequest(key: key, url: String(decoding: encoded, as: UTF8.self),
                            expectedSHA256: expectedSHA256, allowFile: true)
    }
}

/// How one request ended. Exactly one per request.
public struct FetchResult: Sendable, Codable, Equatable {
    public var key: String
    public var url: String
    public var status: FetchStatus
    /// Attempts made, 1 + retries (0 when the URL was rejected before any attempt).
    public var attempts: Int
    /// Body bytes received in the last attempt (after content decoding).
    public var bytes: Int
    /// Digest of the body, for `ok` and `hash_mismatch`.
    public var sha256: String?
    /// Wall time of the last attempt, redirects included.
    public var latencySeconds: Double
    /// HTTP status of the last response (0 when there was none, and for file://).
    public var httpCode: Int
    /// URL of the last response, after redirects.
    public var finalURL: String?
    public var contentType: String?
    /// The image format recognised from the first bytes.
    public var format: SniffedFormat?
    /// Path of the blob in the store, for `ok`.
    public var blob: String?
    /// Human-readable detail for failures.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case key, url, status, attempts, bytes, sha256, format, blob, error
        case latencySeconds = "latency_s"
        case httpCode = "http_code"
        case finalURL = "final_url"
        case contentType = "content_type"
    }

    public init(key: String, url: String, status: FetchStatus, attempts: Int, bytes: Int = 0,
                sha256: String? = nil, latencySeconds: Double = 0, httpCode: Int = 0,
                finalURL: String? = nil, contentType: String? = nil, format: SniffedFormat? = nil,
                blob: String? = nil, error: String? = nil) {
        self.key = key; self.url = url; self.status = status; self.attempts = attempts; self.bytes = bytes
        self.sha256 = sha256; self.latencySeconds = latencySeconds; self.httpCode = httpCode
        self.finalURL = finalURL; self.contentType = contentType; self.format = format
        self.blob = blob; self.error = error
    }
}

/// Fetcher settings. The defaults suit web sources; tests shrink the timeouts.
public struct FetchOptions: Sendable, Equatable {
    /// Transfers on the wire at once.
    public var maxInFlight: Int = 256
    /// Transfers on the wire at once to one host (host:port of the first URL), and libcurl's
    /// connection limit per host.
    public var maxPerHost: Int = 8
    public var connectTimeout: Double = 10
    /// Limit on one attempt, redirects included.
    public var totalTimeout: Double = 30
    /// An attempt slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted
    /// (libcurl counts whole seconds; values below 1 are rounded up to 1).
    public var lowSpeedLimit: Int = 1024
    public var lowSpeedTime: Double = 10
    /// Bodies larger than this are abandoned (on Content-Length, or while streaming).
    public var maxBodyBytes: Int = 20 * 1024 * 1024
    public var maxRedirects: Int = 5
    public var userAgent: String = "capfilt/\(CapfiltVersion.current) (+https://github.com/capfilt/capfilt)"
    /// X-Robots-Tag rules; the token should match the User-Agent's product name.
    public var robots: RobotsPolicy = RobotsPolicy()
    public var addresses: AddressPolicy = AddressPolicy()
    public var retry: RetryPolicy = RetryPolicy()
    /// Bodies up to this size are kept in memory until committed; larger ones are streamed to a
    /// temporary file in the store as they arrive.
    public var memoryBodyLimit: Int = 256 * 1024
    /// Offer HTTP/2 over TLS (ALPN) and multiplex on it.
    public var http2: Bool = true
    /// Use the http_proxy / https_proxy environment variables. Off by default: the address
    /// policy checks the address actually connected to, which would be the proxy's.
    public var useEnvironmentProxy: Bool = false
    /// Requests read ahead of the wire, waiting for a host slot or a retry, as a multiple of
    /// `maxInFlight`.
    public var backlogFactor: Int = 4

    public init() {}
}

/// Counters for a progress display; read with `Fetcher.progress()` from any thread.
public struct FetchProgress: Sendable, Equatable {
    /// Requests handed to the fetcher so far.
    public var submitted = 0
    /// Attempts on the wire.
    public var inFlight = 0
    /// Waiting for a host slot.
    public var waitingForHost = 0
    /// Waiting for a retry timer.
    public var waitingForRetry = 0
    /// Results delivered.
    public var finished = 0
    public var succeeded = 0
    /// Body bytes of delivered results.
    public var bytes = 0
    public var attempts = 0
    public init() {}
}

/// What one `run` did.
public struct FetchSummary: Sendable, Equatable {
    public var counts: [FetchStatus: Int] = [:]
    public var results = 0
    public var attempts = 0
    public var bytes = 0
    public var seconds: Double = 0
    /// True when `cancel()` stopped the run; unfinished requests then have no result.
    public var cancelled = false
    public init() {}
}
