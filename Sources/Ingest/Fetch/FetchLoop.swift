import Dispatch
import Foundation
internal import CCurl

/// The event loop of one `Fetcher.run`. Created and used on the loop thread only; every libcurl
/// handle and every `Transfer` it owns stays on that thread (libcurl calls our callbacks from
/// inside curl_multi_perform, on the same thread).
final class FetchLoop {
    private let options: FetchOptions
    private let settings: TransferSettings
    private let shared: RunShared
    private let deliver: (FetchResult, BodyCommit) -> Void

    private let multi: OpaquePointer
    private let share: OpaquePointer
    private let headers: UnsafeMutablePointer<curl_slist>?
    private var idleHandles: [EasyHandle] = []
    private var onWire: [ObjectIdentifier: Transfer] = [:]
    private var hosts: [String: HostSlots] = [:]
    /// Hosts that have transfers waiting, in round-robin order (each host at most once).
    private var readyHosts = Deque<String>()
    private var waitingForHost = 0
    private var retries = TimerHeap<Transfer>()
    private var attemptsStarted = 0
    private var random = SystemRandomNumberGenerator()
    private var inputClosed = false

    init(options: FetchOptions, store: BlobStore, shared: RunShared,
         deliver: @escaping (FetchResult, BodyCommit) -> Void) {
        self.options = options
        self.shared = shared
        self.deliver = deliver
        self.settings = TransferSettings(options: options, store: store)
        multi = curl_multi_init()
        share = curl_share_init()
        ccurl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue))
        ccurl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue))
        ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.maxPerHost)
        ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(16, options.maxInFlight))
        ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, options.http2 ? Int(CURLPIPE_MULTIPLEX) : 0)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        list = curl_slist_append(list, "Accept: image/webp,image/png,image/jpeg,image/*;q=0.9,*/*;q=0.5")
        headers = list
        shared.attach(multi: multi, committingLimit: options.maxInFlight)
    }

    /// Releases every libcurl handle. Runs on the loop thread when `run` ends; no transfer is on
    /// the wire by then.
    private func teardown() {
        shared.detach()
        for handle in idleHandles { handle.cleanup() }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
        curl_share_cleanup(share)
        curl_slist_free_all(headers)
    }

    private var backlogLimit: Int { options.maxInFlight * (1 + options.backlogFactor) }
    private var outstanding: Int { onWire.count + waitingForHost + retries.count }

    /// Runs until every request has a result (or the run is cancelled), then releases its handles.
    func run() {
        loop()
        teardown()
    }

    private func loop() {
        while true {
            let intake = shared.take(limit: backlogLimit - outstanding, inFlight: onWire.count,
                                     waitingForHost: waitingForHost, waitingForRetry: retries.count,
                                     attempts: attemptsStarted)
            if intake.cancelled { abandonAll(); return }
            inputClosed = intake.closed
            for request in intake.requests { admit(request) }
            fireRetries(now: monotonicSeconds())
            let started = dispatch(committing: intake.committing)

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            let finished = drainCompletions()

            if inputClosed && outstanding == 0 {
                _ = shared.take(limit: 0, inFlight: 0, waitingForHost: 0, waitingForRetry: 0, attempts: attemptsStarted)
                return
            }
            if started == 0 && finished == 0 && intake.requests.isEmpty {
                var timeout = 1000
                if let next = retries.nextDeadline {
                    timeout = min(timeout, max(0, Int(((next - monotonicSeconds()) * 1000).rounded(.up))))
                }
                curl_multi_poll(multi, nil, 0, Int32(timeout), nil)
            }
        }
    }

    // MARK: - Scheduling

    private func admit(_ request: FetchRequest) {
        switch FetchTarget.parse(request.url, allowFile: request.allowFile) {
        case let .failure(rejection):
            let (status, message): (FetchStatus, String) = switch rejection {
            case let .badURL(m): (.badURL, m)
            case let .unsupportedProtocol(m): (.unsupportedProtocol, m)
            }
            deliver(FetchResult(key: request.key, url: request.url, status: status, attempts: 0, error: message), .none)
        case let .success(target):
            park(Transfer(request: request, target: target, settings: settings))
        }
    }

    private func park(_ transfer: Transfer) {
        let key = transfer.target.hostKey
        if hosts[key]?.waiting.isEmpty ?? true { readyHosts.append(key) }
        hosts[key, default: HostSlots()].waiting.append(transfer)   // in place: no queue copy
        waitingForHost += 1
    }

    /// Starts waiting transfers while there is room overall and on their host, visiting hosts
    /// round-robin. Returns how many were started.
    private func dispatch(committing: Int) -> Int {
        func hasRoom() -> Bool { onWire.count < options.maxInFlight && committing < options.maxInFlight }
        var started = 0
        var budget = readyHosts.count
        while budget > 0, hasRoom(), let key = readyHosts.popFirst() {
            budget -= 1
            while hasRoom(), (hosts[key]?.active ?? options.maxPerHost) < options.maxPerHost,
                  let transfer = hosts[key]?.waiting.popFirst() {
                waitingForHost -= 1
                hosts[key]?.active += 1
                if start(transfer) { started += 1 }
            }
            if let slots = hosts[key], !slots.waiting.isEmpty { readyHosts.append(key) }
        }
        return started
    }

    private func releaseSlot(_ transfer: Transfer) {
        let key = transfer.target.hostKey
        guard var slots = hosts[key] else { return }
        slots.active -= 1
        hosts[key] = slots.isIdle ? nil : slots
    }

    private func fireRetries(now: Double) {
        while let transfer = retries.popDue(now: now) { park(transfer) }
    }

    /// Puts a transfer on the wire. On failure the transfer is finished (and its slot released).
    private func start(_ transfer: Transfer) -> Bool {
        let easy = idleHandles.popLast() ?? EasyHandle()
        transfer.beginAttempt(on: easy)
        attemptsStarted += 1
        configure(easy, for: transfer)
        let code = curl_multi_add_handle(multi, easy.handle)
        guard code == CURLM_OK else {
            transfer.endAttempt()
            recycle(easy)
            releaseSlot(transfer)
            let message = String(cString: curl_multi_strerror(code))
            finish(transfer, status: .transferError, error: "curl_multi_add_handle: \(message)", commit: .none)
            return false
        }
        onWire[ObjectIdentifier(easy)] = transfer
        return true
    }

    private func configure(_ easy: EasyHandle, for transfer: Transfer) {
        let h = easy.handle
        curl_easy_reset(h)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        ccurl_easy_setopt_string(h, CURLOPT_URL, transfer.target.url)
        ccurl_easy_setopt_pointer(h, CURLOPT_PRIVATE, Unmanaged.passUnretained(easy).toOpaque())
        ccurl_easy_setopt_pointer(h, CURLOPT_ERRORBUFFER, easy.errorBuffer)
        ccurl_easy_setopt_pointer(h, CURLOPT_SHARE, UnsafeMutableRawPointer(share))
        ccurl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        ccurl_easy_setopt_string(h, CURLOPT_PROTOCOLS_STR, transfer.request.allowFile ? "http,https,file" : "http,https")
        ccurl_easy_setopt_string(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        ccurl_easy_setopt_long(h, CURLOPT_FOLLOWLOCATION, options.maxRedirects > 0 ? 1 : 0)
        ccurl_easy_setopt_long(h, CURLOPT_MAXREDIRS, options.maxRedirects)
        ccurl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, millis(options.connectTimeout))
        ccurl_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, millis(options.totalTimeout))
        ccurl_easy_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimit)
        ccurl_easy_setopt_long(h, CURLOPT_LOW_SPEED_TIME, max(1, Int(options.lowSpeedTime.rounded(.up))))
        ccurl_easy_setopt_string(h, CURLOPT_USERAGENT, options.userAgent)
        ccurl_easy_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")
        ccurl_easy_setopt_pointer(h, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
        ccurl_easy_setopt_long(h, CURLOPT_HTTP_VERSION, options.http2 ? Int(CURL_HTTP_VERSION_2TLS) : Int(CURL_HTTP_VERSION_1_1))
        // Waiting to multiplex pays off only where ALPN settles it right after the handshake;
        // on plain http a new transfer would wait for the first response of a stalled one.
        ccurl_easy_setopt_long(h, CURLOPT_PIPEWAIT, options.http2 && transfer.target.scheme == "https" ? 1 : 0)
        ccurl_easy_setopt_long(h, CURLOPT_DNS_CACHE_TIMEOUT, 300)
        if !options.useEnvironmentProxy { ccurl_easy_setopt_string(h, CURLOPT_PROXY, "") }
        ccurl_easy_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, fetchBodyCallback)
        ccurl_easy_setopt_pointer(h, CURLOPT_WRITEDATA, context)
        ccurl_easy_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, fetchHeaderCallback)
        ccurl_easy_setopt_pointer(h, CURLOPT_HEADERDATA, context)
        if options.addresses.refuseNonPublic {
            ccurl_easy_setopt_opensocket_callback(h, fetchOpenSocketCallback)
            ccurl_easy_setopt_pointer(h, CURLOPT_OPENSOCKETDATA, context)
        }
    }

    private func millis(_ seconds: Double) -> Int { max(1, Int((seconds * 1000).rounded(.up))) }

    // MARK: - Completion

    private func drainCompletions() -> Int {
        var count = 0
        var handle: OpaquePointer? = nil
        var code = CURLE_OK
        while ccurl_multi_next_done(multi, &handle, &code) == 1 {
            guard let handle else { continue }
            var context: UnsafeMutableRawPointer? = nil
            ccurl_easy_getinfo_pointer(handle, CURLINFO_PRIVATE, &context)
            guard let context else { continue }
            let easy = Unmanaged<EasyHandle>.fromOpaque(context).takeUnretainedValue()
            guard let transfer = onWire.removeValue(forKey: ObjectIdentifier(easy)) else { continue }
            curl_multi_remove_handle(multi, handle)
            count += 1
            complete(transfer, easy: easy, code: code)
        }
        return count
    }

    private func complete(_ transfer: Transfer, easy: EasyHandle, code: CURLcode) {
        let outcome = transfer.classify(code: code, easy: easy)
        transfer.endAttempt()
        recycle(easy)
        releaseSlot(transfer)

        if outcome.status != .ok,
           options.retry.shouldRetry(outcome.status, httpCode: outcome.httpCode, attempts: transfer.attempts) {
            transfer.discardBody()
            let delay = options.retry.delay(afterAttempts: transfer.attempts, retryAfter: transfer.retryAfter,
                                            using: &random)
            retries.push(transfer, at: monotonicSeconds() + delay)
            return
        }

        var result = outcome
        var commit = BodyCommit.none
        if result.status == .ok {
            do {
                let (sha256, body) = try transfer.finishBody()
                result.sha256 = sha256
                if let expected = transfer.request.expectedSHA256, expected.lowercased() != sha256 {
                    body.discard()
                    result.status = .hashMismatch
                    result.error = "sha256 \(sha256), expected \(expected.lowercased())"
                } else {
                    commit = body
                }
            } catch {
                result.status = .ioError
                result.error = "body: \(error)"
            }
        } else {
            transfer.discardBody()
        }
        result.attempts = transfer.attempts
        deliver(result, commit)
    }

    private func finish(_ transfer: Transfer, status: FetchStatus, error: String, commit: BodyCommit) {
        transfer.discardBody()
        deliver(FetchResult(key: transfer.request.key, url: transfer.request.url, status: status,
                            attempts: transfer.attempts, error: error), commit)
    }

    private func recycle(_ easy: EasyHandle) {
        if idleHandles.count < options.maxInFlight { idleHandles.append(easy) } else { easy.cleanup() }
    }

    private func abandonAll() {
        for transfer in onWire.values {
            if let easy = transfer.easy {
                curl_multi_remove_handle(multi, easy.handle)
                transfer.endAttempt()
                easy.cleanup()
            }
            transfer.discardBody()
        }
        onWire.removeAll()
        while let transfer = retries.popDue(now: .infinity) { transfer.discardBody() }
        hosts.removeAll()
        readyHosts = Deque()
        waitingForHost = 0
    }
}

/// Transfers on the wire to one host, and those waiting for a slot there.
struct HostSlots {
    var active = 0
    var waiting = Deque<Transfer>()
    var isIdle: Bool { active == 0 && waiting.isEmpty }
}

/// A pooled easy handle with its error buffer.
final class EasyHandle {
    let handle: OpaquePointer
    let errorBuffer: UnsafeMutablePointer<CChar>
    private var cleaned = false

    init() {
        handle = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    var errorText: String {
        let text = String(cString: errorBuffer)
        return text.trimmingASCIIWhitespace()
    }

    func clearError() { errorBuffer[0] = 0 }

    func cleanup() {
        guard !cleaned else { return }
        cleaned = true
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    deinit { cleanup() }
}

func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

// MARK: - libcurl callbacks (called on the loop thread, inside curl_multi_perform)

private func fetchBodyCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                               _ context: UnsafeMutableRawPointer?) -> Int {
    let length = size * count
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func fetchHeaderCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                                 _ context: UnsafeMutableRawPointer?) -> Int {
    let length = size * count
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func fetchOpenSocketCallback(_ context: UnsafeMutableRawPointer?, _ purpose: curlsocktype,
                                     _ address: UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t {
    guard let context, let address else { return CURL_SOCKET_BAD }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    var buffer = [CChar](repeating: 0, count: 64)
    ccurl_sockaddr_text(address, &buffer, buffer.count)
    let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    guard transfer.settings.addresses.allows(text) else {
        transfer.refusedAddress = text.isEmpty ? "non-IP address" : text
        return CURL_SOCKET_BAD
    }
    return ccurl_open_socket(address)
}
