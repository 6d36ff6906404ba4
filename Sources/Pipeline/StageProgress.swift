import Catalog
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stage's live progress: done / total, rate, ETA and failures. On a terminal one line is
/// redrawn twice a second (through `TerminalLine`, so log lines print above it instead of being
/// glued to it); otherwise a plain log line every `logInterval` seconds.
///
/// The rate is measured from the first finished work on, not from the stage's start, and only
/// shown once there is something to measure: a stage whose first batch lands at once (resumed
/// work, a cache, instant failures) would otherwise claim `32/s ETA 1s` at 0.6 images/s.
public final class StageProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let logger: Logger
    private let interactive: Bool
    private let logInterval: Double
    private let terminal: TerminalLine
    private var total: Int
    private var done = 0
    private var failed = 0
    private var failures: [SampleStatus: Int] = [:]
    private var rate = RateEstimate()
    private var lastLog = Date()
    private var timer: DispatchSourceTimer?
    /// Held while the live line is drawn or taken away, so a late tick cannot draw it again
    /// after `stopDisplay`.
    private let display = NSLock()
    private var displaying = false

    init(label: String, total: Int, logger: Logger, interactive: Bool, logInterval: Double = 10,
         terminal: TerminalLine = .standardError) {
        self.label = label; self.total = total; self.logger = logger
        self.interactive = interactive; self.logInterval = logInterval; self.terminal = terminal
    }

    public func setTotal(_ n: Int) { lock.lock(); total = n; lock.unlock() }

    /// Counts finished samples (ok and failed).
    public func add(_ marks: [ProgressMark]) {
        lock.lock()
        done += marks.count
        for m in marks where m.status != .ok {
            failed += 1
            failures[m.status, default: 0] += 1
        }
        rate.record(done: done, at: RateEstimate.now())
        lock.unlock()
    }

    public func addDone(_ n: Int, failed f: Int = 0) {
        lock.lock(); done += n; failed += f; rate.record(done: done, at: RateEstimate.now()); lock.unlock()
    }

    var counts: (done: Int, failed: Int) { lock.lock(); defer { lock.unlock() }; return (done, failed) }

    func startDisplay() {
        display.withLock { displaying = true }
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + 0.5, repeating: 0.5)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    func stopDisplay() {
        timer?.cancel()
        timer = nil
        display.withLock {
            displaying = false
            if interactive { terminal.clear() }
        }
    }

    private func tick() {
        let line = statusLine()
        if interactive {
            display.withLock { if displaying { terminal.show(line) } }
        } else if Date().timeIntervalSince(lastLog) >= logInterval {
            lastLog = Date()
            logger.info("\(line)")
        }
    }

    func statusLine() -> String {
        lock.lock()
        let d = done, f = failed, n = total, top = failures.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(3)
        let r = rate.perSecond(at: RateEstimate.now())
        lock.unlock()
        return Self.render(label: label, done: d, total: n, failed: f, failures: top.map { ($0.key.rawValue, $0.value) }, rate: r)
    }

    /// The progress line: `caption: 120/5000 0.6/s ETA 2h15m, 3 failed (image_error 3)`. Without
    /// a measured rate (nil) neither rate nor ETA is shown.
    public static func render(label: String, done: Int, total: Int, failed: Int, failures: [(key: String, value: Int)],
                              rate: Double?) -> String {
        var s = "\(label): \(done)"
        if total > 0 { s += "/\(total)" }
        if let rate {
            s += String(format: " %.1f/s", rate)
            if total > done, rate > 0 { s += " ETA " + duration(Double(total - done) / rate) }
        }
        if failed > 0 { s += ", \(failed) failed (" + failures.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
        return s
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}

/// Items per second, measured from the first time work was seen to finish: the first batch only
/// marks the start (it may have been finished long before, or at once), and a rate is given only
/// once `minimumSeconds` have passed since then and more work has finished after it.
public struct RateEstimate: Sendable {
    public var minimumSeconds: Double
    /// When the first finished work was seen, and the count then.
    private var first: (at: Double, done: Int)?
    private var latestDone = 0

    public init(minimumSeconds: Double = 5) { self.minimumSeconds = minimumSeconds }

    /// The count of finished items changed to `done` at `at` (seconds on any steady clock).
    public mutating func record(done: Int, at: Double) {
        if first == nil { first = (at, done) }
        latestDone = done
    }

    /// Items per second at `now`, or nil while there is too little to go on.
    public func perSecond(at now: Double) -> Double? {
        guard let first, latestDone > first.done else { return nil }
        let seconds = now - first.at
        guard seconds >= minimumSeconds else { return nil }
        return Double(latestDone - first.done) / seconds
    }

    /// Seconds on the monotonic clock.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
