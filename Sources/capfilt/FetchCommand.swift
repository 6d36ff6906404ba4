import ArgumentParser
import Ingest

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
        let settings = FetchJobSettings(input: input, store: store, results: out, fetch: options,
                                        retryFailed: retryFailed, durable: !noFsync, images: imageOptions.settings)
        let report: FetchJobReport
        do { report = try FetchJob.run(settings) } catch FetchJobError.invalidInput(let message) {
            throw ValidationError(message)
        }
        if report.cancelled { throw ExitCode(130) }
    }
}
