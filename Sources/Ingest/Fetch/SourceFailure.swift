/// The fetch status for a failure a source recorded when it tried to get an image: img2dataset's
/// sidecar rows, `status: error_message` (`failed_to_download: HTTP Error 404: Not Found`).
/// Its messages come from Python's urllib, ssl and Pillow; each is mapped to the status capfilt's
/// own fetcher would have given, and a message that names none is `transfer_error`. The message
/// itself is kept as the result's error.
public enum SourceFailure {
    public static func status(for failure: String) -> FetchStatus {
        let text = failure.lowercased()
        if text.hasPrefix("failed_to_resize") { return .notImage }
        // A downloaded image that its shard no longer holds (cut short): a local read failure.
        if text.hasPrefix("missing_from_shard") { return .ioError }
        if let code = httpCode(in: text) { return FetchStatus.forHTTPCode(code) }
        let rules: [(FetchStatus, [String])] = [
            (.robotsOptOut, ["x-robots-tag"]),
            (.timeout, ["timed out", "timeout"]),
            (.dns, ["name or service not known", "temporary failure in name resolution", "nodename nor servname",
                    "getaddrinfo", "no address associated"]),
            (.tls, ["ssl", "certificate"]),
            (.tooManyRedirects, ["redirect"]),
            (.truncated, ["incompleteread", "incomplete read"]),
            (.connect, ["connection refused", "connection reset", "no route to host", "network is unreachable",
                        "remote end closed connection", "connection aborted"]),
            (.unsupportedProtocol, ["unknown url type"]),
            (.notImage, ["cannot identify image", "image decoding error", "not an image", "image too", "decompression bomb"]),
        ]
        for (status, words) in rules where words.contains(where: text.contains) { return status }
        return .transferError
    }

    /// The code of urllib's "HTTP Error 404: Not Found".
    private static func httpCode(in text: String) -> Int? {
        guard let r = text.range(of: "http error ") else { return nil }
        return Int(text[r.upperBound...].prefix(while: \.isNumber))
    }
}
