import ArgumentParser
import Dispatch
import Foundation
import Ingest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads the images of ingested samples into a content-addressed blob store. Until the
/// catalog exists, results go to a JSON Lines file, which is also what a rerun resumes from.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download sample images into a content-addressed store (JSON Lines results).",
        discussion: """
            Input: JSON Lines of samples as `capfilt ingest` writes them (`key` plus `url`, or \
            `localPath` for local sources). Output: one result per line with `key`, `status`, \
            `attempts`, `bytes`, `sha256`, `blob` and more. Running again with the same --out \
            skips keys already there. With --images DIR, each fetched image is also decoded, \
            resized (--resize, --resize-mode) and written as DIR/<key>.jpg. See docs/fetch.md.
            """)

    @Option(name: .customLong("in"), help: "Samples (JSON Lines).") var input: String
    @Option(help: "Blob store folder (created if missing).") var store: String
    @Option(help: "Results (JSON Lines); appended to, and read first to resume.") var out: String
    @Option(name: .customLong("max-in-flight"), help: "Transfers on the wire at once.") var maxInFlight = 256
    @Option(name: .customLong("per-host"), help: "Transfers at once to one host.") var perHost = 8
    @Option(help: "Seconds one attempt may take, redirects included.") var timeout: Double = 30
    @Option(name: .customLong("connect-timeout"), help: "Seconds to connect.") var connectTimeout: Double = 10
    @Option(help: "Retries of transient failures (timeouts, resets, 408, 429, 5xx).") var retries = 2
    @Option(name: .customLong("max-bytes"), help: "Largest body kept.") var maxBytes = 20 * 1024 * 1024
    @Option(name: .customLong("user-agent"), help: "User-Agent header.") var userAgent: String?
    @Flag(name: .customLong("allow-private"), help: "Allow private, loopback and link-local addresses.")
    var allowPrivate = false
    @Flag(name: .customLong("no-robots"), help: "Ignore X-Robots-Tag opt-outs.") var noRobots = false
    @Flag(name: .customLong("retry-failed"), help: "On resume, fetch again the keys whose last status was transient.")
    var retryFailed = false
    @Flag(name: .customLong("no-fsync"), help: "Skip fsync when storing blobs (faster, not crash-safe).")
    var noFsync = false
    @OptionGroup(title: "Resized JPEG output") var imageOptions: FetchImageOptions

    func validate() throws {
        guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1") }
        guard perHost >= 1 else { throw ValidationError("--per-host must be at least 1") }
        guard timeout > 0, connectTimeout > 0 else { throw ValidationError("timeouts must be positive") }
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        guard maxBytes >= 1 else { throw ValidationError("--max-bytes must be positive") }
    }

    func run() throws {
        raiseOpenFileLimit()
        let resume = try ResumeState.read(path: out, retryFailed: retryFailed)
        let total = countLines(input)
        let blobs = try BlobStore(root: store, durable: !noFsync)

        var options = FetchOptions()
        options.maxInFlight = maxInFlight
        options.maxPerHost = perHost
        options.totalTimeout = timeout
        options.connectTimeout = min(connectTimeout, timeout)
        options.maxBodyBytes = maxBytes
        options.retry.maxRetries = retries
        options.robots.enabled = !noRobots
        options.addresses = allowPrivate ? .allowAll : AddressPolicy()
        if let userAgent { options.userAgent = userAgent }
        let fetcher = Fetcher(options: options, store: blobs)

        let writer = try ResultWriter(path: out)
        let images = imageOptions.enabled ? try FetchImageWriter(options: imageOptions, durable: !noFsync) : nil
        let tally = FetchTally()
        let samples = SampleReader(path: input, skip: resume.done)
        guard samples.isOpen else { throw ValidationError("cannot open \(input)") }

        let interactive = isatty(STDERR_FILENO) == 1
        let toFetch = max(0, total - resume.done.count)
        let progress = ProgressReporter(fetcher: fetcher, tally: tally, expected: toFetch, interactive: interactive)
        if resume.done.count > 0 {
            fetchLog("resuming: \(resume.done.count) keys already in \(out)")
        }
        let interrupts = InterruptHandler { fetcher.cancel() }
        progress.start()

        let summary = fetcher.run(samples) { result in
            tally.add(result)
            // Decoding is slow: hand it to the image threads (this blocks while they are behind).
            if let images, result.status == .ok {
                images.submit(result) { writer.write(FetchResultLine(result: result, image: $0)) }
            } else {
                writer.write(FetchResultLine(result: result))
            }
        }
        images?.finish()

        progress.stop()
        interrupts.disarm()
        try writer.close()

        let rate = summary.seconds > 0 ? Double(summary.results) / summary.seconds : 0
        let counts = summary.counts.sorted { $0.value > $1.value }.map { "\($0.key.rawValue) \($0.value)" }
        fetchLog(String(format: "fetched %d samples in %.1f s (%.1f/s), %@", summary.results, summary.seconds, rate,
                   counts.isEmpty ? "nothing to do" : counts.joined(separator: ", ")))
        if let images {
            let counts = images.counts.map { "\($0.0.rawValue) \($0.1)" }
            if !counts.isEmpty { fetchLog("images in \(images.directory): " + counts.joined(separator: ", ")) }
        }
        if samples.malformed > 0 { fetchLog("skipped \(samples.malformed) input lines that are not samples") }
        if samples.duplicates > 0 { fetchLog("skipped \(samples.duplicates) repeated keys") }
        if summary.cancelled {
            fetchLog("interrupted; run again with the same --out to continue")
            throw ExitCode(130)
        }
    }
}

private func fetchLog(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

private func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = min(limit.rlim_max, 65_536)
    _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif

/// Lines in a file (for the ETA); 0 when it cannot be read.
private func countLines(_ path: String) -> Int {
    guard let file = fopen(path, "rb") else { return 0 }
    defer { fclose(file) }
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var lines = 0
    var last: UInt8 = 10
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if n == 0 { break }
        for i in 0..<n where buffer[i] == 10 { lines += 1 }
        last = buffer[n - 1]
    }
    return last == 10 ? lines : lines + 1
}

/// Reads one line at a time with getline.
private final class LineReader {
    private let file: UnsafeMutablePointer<FILE>?
    private var buffer: UnsafeMutablePointer<CChar>? = nil
    private var capacity = 0

    init(path: String) { file = fopen(path, "rb") }
    var isOpen: Bool { file != nil }

    deinit {
        if let file { fclose(file) }
        free(buffer)
    }

    func next() -> [UInt8]? {
        guard let file else { return nil }
        let n = getline(&buffer, &capacity, file)
        guard n >= 0, let buffer else { return nil }
        var count = n
        while count > 0, buffer[count - 1] == 10 || buffer[count - 1] == 13 { count -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
}

/// The samples to fetch, read lazily (the fetcher pulls them as it has room).
private final class SampleReader: Sequence {
    private let lines: LineReader
    private let skip: Set<String>
    private var seen: Set<String> = []
    private(set) var malformed = 0
    private(set) var duplicates = 0
    private let decoder = JSONDecoder()

    init(path: String, skip: Set<String>) {
        lines = LineReader(path: path)
        self.skip = skip
    }

    var isOpen: Bool { lines.isOpen }

    func makeIterator() -> AnyIterator<FetchRequest> {
        AnyIterator { [self] in nextRequest() }
    }

    private func nextRequest() -> FetchRequest? {
        while let line = lines.next() {
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            guard let sample = try? decoder.decode(ManifestSample.self, from: Data(line)) else {
                malformed += 1
                continue
            }
            if skip.contains(sample.key) { continue }
            if !seen.insert(sample.key).inserted {
                duplicates += 1
                continue
            }
            let expected = sample.metadata["sha256"].flatMap { isHexDigest($0) ? $0 : nil }
            if let url = sample.url, !url.isEmpty {
                return FetchRequest(key: sample.key, url: url, expectedSHA256: expected)
            }
            if let path = sample.localPath, !path.isEmpty {
                return FetchRequest.localFile(key: sample.key, path: path, expectedSHA256: expected)
            }
            return FetchRequest(key: sample.key, url: "")
        }
        return nil
    }

    private func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }
    }
}

/// Keys already in the results file.
private struct ResumeState {
    var done: Set<String> = []

    private struct Line: Decodable {
        var key: String
        var status: FetchStatus
        var imageStatus: String?
        enum CodingKeys: String, CodingKey { case key, status, imageStatus = "image_status" }
    }

    /// Statuses worth another try with --retry-failed.
    static let transient: Set<FetchStatus> = [.timeout, .connect, .dns, .truncated, .http429, .http5xx, .transferError, .ioError]

    /// Reads `path` (if it exists). A final line cut short by a crash is removed from the file.
    static func read(path: String, retryFailed: Bool) throws -> ResumeState {
        var state = ResumeState()
        guard FileManager.default.fileExists(atPath: path) else { return state }
        let reader = LineReader(path: path)
        let decoder = JSONDecoder()
        var latest: [String: Bool] = [:]
        while let line = reader.next() {
            guard !line.isEmpty, let parsed = try? decoder.decode(Line.self, from: Data(line)) else { continue }
            // An image that could not be written (disk full) is as transient as a timeout.
            latest[parsed.key] = transient.contains(parsed.status)
                || parsed.imageStatus == FetchImageOutcome.Status.ioError.rawValue
        }
        for (key, isTransient) in latest where !(retryFailed && isTransient) { state.done.insert(key) }
        try dropPartialLastLine(path)
        return state
    }

    private static func dropPartialLastLine(_ path: String) throws {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var end = lseek(fd, 0, SEEK_END)
        guard end > 0 else { return }
        var byte: UInt8 = 0
        var scanned = 0
        // Walk back to the last newline.
        while end > 0 {
            _ = pread(fd, &byte, 1, end - 1)
            if byte == 10 { break }
            end -= 1
            scanned += 1
        }
        if scanned > 0 {
            guard ftruncate(fd, end) == 0 else { throw ValidationError("cannot repair the last line of \(path)") }
            fetchLog("removed an incomplete last line from \(path)")
        }
    }
}

/// Appends result lines, from the results queue and the image threads. Flushes about once a second.
private final class ResultWriter: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private let encoder: JSONEncoder
    private var buffer = Data()
    private var lastFlush = Date()
    private var failure: Error?

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ValidationError("cannot open \(path)") }
        self.handle = handle
        handle.seekToEndOfFile()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    func write(_ result: FetchResultLine) {
        lock.lock(); defer { lock.unlock() }
        guard let line = try? encoder.encode(result) else { return }
        buffer.append(line)
        buffer.append(10)
        if buffer.count > 1 << 20 || Date().timeIntervalSince(lastFlush) > 1 { flush() }
    }

    private func flush() {
        guard !buffer.isEmpty, failure == nil else { return }
        do { try handle.write(contentsOf: buffer) } catch { failure = error }
        buffer.removeAll(keepingCapacity: true)
        lastFlush = Date()
    }

    /// Call after the fetcher returned (no more writes).
    func close() throws {
        lock.lock(); defer { lock.unlock() }
        flush()
        try handle.synchronize()
        try handle.close()
        if let failure { throw failure }
    }
}

/// Counts for the progress line, shared by the results queue and the reporter's timer.
private final class FetchTally: @unchecked Sendable {
    private let lock = NSLock()
    private var ok = 0
    private var failed = 0
    func add(_ result: FetchResult) {
        lock.lock(); defer { lock.unlock() }
        if result.status == .ok { ok += 1 } else { failed += 1 }
    }
    var counts: (ok: Int, failed: Int) {
        lock.lock(); defer { lock.unlock() }
        return (ok, failed)
    }
}

/// A live status line on a terminal (redrawn twice a second), plain log lines every 10 s otherwise.
private final class ProgressReporter: @unchecked Sendable {
    private let fetcher: Fetcher
    private let tally: FetchTally
    private let expected: Int
    private let interactive: Bool
    private let queue = DispatchQueue(label: "capfilt.fetch.progress")
    private var timer: DispatchSourceTimer?
    private let started = Date()

    init(fetcher: Fetcher, tally: FetchTally, expected: Int, interactive: Bool) {
        self.fetcher = fetcher; self.tally = tally; self.expected = expected; self.interactive = interactive
    }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = interactive ? 0.5 : 10
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [self] in report() }
        timer.resume()
        queue.sync { self.timer = timer }
    }

    func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        }
    }

    private func report() {
        let p = fetcher.progress()
        let (ok, failed) = tally.counts
        let done = ok + failed
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var line = String(format: "%d", done)
        if expected > 0 {
            line += String(format: "/%d (%.1f%%)", expected, 100 * Double(done) / Double(expected))
        }
        line += String(format: "  %.1f/s  ok %d  failed %d  in flight %d  queued %d  retrying %d",
                       rate, ok, failed, p.inFlight, p.waitingForHost, p.waitingForRetry)
        if expected > done, rate > 0 { line += "  ETA " + formatDuration(Double(expected - done) / rate) }
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        } else {
            fetchLog("fetch: " + line)
        }
    }

    private func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}

/// The first SIGINT or SIGTERM cancels the run (results so far are kept); a second one exits.
private final class InterruptHandler: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "capfilt.fetch.signals")
    private var fired = false

    init(onInterrupt: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [self] in
                if fired { exit(130) }
                fired = true
                fetchLog("\nstopping: finishing what is on disk (press again to quit at once)")
                onInterrupt()
            }
            source.resume()
            sources.append(source)
        }
    }

    func disarm() {
        queue.sync {
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
