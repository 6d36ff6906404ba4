import Basics
import Dispatch
import Foundation

/// Counts for the progress line, shared by the results queue and the reporter's timer.
final class FetchTally: Sendable {
    private let tally = Locked((ok: 0, failed: 0))
    func add(_ result: FetchResult) {
        tally.withLock { if result.status.isSuccess { $0.ok += 1 } else { $0.failed += 1 } }
    }
    var counts: (ok: Int, failed: Int) { tally.current }
}

/// A live status line on a terminal (redrawn twice a second), plain log lines every 10 s otherwise.
final class FetchProgressReporter: @unchecked Sendable {
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
            FetchJob.log("fetch: " + line)
        }
    }

    private func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}
