import Basics
import Foundation
import XCTest
@testable import Ingest

final class FetcherTests: XCTestCase {
    private var server: TestHTTPServer!
    private var storeRoot: String!

    override func setUpWithError() throws {
        server = try TestHTTPServer()
        storeRoot = scratchStorePath("fetch")
    }

    override func tearDown() {
        server?.stop()
        if let storeRoot { try? FileManager.default.removeItem(atPath: storeRoot) }
    }

    /// Small timeouts and delays so faults resolve in about a second; loopback allowed.
    private func testOptions() -> FetchOptions {
        var options = FetchOptions()
        options.maxInFlight = 64
        options.maxPerHost = 64
        options.connectTimeout = 1
        options.totalTimeout = 1.2
        options.lowSpeedLimit = 1000
        options.lowSpeedTime = 1
        options.maxBodyBytes = 100 * 1024
        options.memoryBodyLimit = 16 * 1024
        options.addresses = .allowAll
        options.retry = RetryPolicy(maxRetries: 2, baseDelay: 0.05, multiplier: 2, maxDelay: 0.2, jitter: 0.5,
                                    maxRetryAfter: 3)
        return options
    }

    /// Runs the fetcher with an overall deadline; fails (and cancels) if it is missed.
    private func fetch(_ requests: [FetchRequest], options: FetchOptions? = nil, store: BlobStore? = nil,
                       deadline: Double = 20, file: StaticString = #filePath, line: UInt = #line)
    throws -> (results: [String: FetchResult], summary: FetchSummary) {
        let store = try store ?? BlobStore(root: storeRoot, durable: false)
        let fetcher = Fetcher(options: options ?? testOptions(), store: store)
        let collected = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let summaryBox = SummaryBox()
        let thread = Thread {
            let summary = fetcher.run(requests) { collected.append($0) }
            summaryBox.set(summary)
            done.signal()
        }
        thread.start()
        if done.wait(timeout: .now() + deadline) == .timedOut {
            fetcher.cancel()
            XCTFail("fetch did not finish within \(deadline) s", file: file, line: line)
            _ = done.wait(timeout: .now() + 5)
        }
        let results = collected.all
        var byKey: [String: FetchResult] = [:]
        for result in results {
            XCTAssertNil(byKey[result.key], "key \(result.key) reported twice", file: file, line: line)
            byKey[result.key] = result
        }
        return (byKey, summaryBox.get() ?? FetchSummary())
    }

    // MARK: - Every fault, one run

    func testEachFaultEndsWithItsStatusAndAttempts() throws {
        struct Case {
            var path: String, status: FetchStatus, attempts: Int, hits: Int
            init(path: String, status: FetchStatus, attempts: Int, hits: Int? = nil) {
                self.path = path; self.status = status; self.attempts = attempts; self.hits = hits ?? attempts
            }
        }
        let cases: [Case] = [
            Case(path: "/jpeg/a", status: .ok, attempts: 1),
            Case(path: "/png/a", status: .ok, attempts: 1),
            Case(path: "/largejpeg/a", status: .ok, attempts: 1),          // streamed to a temporary file
            Case(path: "/octet/a", status: .ok, attempts: 1),
            Case(path: "/notype/a", status: .ok, attempts: 1),
            Case(path: "/status/404/a", status: .http404, attempts: 1),
            Case(path: "/status/403/a", status: .http403, attempts: 1),
            Case(path: "/status/410/a", status: .http410, attempts: 1),
            Case(path: "/status/400/a", status: .http4xx, attempts: 1),
            Case(path: "/status/408/a", status: .http4xx, attempts: 3),    // 408 is retried
            Case(path: "/status/304/a", status: .httpOther, attempts: 1),
            Case(path: "/always500/a", status: .http5xx, attempts: 3),
            Case(path: "/status/503/a", status: .http5xx, attempts: 3),
            Case(path: "/flaky500/a", status: .ok, attempts: 2),
            Case(path: "/ratelimit/a", status: .ok, attempts: 2),
            Case(path: "/ratelimitdate/a", status: .ok, attempts: 2),
            Case(path: "/drip/a", status: .timeout, attempts: 3),
            Case(path: "/silent/a", status: .timeout, attempts: 3),
            Case(path: "/reset/a", status: .truncated, attempts: 3),
            Case(path: "/short/a", status: .truncated, attempts: 3),
            Case(path: "/redirect/3/a", status: .ok, attempts: 1),
            Case(path: "/redirect/5/b", status: .ok, attempts: 1),
            Case(path: "/redirect/6/c", status: .tooManyRedirects, attempts: 1),
            // a -> b -> a: the repeat is recognised when its response arrives.
            Case(path: "/loop/a/a", status: .redirectLoop, attempts: 1, hits: 2),
            Case(path: "/big/a", status: .tooLarge, attempts: 1),
            Case(path: "/bigchunked/a", status: .tooLarge, attempts: 1),
            Case(path: "/html/a", status: .notImage, attempts: 1),
            Case(path: "/fakejpeg/a", status: .notImage, attempts: 1),
            Case(path: "/empty/a", status: .notImage, attempts: 1),
            Case(path: "/robots/noai/a", status: .robotsOptOut, attempts: 1),
            Case(path: "/robots/noimageindex/a", status: .robotsOptOut, attempts: 1),
            Case(path: "/robots/ours/a", status: .robotsOptOut, attempts: 1),
            Case(path: "/robots/otherbot/a", status: .ok, attempts: 1),
            Case(path: "/robots/none/a", status: .ok, attempts: 1),
            Case(path: "/gzip/a", status: .ok, attempts: 1),
            Case(path: "/to/" + TestImages.hex("ftp://127.0.0.1/x.jpg"), status: .unsupportedProtocol, attempts: 1),
            Case(path: "/to/" + TestImages.hex("file:///etc/hostname"), status: .unsupportedProtocol, attempts: 1),
        ]
        var requests = cases.map { FetchRequest(key: $0.path, url: server.url($0.path)) }
        requests.append(FetchRequest(key: "closed-port", url: "http://127.0.0.1:1/jpeg/x"))
        requests.append(FetchRequest(key: "no-scheme", url: "example.com/a.jpg"))
        requests.append(FetchRequest(key: "ftp", url: "ftp://127.0.0.1/a.jpg"))
        requests.append(FetchRequest(key: "no-host", url: "http:///a.jpg"))

        let started = Date()
        let (results, summary) = try fetch(requests)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(results.count, requests.count)
        XCTAssertEqual(summary.results, requests.count)

        for item in cases {
            guard let result = results[item.path] else { XCTFail("no result for \(item.path)"); continue }
            XCTAssertEqual(result.status, item.status, "\(item.path): \(result.error ?? "")")
            XCTAssertEqual(result.attempts, item.attempts, "\(item.path) attempts")
            XCTAssertEqual(server.hits(item.path), item.hits, "\(item.path) requests seen by the server")
        }
        XCTAssertEqual(results["closed-port"]?.status, .connect)
        XCTAssertEqual(results["closed-port"]?.attempts, 3)
        XCTAssertEqual(results["no-scheme"]?.status, .badURL)
        XCTAssertEqual(results["no-scheme"]?.attempts, 0)
        XCTAssertEqual(results["ftp"]?.status, .unsupportedProtocol)
        XCTAssertEqual(results["no-host"]?.status, .badURL)

        // Successful bodies are in the store under their digest, byte for byte.
        let store = try BlobStore(root: storeRoot, durable: false)
        for (path, body) in [("/jpeg/a", TestImages.jpeg("a")), ("/png/a", TestImages.png("a")),
                             ("/largejpeg/a", TestImages.large60k), ("/gzip/a", TestImages.jpeg("a")),
                             ("/redirect/3/a", TestImages.jpeg("a"))] {
            let result = try XCTUnwrap(results[path])
            XCTAssertEqual(result.sha256, SHA256.hex(body), path)
            XCTAssertEqual(result.bytes, body.count, path)
            XCTAssertEqual(try store.read(result.sha256!), body, path)
            XCTAssertEqual(result.blob, store.path(for: result.sha256!))
        }
        XCTAssertEqual(results["/jpeg/a"]?.format, .jpeg)
        XCTAssertEqual(results["/png/a"]?.format, .png)
        XCTAssertEqual(results["/jpeg/a"]?.contentType, "image/jpeg")
        XCTAssertEqual(results["/jpeg/a"]?.httpCode, 200)
        XCTAssertEqual(results["/status/404/a"]?.httpCode, 404)
        XCTAssertEqual(results["/redirect/3/a"]?.finalURL, server.url("/redirect/0/a"))
        // Identical bodies (several paths serve jpeg("a")) are stored once.
        XCTAssertEqual(results["/jpeg/a"]?.blob, results["/redirect/3/a"]?.blob)
        XCTAssertNil(results["/html/a"]?.blob)
        XCTAssertNil(results["/big/a"]?.sha256)

        // Retry-After was honoured: the retry came about a second (seconds form) or two
        // (HTTP-date form, whole seconds) after the 429.
        let times = server.hitTimes("/ratelimit/a")
        XCTAssertEqual(times.count, 2)
        if times.count == 2 { XCTAssertGreaterThanOrEqual(times[1] - times[0], 0.95) }
        let dateTimes = server.hitTimes("/ratelimitdate/a")
        if dateTimes.count == 2 { XCTAssertGreaterThanOrEqual(dateTimes[1] - dateTimes[0], 0.9) }
        // Everything ran concurrently: three one-second timeouts in a row bound the run.
        XCTAssertLessThan(elapsed, 8)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: storeRoot + "/.tmp").isEmpty)
    }

    // MARK: - Scale

    func testTwoThousandMixedURLsAllEndCorrectly() throws {
        let kinds: [(String, FetchStatus, Int)] = [
            ("jpeg", .ok, 1), ("png", .ok, 1), ("gzip", .ok, 1), ("status/404", .http404, 1),
            ("status/403", .http403, 1), ("status/410", .http410, 1), ("flaky500", .ok, 2),
            ("always500", .http5xx, 2), ("html", .notImage, 1), ("fakejpeg", .notImage, 1),
            ("robots/noai", .robotsOptOut, 1), ("robots/otherbot", .ok, 1), ("redirect/3", .ok, 1),
            ("redirect/6", .tooManyRedirects, 1), ("loop/a", .redirectLoop, 1), ("big", .tooLarge, 1),
            ("bigchunked", .tooLarge, 1), ("short", .truncated, 2), ("reset", .truncated, 2),
        ]
        var expected: [String: (FetchStatus, Int)] = [:]
        var requests: [FetchRequest] = []
        for i in 0..<2000 {
            let key = "k\(i)"
            if i % 200 == 7 {
                // A few stalls (each costs a timeout per attempt).
                requests.append(FetchRequest(key: key, url: server.url("/drip/\(key)")))
                expected[key] = (.timeout, 2)
                continue
            }
            let (kind, status, attempts) = kinds[i % kinds.count]
            requests.append(FetchRequest(key: key, url: server.url("/\(kind)/\(key)")))
            expected[key] = (status, attempts)
        }
        var options = testOptions()
        options.maxInFlight = 200
        options.maxPerHost = 100
        options.retry.maxRetries = 1
        let started = Date()
        let (results, summary) = try fetch(requests, options: options, deadline: 30)
        let elapsed = Date().timeIntervalSince(started)

        XCTAssertEqual(results.count, requests.count)
        XCTAssertEqual(Set(results.keys), Set(requests.map(\.key)))
        XCTAssertEqual(summary.results, requests.count)
        XCTAssertEqual(summary.counts.values.reduce(0, +), requests.count)
        var wrong = 0
        for (key, (status, attempts)) in expected {
            guard let result = results[key] else { continue }
            if result.status != status || result.attempts != attempts {
                wrong += 1
                if wrong <= 10 {
                    XCTFail("\(key) \(result.url): \(result.status.rawValue)/\(result.attempts), expected \(status.rawValue)/\(attempts) (\(result.error ?? ""))")
                }
            }
        }
        XCTAssertEqual(wrong, 0)
        XCTAssertEqual(summary.attempts, expected.values.reduce(0) { $0 + $1.1 })
        XCTAssertLessThan(elapsed, 20)
        print("2000 mixed URLs in \(String(format: "%.2f", elapsed)) s: \(summary.counts.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: " "))")
    }

    func testConnectionsAreReusedAndPerHostLimitHolds() throws {
        var options = testOptions()
        options.maxInFlight = 64
        options.maxPerHost = 4
        let requests = (0..<200).map { FetchRequest(key: "\($0)", url: server.url("/jpeg/\($0)")) }
        let (results, summary) = try fetch(requests, options: options)
        XCTAssertEqual(summary.counts[.ok], 200)
        XCTAssertEqual(results.count, 200)
        // Four at a time to the one host, over kept-alive connections.
        XCTAssertLessThanOrEqual(server.connections, 8)
    }

    // MARK: - Address policy

    func testLoopbackRefusedWhenPolicyIsOn() throws {
        var options = testOptions()
        options.addresses = AddressPolicy()
        let (results, _) = try fetch([FetchRequest(key: "a", url: server.url("/jpeg/a"))], options: options)
        XCTAssertEqual(results["a"]?.status, .forbiddenAddress)
        XCTAssertEqual(results["a"]?.attempts, 1)
        XCTAssertEqual(server.hits("/jpeg/a"), 0)
    }

    func testRedirectFromPublicHostToLoopbackIsRefused() throws {
        // 127.0.0.2 stands in for a public host; it redirects to 127.0.0.1, which is refused.
        let outside = try TestHTTPServer(host: "127.0.0.2")
        defer { outside.stop() }
        var options = testOptions()
        options.addresses = AddressPolicy(refuseNonPublic: true, treatAsPublic: ["127.0.0.2"])
        let inside = server.url("/jpeg/secret")
        let (results, _) = try fetch([
            FetchRequest(key: "direct", url: outside.url("/jpeg/a")),
            FetchRequest(key: "bounce", url: outside.url("/to/" + TestImages.hex(inside))),
        ], options: options)
        XCTAssertEqual(results["direct"]?.status, .ok)
        XCTAssertEqual(results["bounce"]?.status, .forbiddenAddress, results["bounce"]?.error ?? "")
        XCTAssertEqual(results["bounce"]?.attempts, 1)
        XCTAssertEqual(server.hits("/jpeg/secret"), 0)
    }

    func testAddressClassification() {
        for address in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
                        "fd12:3456::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1",
                        "ff02::1", "2001:db8::1", "not-an-ip"] {
            XCTAssertFalse(AddressPolicy.isPublic(address), address)
        }
        for address in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
                        "64:ff9b::808:808", "2002:808:808::1"] {
            XCTAssertTrue(AddressPolicy.isPublic(address), address)
        }
        let policy = AddressPolicy(refuseNonPublic: true, treatAsPublic: ["127.0.0.2"])
        XCTAssertTrue(policy.allows("127.0.0.2"))
        XCTAssertFalse(policy.allows("127.0.0.1"))
        XCTAssertTrue(AddressPolicy.allowAll.allows("127.0.0.1"))
    }

    // MARK: - Other request options

    func testExpectedHashIsVerified() throws {
        let good = SHA256.hex(TestImages.jpeg("h1"))
        let (results, _) = try fetch([
            FetchRequest(key: "good", url: server.url("/jpeg/h1"), expectedSHA256: good.uppercased()),
            FetchRequest(key: "bad", url: server.url("/jpeg/h2"), expectedSHA256: String(repeating: "0", count: 64)),
        ])
        XCTAssertEqual(results["good"]?.status, .ok)
        XCTAssertEqual(results["bad"]?.status, .hashMismatch)
        XCTAssertEqual(results["bad"]?.attempts, 1)
        XCTAssertEqual(results["bad"]?.sha256, SHA256.hex(TestImages.jpeg("h2")))
        XCTAssertNil(results["bad"]?.blob)
        let store = try BlobStore(root: storeRoot, durable: false)
        XCTAssertTrue(store.contains(good))
        XCTAssertFalse(store.contains(SHA256.hex(TestImages.jpeg("h2"))))
    }

    func testLocalFilesOnlyWhenAllowed() throws {
        let directory = NSTemporaryDirectory() + "capfilt-local-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let image = TestImages.png("local")
        let path = directory + "/a picture #1 100%.png"
        _ = FileManager.default.createFile(atPath: path, contents: Data(image))
        let (results, _) = try fetch([
            FetchRequest.localFile(key: "allowed", path: path),
            FetchRequest(key: "refused", url: "file://" + path),
            FetchRequest(key: "missing", url: "file://" + directory + "/nope.png", allowFile: true),
        ])
        XCTAssertEqual(results["allowed"]?.status, .ok, results["allowed"]?.error ?? "")
        XCTAssertEqual(results["allowed"]?.sha256, SHA256.hex(image))
        XCTAssertEqual(results["refused"]?.status, .unsupportedProtocol)
        XCTAssertEqual(results["refused"]?.attempts, 0)
        XCTAssertEqual(results["missing"]?.status, .ioError)
    }

    func testRobotsCanBeSwitchedOff() throws {
        var options = testOptions()
        options.robots.enabled = false
        let (results, _) = try fetch([FetchRequest(key: "a", url: server.url("/robots/noai/a"))], options: options)
        XCTAssertEqual(results["a"]?.status, .ok)
    }

    /// A reply whose headers are too large is its own status, final at once: many ordinary
    /// lines (cut by the fetcher's own limit) and one huge line (refused by libcurl) alike. Both
    /// used to be `connect` and were tried three times.
    func testTooLargeHeadersAreTheirOwnStatusAndNotRetried() throws {
        let paths = ["/manyheaders/a", "/hugeheader/b"]
        let (results, _) = try fetch(paths.map { FetchRequest(key: $0, url: server.url($0)) })
        for path in paths {
            let result = try XCTUnwrap(results[path], path)
            XCTAssertEqual(result.status, .headersTooLarge, "\(path): \(result.error ?? "")")
            XCTAssertEqual(result.attempts, 1, path)
            XCTAssertEqual(server.hits(path), 1, path)
            XCTAssertNil(result.blob, path)
        }
        XCTAssertFalse(RetryPolicy.defaultRetryable.contains(.headersTooLarge))
        // Every libcurl code for it, before and after libcurl 8.6.
        // (CURLE_TOO_LARGE is 100, CURLE_OUT_OF_MEMORY 27, CURLE_RECV_ERROR 56.)
        XCTAssertTrue(Transfer.isHeaderOverflow(code: 100, message: ""))
        XCTAssertTrue(Transfer.isHeaderOverflow(code: 27, message: "Out of memory"))
        XCTAssertTrue(Transfer.isHeaderOverflow(code: 56, message: "Too large response headers: 307983 > 307200"))
        XCTAssertFalse(Transfer.isHeaderOverflow(code: 56, message: "Connection reset by peer"))
    }

    func testCancelStopsQuickly() throws {
        let store = try BlobStore(root: storeRoot, durable: false)
        let fetcher = Fetcher(options: testOptions(), store: store)
        let requests = (0..<300).map { FetchRequest(key: "\($0)", url: server.url("/silent/\($0)")) }
        let done = DispatchSemaphore(value: 0)
        let box = SummaryBox()
        Thread {
            box.set(fetcher.run(requests) { _ in })
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertGreaterThan(fetcher.progress().inFlight, 0)
        let cancelled = Date()
        fetcher.cancel()
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertLessThan(Date().timeIntervalSince(cancelled), 1)
        XCTAssertEqual(box.get()?.cancelled, true)
        XCTAssertEqual(box.get()?.results, 0)
        XCTAssertEqual(fetcher.progress(), FetchProgress())
    }

    // MARK: - Pieces

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Any split of the input gives the same digest.
        let data = TestImages.noise("split", count: 1000)
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 500, 999] {
            var hasher = SHA256()
            hasher.update(data[0..<split])
            hasher.update(data[split...])
            XCTAssertEqual(hasher.finalize().hexString, SHA256.hex(data), "split at \(split)")
        }
    }

    func testRetryAfterParsing() {
        XCTAssertEqual(parseRetryAfter("1", now: 0), 1)
        XCTAssertEqual(parseRetryAfter(" 120 ", now: 0), 120)
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
        XCTAssertEqual(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: 784111770), 7)
        XCTAssertEqual(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now: 784111770), 7)
        XCTAssertEqual(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: 784111800), 0)
        XCTAssertNil(parseRetryAfter("soon", now: 0))
        XCTAssertNil(parseRetryAfter("", now: 0))

        let policy = RetryPolicy(maxRetries: 3, baseDelay: 1, multiplier: 2, maxDelay: 5, jitter: 0, maxRetryAfter: 10)
        var random = SystemRandomNumberGenerator()
        XCTAssertEqual(policy.delay(afterAttempts: 1, retryAfter: nil, using: &random), 1)
        XCTAssertEqual(policy.delay(afterAttempts: 3, retryAfter: nil, using: &random), 4)
        XCTAssertEqual(policy.delay(afterAttempts: 4, retryAfter: nil, using: &random), 5)
        XCTAssertEqual(policy.delay(afterAttempts: 1, retryAfter: 3, using: &random), 3)
        XCTAssertEqual(policy.delay(afterAttempts: 1, retryAfter: 3600, using: &random), 10)
        let jittered = RetryPolicy(baseDelay: 1, jitter: 0.5)
        for _ in 0..<100 {
            let d = jittered.delay(afterAttempts: 1, retryAfter: nil, using: &random)
            XCTAssert(d >= 0.5 && d <= 1.0)
        }
        XCTAssertTrue(policy.shouldRetry(.timeout, httpCode: 0, attempts: 1))
        XCTAssertTrue(policy.shouldRetry(.http4xx, httpCode: 408, attempts: 1))
        XCTAssertFalse(policy.shouldRetry(.http4xx, httpCode: 400, attempts: 1))
        XCTAssertFalse(policy.shouldRetry(.http404, httpCode: 404, attempts: 1))
        XCTAssertFalse(policy.shouldRetry(.http403, httpCode: 403, attempts: 1))
        XCTAssertFalse(policy.shouldRetry(.http410, httpCode: 410, attempts: 1))
        XCTAssertFalse(policy.shouldRetry(.timeout, httpCode: 0, attempts: 4))
    }

    func testRobotsHeaderRules() {
        let robots = RobotsPolicy()
        XCTAssertTrue(robots.optsOut(headerValue: "noai"))
        XCTAssertTrue(robots.optsOut(headerValue: "noindex, nofollow"))
        XCTAssertTrue(robots.optsOut(headerValue: "NoImageAI"))
        XCTAssertTrue(robots.optsOut(headerValue: "capfilt: noimageindex"))
        XCTAssertTrue(robots.optsOut(headerValue: "CapFilt: noai, nofollow"))
        XCTAssertTrue(robots.optsOut(headerValue: "noindex, unavailable_after: 25 Jun 2010 15:00:00 PST"))
        XCTAssertFalse(robots.optsOut(headerValue: "otherbot: noai"))
        XCTAssertFalse(robots.optsOut(headerValue: "googlebot: noindex, nofollow"))
        XCTAssertFalse(robots.optsOut(headerValue: "unavailable_after: 25 Jun 2010 15:00:00 PST"))
        XCTAssertFalse(robots.optsOut(headerValue: "max-image-preview: large"))
        XCTAssertFalse(robots.optsOut(headerValue: "nofollow, noarchive"))
        XCTAssertFalse(RobotsPolicy(enabled: false).optsOut(headerValue: "noai"))
    }

    func testURLParsing() {
        func target(_ url: String, file: Bool = false) -> FetchTarget? { try? FetchTarget.parse(url, allowFile: file).get() }
        XCTAssertEqual(target("http://Example.COM/a.jpg")?.hostKey, "example.com:80")
        XCTAssertEqual(target("https://example.com:8443/a.jpg")?.hostKey, "example.com:8443")
        XCTAssertEqual(target("https://user:pw@example.com/x")?.hostKey, "example.com:443")
        XCTAssertEqual(target("http://[::1]:8080/x")?.hostKey, "[::1]:8080")
        XCTAssertEqual(target("http://example.com/a b/ü.jpg?q=1 2#frag")?.url, "http://example.com/a%20b/%C3%BC.jpg?q=1%202")
        XCTAssertEqual(target("file:///data/a b.jpg", file: true)?.url, "file:///data/a%20b.jpg")
        XCTAssertEqual(FetchTarget.parse("ftp://x/y", allowFile: false), .failure(.unsupportedProtocol("scheme ftp")))
        XCTAssertNil(target("file:///etc/passwd"))
        XCTAssertNil(target("//example.com/a.jpg"))
        XCTAssertNil(target("http://"))
        XCTAssertNil(target("http://example.com:99999/"))
        XCTAssertNil(target("   "))
    }

    func testSniffing() {
        XCTAssertEqual(SniffedFormat.sniff(TestImages.jpeg("x")), .jpeg)
        XCTAssertEqual(SniffedFormat.sniff(TestImages.png("x")), .png)
        XCTAssertEqual(SniffedFormat.sniff(Array("GIF89a\u{1}\u{0}\u{1}\u{0}\u{0}\u{0}".utf8)), .gif)
        XCTAssertEqual(SniffedFormat.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)), .webp)
        XCTAssertNil(SniffedFormat.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)))
        XCTAssertEqual(SniffedFormat.sniff([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]), .tiff)
        XCTAssertEqual(SniffedFormat.sniff([0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]), .tiff)
        XCTAssertEqual(SniffedFormat.sniff([0x42, 0x4D, 0x36, 0, 0, 0, 0, 0]), .bmp)
        XCTAssertNil(SniffedFormat.sniff(Array("<html>".utf8)))
        XCTAssertTrue(contentTypeMayBeImage("image/jpeg"))
        XCTAssertTrue(contentTypeMayBeImage("Image/PNG; charset=binary"))
        XCTAssertTrue(contentTypeMayBeImage("application/octet-stream"))
        XCTAssertTrue(contentTypeMayBeImage(nil))
        XCTAssertFalse(contentTypeMayBeImage("text/html; charset=utf-8"))
        XCTAssertFalse(contentTypeMayBeImage("application/json"))
    }

    func testStatusSetIsClosedAndDocumented() throws {
        let raw = FetchStatus.allCases.map(\.rawValue)
        XCTAssertEqual(Set(raw).count, raw.count)
        // docs/fetch.md lists every status (the test runs from the package root or below it).
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var doc: String? = nil
        for _ in 0..<4 {
            directory.deleteLastPathComponent()
            if let text = try? String(contentsOf: directory.appendingPathComponent("docs/fetch.md"), encoding: .utf8) {
                doc = text
                break
            }
        }
        let text = try XCTUnwrap(doc, "docs/fetch.md not found")
        for status in raw { XCTAssertTrue(text.contains("`\(status)`"), "docs/fetch.md does not describe \(status)") }
    }

    // MARK: - Throughput (opt-in: CAPFILT_FETCH_BENCH=1)

    func testLoopbackThroughput() throws {
        guard ProcessInfo.processInfo.environment["CAPFILT_FETCH_BENCH"] == "1" else {
            throw XCTSkip("set CAPFILT_FETCH_BENCH=1 (and build with -c release) to measure")
        }
        let count = Int(ProcessInfo.processInfo.environment["CAPFILT_FETCH_BENCH_N"] ?? "") ?? 20_000
        var options = testOptions()
        options.maxInFlight = 200
        options.maxPerHost = 200
        options.totalTimeout = 30
        options.connectTimeout = 10
        // CAPFILT_FETCH_BENCH_DISK=1: a durable store (fsync) in the temporary directory instead
        // of a scratch store on tmpfs.
        let onDisk = ProcessInfo.processInfo.environment["CAPFILT_FETCH_BENCH_DISK"] == "1"
        let store = onDisk
            ? try BlobStore(root: NSTemporaryDirectory() + "capfilt-bench-\(UUID().uuidString)", durable: true)
            : try BlobStore(root: storeRoot, durable: false)
        defer { if onDisk { try? FileManager.default.removeItem(atPath: store.root) } }
        let requests = (0..<count).map { FetchRequest(key: "\($0)", url: server.url("/jpeg/\($0)")) }
        let (results, summary) = try fetch(requests, options: options, store: store, deadline: 600)
        XCTAssertEqual(results.count, count)
        XCTAssertEqual(summary.counts[.ok], count)
        let rate = Double(count) / summary.seconds
        print("loopback throughput (\(onDisk ? "durable store on disk" : "store on tmpfs")): \(count) images of 2 KiB, 200 in flight: \(String(format: "%.0f", rate)) requests/s (\(String(format: "%.2f", summary.seconds)) s)")
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [FetchResult] = []
    func append(_ result: FetchResult) { lock.withLock { results.append(result) } }
    var all: [FetchResult] { lock.withLock { results } }
}

final class SummaryBox: @unchecked Sendable {
    private let lock = NSLock()
    private var summary: FetchSummary?
    func set(_ value: FetchSummary) { lock.withLock { summary = value } }
    func get() -> FetchSummary? { lock.withLock { summary } }
}
