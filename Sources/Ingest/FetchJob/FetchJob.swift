import Basics
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads the images of ingested samples (JSON Lines) into a content-addressed blob store,
/// one result line per sample in `settings.results`, which is also what a rerun resumes from:
/// keys already there are skipped, and a last line cut short by a crash is removed. SIGINT or
/// SIGTERM stop it with what is on disk kept (a second one exits at once).
public enum FetchJob {
    /// Runs the job to the end or to an interruption. Progress and closing lines go to standard
    /// error as it runs.
    public static func run(_ settings: FetchJobSettings) throws -> FetchJobReport {
        raiseOpenFileLimit()
        let resume = try FetchResume.read(path: settings.results, retryFailed: settings.retryFailed)
        let total = countLines(settings.input)
        let blobs = try BlobStore(root: settings.store, durable: settings.durable)
        let fetcher = Fetcher(options: settings.fetch, store: blobs)

        let writer = try FetchResultWriter(path: settings.results)
        let images = try settings.images.map { try FetchImageWriter(options: $0, durable: settings.durable) }
        let tally = FetchTally()
        let samples: FetchSampleReader
        do { samples = try FetchSampleReader(path: settings.input, skip: resume.done) } catch {
            throw FetchJobError.invalidInput("cannot open \(settings.input)")
        }

        let interactive = isatty(STDERR_FILENO) == 1
        let toFetch = max(0, total - resume.done.count)
        let progress = FetchProgressReporter(fetcher: fetcher, tally: tally, expected: toFetch, interactive: interactive)
        if resume.done.count > 0 {
            log("resuming: \(resume.done.count) keys already in \(settings.results)")
        }
        let interrupts = SignalCancellation(
            message: "\nstopping: finishing what is on disk (press again to quit at once)", second: .exit(130)
        ) { fetcher.cancel() }
        progress.start()

        let summary = fetcher.run(samples) { result in
            tally.add(result)
            // Decoding is slow: hand it to the image threads (this blocks while they are behind).
            if let images, result.status.isSuccess {
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
        log(String(format: "fetched %d samples in %.1f s (%.1f/s), %@", summary.results, summary.seconds, rate,
                   counts.isEmpty ? "nothing to do" : counts.joined(separator: ", ")))
        if let images {
            let counts = images.counts.map { "\($0.0.rawValue) \($0.1)" }
            if !counts.isEmpty { log("images in \(images.directory): " + counts.joined(separator: ", ")) }
        }
        if samples.malformed > 0 { log("skipped \(samples.malformed) input lines that are not samples") }
        if samples.duplicates > 0 { log("skipped \(samples.duplicates) repeated keys") }
        if summary.cancelled { log("interrupted; run again with the same --out to continue") }
        return FetchJobReport(summary: summary, resumed: resume.done.count, malformed: samples.malformed,
                              duplicates: samples.duplicates)
    }

    /// One line on standard error.
    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// What a fetch job did.
public struct FetchJobReport: Sendable {
    public var summary: FetchSummary
    /// Keys skipped because the results file already had them.
    public var resumed: Int
    /// Input lines that are not samples.
    public var malformed: Int
    /// Keys seen more than once in the input.
    public var duplicates: Int
    /// Stopped by SIGINT or SIGTERM; a rerun with the same results file continues.
    public var cancelled: Bool { summary.cancelled }
}

/// Input or results files that cannot be used (the command line names them).
public enum FetchJobError: Error, CustomStringConvertible {
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidInput(let message): return message
        }
    }
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

