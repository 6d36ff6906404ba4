import Basics
import Foundation
internal import CCurl

/// Settings every transfer of a run reads.
final class TransferSettings {
    let maxBodyBytes: Int
    let memoryBodyLimit: Int
    let robots: RobotsPolicy
    let addresses: AddressPolicy
    let store: BlobStore

    init(options: FetchOptions, store: BlobStore) {
        maxBodyBytes = options.maxBodyBytes
        memoryBodyLimit = options.memoryBodyLimit
        robots = options.robots
        addresses = options.addresses
        self.store = store
    }
}

/// One request across all its attempts. Lives on the loop thread.
final class Transfer {
    let request: FetchRequest
    let target: FetchTarget
    let settings: TransferSettings
    private(set) var attempts = 0
    private(set) var easy: EasyHandle?
    private var startedAt = 0.0
    private let body: BodySink

    // State of the current attempt; the response fields describe the latest response, which is
    // the final one once the attempt is over.
    private var code = 0
    private var headersComplete = false
    private var contentType: String?
    private var contentLength: Int?
    private var robotsDirective: String?
    private(set) var retryAfter: Double?
    private var hops: [String] = []
    private var abort: Abort?
    private var discarded = 0
    /// Header bytes of the latest response, its status line included.
    private var headerBytes = 0
    private var prefix: [UInt8] = []
    /// Set by the open-socket callback when the address policy refused an address.
    var refusedAddress: String?

    enum Abort {
        case robots(String)
        case notImage(String)
        case tooLarge
        case headersTooLarge
        case redirectLoop(String)
        case store(String)
        /// An error response's body went past what is worth draining.
        case discardLimit
    }

    /// Error bodies (404 pages and the like) are drained up to this size to keep the connection
    /// reusable, then the transfer is cut.
    private static let discardLimit = 64 * 1024

    /// The most header bytes one response may have. libcurl's own limits (100 KiB for one line,
    /// 300 KiB in all) end a transfer with codes that also mean other things (CURLE_OUT_OF_MEMORY,
    /// CURLE_RECV_ERROR before libcurl 8.6), so most oversized replies are cut here first.
    static let maxHeaderBytes = 100 * 1024

    init(request: FetchRequest, target: FetchTarget, settings: TransferSettings) {
        self.request = request
        self.target = target
        self.settings = settings
        self.body = BodySink(store: settings.store, memoryLimit: settings.memoryBodyLimit)
    }

    func beginAttempt(on easy: EasyHandle) {
        attempts += 1
        self.easy = easy
        easy.clearError()
        startedAt = monotonicSeconds()
        code = 0
        headersComplete = false
        contentType = nil
        contentLength = nil
        robotsDirective = nil
        retryAfter = nil
        hops.removeAll()
        abort = nil
        discarded = 0
        headerBytes = 0
        prefix.removeAll()
        refusedAddress = nil
        body.reset()
    }

    func endAttempt() { easy = nil }

    private var isSuccessResponse: Bool {
        (200..<300).contains(code) || (code == 0 && target.scheme == "file")
    }

    // MARK: Callbacks

    func receiveHeader(_ line: UnsafeRawBufferPointer) -> Bool {
        let isStatusLine = line.count >= 5 && line[0] == 0x48 && line[1] == 0x54 && line[2] == 0x54 && line[3] == 0x50 && line[4] == 0x2F
        headerBytes = (isStatusLine ? 0 : headerBytes) + line.count
        if headerBytes > Self.maxHeaderBytes {
            abort = .headersTooLarge
            return false
        }
        var end = line.count
        while end > 0, line[end - 1] == 13 || line[end - 1] == 10 { end -= 1 }
        if end == 0 { return endOfHeaders() }
        if end >= 5, line[0] == 0x48, line[1] == 0x54, line[2] == 0x54, line[3] == 0x50, line[4] == 0x2F {
            return statusLine(line, end: end)
        }
        guard let colon = (0..<end).first(where: { line[$0] == 0x3A }) else { return true }
        let name = line[0..<colon]
        func value() -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: line[(colon + 1)..<end]), as: UTF8.self).trimmingASCIIWhitespace()
        }
        if asciiEqualsLowercase(name, "content-type") {
            contentType = value()
        } else if asciiEqualsLowercase(name, "content-length") {
            contentLength = Int(value())
        } else if asciiEqualsLowercase(name, "x-robots-tag") {
            let directive = value()
            if robotsDirective == nil, settings.robots.optsOut(headerValue: directive) { robotsDirective = directive }
        } else if asciiEqualsLowercase(name, "retry-after") {
            retryAfter = parseRetryAfter(value(), now: Date().timeIntervalSince1970)
        }
        return true
    }

    private func statusLine(_ line: UnsafeRawBufferPointer, end: Int) -> Bool {
        var i = 5
        while i < end, line[i] != 0x20 { i += 1 }
        while i < end, line[i] == 0x20 { i += 1 }
        var parsed = 0, digits = 0
        while i < end, digits < 3, line[i] >= 0x30, line[i] <= 0x39 {
            parsed = parsed * 10 + Int(line[i] - 0x30); i += 1; digits += 1
        }
        code = parsed
        headersComplete = false
        contentType = nil
        contentLength = nil
        robotsDirective = nil
        retryAfter = nil
        if code >= 200, let easy {
            var pointer: UnsafePointer<CChar>? = nil
            if ccurl_easy_getinfo_string(easy.handle, CURLINFO_EFFECTIVE_URL, &pointer) == CURLE_OK, let pointer {
                let url = String(cString: pointer)
                if hops.contains(url) {
                    abort = .redirectLoop(url)
                    return false
                }
                hops.append(url)
            }
        }
        return true
    }

    private func endOfHeaders() -> Bool {
        guard code >= 200 else { return true }
        headersComplete = true
        guard (200..<300).contains(code) else { return true }
        if let robotsDirective {
            abort = .robots("X-Robots-Tag: \(robotsDirective)")
            return false
        }
        if !contentTypeMayBeImage(contentType) {
            abort = .notImage("Content-Type \(contentType ?? "")")
            return false
        }
        if let contentLength, contentLength > settings.maxBodyBytes {
            abort = .tooLarge
            return false
        }
        if let contentLength { body.reserve(contentLength) }
        return true
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if abort != nil { return false }
        guard isSuccessResponse else {
            discarded += bytes.count
            if discarded > Self.discardLimit {
                abort = .discardLimit
                return false
            }
            return true
        }
        if body.count + bytes.count > settings.maxBodyBytes {
            abort = .tooLarge
            return false
        }
        if prefix.count < SniffedFormat.prefixLength {
            prefix.append(contentsOf: bytes.prefix(SniffedFormat.prefixLength - prefix.count))
            if prefix.count >= SniffedFormat.prefixLength, SniffedFormat.sniff(prefix) == nil {
                abort = .notImage("body is not JPEG, PNG, WebP, GIF, BMP or TIFF")
                return false
            }
        }
        do {
            try body.append(bytes)
        } catch {
            abort = .store("\(error)")
            return false
        }
        return true
    }

    // MARK: Outcome

    /// The status of the attempt that just ended (before retries and hash checks).
    func classify(code curlCode: CURLcode, easy: EasyHandle) -> FetchResult {
        var httpCode = 0
        ccurl_easy_getinfo_long(easy.handle, CURLINFO_RESPONSE_CODE, &httpCode)
        if httpCode == 0 { httpCode = code }
        var urlPointer: UnsafePointer<CChar>? = nil
        ccurl_easy_getinfo_string(easy.handle, CURLINFO_EFFECTIVE_URL, &urlPointer)
        var result = FetchResult(
            key: request.key, url: request.url, status: .ok, attempts: attempts, bytes: body.count,
            latencySeconds: monotonicSeconds() - startedAt, httpCode: httpCode,
            finalURL: urlPointer.map { String(cString: $0) }, contentType: contentType)
        let (status, message) = status(curlCode: curlCode, easy: easy)
        result.status = status
        result.error = message
        if status == .ok { result.format = SniffedFormat.sniff(prefix) }
        return result
    }

    private func status(curlCode: CURLcode, easy: EasyHandle) -> (FetchStatus, String?) {
        func curlMessage() -> String {
            let detail = easy.errorText
            return detail.isEmpty ? String(cString: curl_easy_strerror(curlCode)) : detail
        }
        if let refusedAddress, curlCode != CURLE_OK {
            return (.forbiddenAddress, "address \(refusedAddress) is not public")
        }
        switch abort {
        case let .robots(message)?: return (.robotsOptOut, message)
        case let .notImage(message)?: return (.notImage, message)
        case .tooLarge?: return (.tooLarge, "body over \(settings.maxBodyBytes) bytes")
        case .headersTooLarge?: return (.headersTooLarge, "response headers over \(Self.maxHeaderBytes) bytes")
        case let .redirectLoop(url)?: return (.redirectLoop, "redirect loop at \(url)")
        case let .store(message)?: return (.ioError, message)
        case .discardLimit?, nil: break
        }
        // A complete error response says more than what happened to its body afterwards.
        if headersComplete, code >= 400 {
            return (FetchStatus.forHTTPCode(code), "HTTP \(code)")
        }
        if curlCode == CURLE_OK {
            if isSuccessResponse {
                if body.count == 0 { return (.notImage, "empty body") }
                if SniffedFormat.sniff(prefix) == nil { return (.notImage, "body is not JPEG, PNG, WebP, GIF, BMP or TIFF") }
                return (.ok, nil)
            }
            return (FetchStatus.forHTTPCode(code), "HTTP \(code)")
        }
        if !headersComplete, Self.isHeaderOverflow(curlCode, message: easy.errorText) {
            return (.headersTooLarge, "response headers too large (\(curlMessage()))")
        }
        switch curlCode {
        case CURLE_OPERATION_TIMEDOUT:
            return (.timeout, curlMessage())
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return (.dns, curlMessage())
        case CURLE_COULDNT_CONNECT, CURLE_GOT_NOTHING:
            return (.connect, curlMessage())
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            return (headersComplete && isSuccessResponse ? .truncated : .connect, curlMessage())
        case CURLE_PARTIAL_FILE:
            return (.truncated, curlMessage())
        case CURLE_TOO_MANY_REDIRECTS:
            return (.tooManyRedirects, "more than \(hops.count - 1) redirects")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return (.unsupportedProtocol, curlMessage())
        case CURLE_URL_MALFORMAT:
            return (.badURL, curlMessage())
        case CURLE_FILESIZE_EXCEEDED:
            return (.tooLarge, "body over \(settings.maxBodyBytes) bytes")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
             CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED, CURLE_SSL_ENGINE_INITFAILED:
            return (.tls, curlMessage())
        case CURLE_FILE_COULDNT_READ_FILE, CURLE_READ_ERROR, CURLE_WRITE_ERROR:
            return (.ioError, curlMessage())
        default:
            return (.transferError, curlMessage())
        }
    }

    /// libcurl's ways of saying that a response's headers went past its limits: CURLE_TOO_LARGE
    /// (8.6 on), or before that CURLE_OUT_OF_MEMORY for one line over 100 KiB (its header buffer
    /// refuses to grow) and CURLE_RECV_ERROR "Too large response headers" for 300 KiB in all.
    static func isHeaderOverflow(_ code: CURLcode, message: String) -> Bool {
        isHeaderOverflow(code: Int(code.rawValue), message: message)
    }

    /// The same, by libcurl's number for the code.
    static func isHeaderOverflow(code: Int, message: String) -> Bool {
        if code == 100 { return true }   // CURLE_TOO_LARGE; older headers do not name it
        if code == Int(CURLE_OUT_OF_MEMORY.rawValue) { return true }
        return code == Int(CURLE_RECV_ERROR.rawValue) && message.hasPrefix("Too large response header")
    }

    /// The body's digest and what to commit. Call once, after a successful attempt.
    func finishBody() throws -> (String, BodyCommit) { try body.finish() }

    func discardBody() { body.reset() }
}

/// Collects a body: in memory up to `memoryLimit`, then in a temporary file in the store.
final class BodySink {
    private let store: BlobStore
    private let memoryLimit: Int
    private var memory: [UInt8] = []
    private var hasher = SHA256()
    private var writer: BlobWriter?
    private(set) var count = 0

    init(store: BlobStore, memoryLimit: Int) {
        self.store = store
        self.memoryLimit = memoryLimit
    }

    func reserve(_ expected: Int) {
        if writer == nil { memory.reserveCapacity(min(expected, memoryLimit)) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if let writer {
            try writer.write(bytes)
        } else if memory.count + bytes.count > memoryLimit {
            let writer = try store.makeWriter()
            try memory.withUnsafeBytes { try writer.write($0) }
            try writer.write(bytes)
            memory = []
            self.writer = writer
        } else {
            memory.append(contentsOf: bytes)
            hasher.update(bytes)
        }
        count += bytes.count
    }

    func finish() throws -> (String, BodyCommit) {
        if let writer {
            self.writer = nil
            let (temporary, sha256) = try writer.finish()
            return (sha256, .file(temporary, sha256: sha256))
        }
        let sha256 = hasher.finalize().hexString
        let bytes = memory
        memory = []
        hasher = SHA256()
        return (sha256, .memory(bytes, sha256: sha256))
    }

    func reset() {
        writer?.discard()
        writer = nil
        if !memory.isEmpty { memory = [] }
        hasher = SHA256()
        count = 0
    }
}

private func asciiEqualsLowercase(_ bytes: Slice<UnsafeRawBufferPointer>, _ lower: StaticString) -> Bool {
    guard bytes.count == lower.utf8CodeUnitCount else { return false }
    let expected = UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
    var i = 0
    for byte in bytes {
        let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
        if folded != expected[i] { return false }
        i += 1
    }
    return true
}

/// A FIFO queue with amortised O(1) operations at both ends used here.
struct Deque<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

/// A min-heap of items by deadline (monotonic seconds); equal deadlines come out in push order.
struct TimerHeap<Item> {
    private var items: [(deadline: Double, order: Int, item: Item)] = []
    private var pushes = 0

    var count: Int { items.count }
    var nextDeadline: Double? { items.first?.deadline }

    mutating func push(_ item: Item, at deadline: Double) {
        pushes += 1
        items.append((deadline, pushes, item))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popDue(now: Double) -> Item? {
        guard let first = items.first, first.deadline <= now else { return nil }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, precedes(left, smallest) { smallest = left }
            if right < items.count, precedes(right, smallest) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first.item
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        items[a].deadline < items[b].deadline || (items[a].deadline == items[b].deadline && items[a].order < items[b].order)
    }
}
