internal import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When and how soon a failed fetch is tried again.
///
/// Only transient failures are retried: timeouts, connection failures and drops, DNS failures,
/// truncated bodies, 408, 429 and 5xx. 403, 404, 410 and the other 4xx, TLS failures, robots
/// opt-outs, non-images and size or hash failures are final at once. The delay before retry n
/// (n = 1, 2, ...) is `min(maxDelay, baseDelay * multiplier^(n-1))`, of which the last `jitter`
/// fraction is drawn at random; a Retry-After header (429 and 503) replaces it, capped at
/// `maxRetryAfter`.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt; attempts = 1 + maxRetries at most.
    public var maxRetries: Int
    public var baseDelay: Double
    public var multiplier: Double
    public var maxDelay: Double
    /// 0 (no randomness) to 1 (the whole delay drawn uniformly from 0...delay).
    public var jitter: Double
    /// Longest Retry-After wait honoured; longer requests are shortened to this.
    public var maxRetryAfter: Double
    /// Statuses that are retried. 408 is retried too although it reports as http_4xx.
    public var retryable: Set<FetchStatus>

    public static let defaultRetryable: Set<FetchStatus> = [
        .timeout, .connect, .dns, .truncated, .http429, .http5xx, .transferError,
    ]

    public init(maxRetries: Int = 2, baseDelay: Double = 1, multiplier: Double = 2, maxDelay: Double = 30,
                jitter: Double = 0.5, maxRetryAfter: Double = 60,
                retryable: Set<FetchStatus> = RetryPolicy.defaultRetryable) {
        self.maxRetries = maxRetries; self.baseDelay = baseDelay; self.multiplier = multiplier
        self.maxDelay = maxDelay; self.jitter = jitter; self.maxRetryAfter = maxRetryAfter
        self.retryable = retryable
    }

    /// Whether a failure after `attempts` attempts gets another one.
    public func shouldRetry(_ status: FetchStatus, httpCode: Int, attempts: Int) -> Bool {
        guard attempts <= maxRetries else { return false }
        return retryable.contains(status) || (status == .http4xx && httpCode == 408)
    }

    /// Seconds to wait before the next attempt, after `attempts` attempts.
    /// `retryAfter` is the server's Retry-After in seconds, when it sent one.
    public func delay<R: RandomNumberGenerator>(afterAttempts attempts: Int, retryAfter: Double?,
                                                using random: inout R) -> Double {
        if let retryAfter { return max(0, min(retryAfter, maxRetryAfter)) }
        let exponent = Double(max(0, attempts - 1))
        let full = min(maxDelay, baseDelay * pow(multiplier, exponent))
        let spread = full * min(1, max(0, jitter))
        return full - spread + (spread > 0 ? Double.random(in: 0...spread, using: &random) : 0)
    }
}

/// Parses a Retry-After value: delay-seconds or an HTTP-date, as seconds from `now` (Unix
/// seconds). Dates in the past give 0. Returns nil for anything unparseable.
public func parseRetryAfter(_ value: String, now: Double) -> Double? {
    let text = value.trimmingASCIIWhitespace()
    guard !text.isEmpty else { return nil }
    if text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
        return text.utf8.count > 9 ? Double(Int32.max) : Double(text)
    }
    let when = text.withCString { curl_getdate($0, nil) }
    guard when >= 0 else { return nil }
    return max(0, Double(when) - now)
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 32 || bytes[start] == 9 || bytes[start] == 13 || bytes[start] == 10 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 || bytes[end - 1] == 13 || bytes[end - 1] == 10 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
