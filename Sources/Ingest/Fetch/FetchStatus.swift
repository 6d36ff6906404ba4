/// How one fetch ended. Every request gets exactly one of these; the set is closed and each case
/// is described in docs/fetch.md. The raw values are what results files carry.
public enum FetchStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// The body was an image (by its first bytes), within the size limit, and is in the store.
    case ok
    /// As `ok`, read from a local archive (a WebDataset shard member): no transfer was made.
    case local
    case http404 = "http_404"
    case http403 = "http_403"
    case http410 = "http_410"
    case http429 = "http_429"
    /// Any other 4xx (408 among them, which is retried).
    case http4xx = "http_4xx"
    case http5xx = "http_5xx"
    /// A final response that is neither success nor error: 1xx, or a 3xx that could not be
    /// followed (304, 300, a redirect without Location).
    case httpOther = "http_other"
    /// The response's headers went past the size limit (100 KiB for one response here, or
    /// libcurl's own limits). Not retried: a server that sends them sends them again.
    case headersTooLarge = "headers_too_large"
    /// Connect timeout, total timeout, or the low-speed abort.
    case timeout
    /// Content-Length or the streamed body went past the size limit.
    case tooLarge = "too_large"
    /// X-Robots-Tag said noai / noimageai / noindex / noimageindex (for every bot or for ours).
    case robotsOptOut = "robots_optout"
    /// Content-Type is not an image type, the first bytes are not JPEG/PNG/WebP/GIF/BMP/TIFF,
    /// or the body is empty.
    case notImage = "not_image"
    case dns
    /// The connection could not be made, or was closed before any response arrived.
    case connect
    case tls
    case redirectLoop = "redirect_loop"
    case tooManyRedirects = "too_many_redirects"
    /// The body ended early: shorter than Content-Length, or the connection dropped mid-body.
    case truncated
    /// The address to connect to (first hop or after a redirect) is private, loopback,
    /// link-local or otherwise not public, and the policy refuses those.
    case forbiddenAddress = "forbidden_address"
    case badURL = "bad_url"
    case hashMismatch = "hash_mismatch"
    /// The scheme (or a redirect's scheme) is not http/https (or file, for local sources).
    case unsupportedProtocol = "unsupported_protocol"
    /// Malformed reply, bad content encoding, HTTP/2 stream error, or another libcurl failure.
    case transferError = "transfer_error"
    /// Writing the body to the store failed, or a local file could not be read.
    case ioError = "io_error"

    public var isSuccess: Bool { self == .ok || self == .local }

    /// The status for a final HTTP response code that is not success.
    static func forHTTPCode(_ code: Int) -> FetchStatus {
        switch code {
        case 404: return .http404
        case 403: return .http403
        case 410: return .http410
        case 429: return .http429
        case 400..<500: return .http4xx
        case 500..<600: return .http5xx
        default: return .httpOther
        }
    }
}
