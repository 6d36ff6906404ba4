import Catalog
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stage's live progress: done / total, rate, ETA and failures. On a terminal one line is
/// redrawn twice a second; otherwise a plain log line every `logInterval` seconds.
public final class StageProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let logger: Logger
    private let interactive: Bool
    private let logInterval: Double
    private var total: Int
    private var done = 0
    private var failed = 0
    private var failures: [String: Int] = [:]
    private let start = Date()
    private var lastLog = Date()
    private var timer: DispatchSourceTimer?

    init(label: String, total: Int, logger: Logger, interactive: Bool, logInterval: Double = 10) {
        self.label = label; self.total = total; self.logger = logger
        self.interactive = interactive; self.logInterval = logInterval
    }

    public func setTotal(_ n: Int) { lock.lock(); total = n; lock.unlock() }

    /// Counts finished samples (ok and failed).
    public func add(_ marks: [ProgressMark]) {
        lock.lock()
        done += marks.count
        for m in marks where m.status != "ok" {
            failed += 1
            failures[m.status, default: 0] += 1
        }
        lock.unlock()
    }

    public func addDone(_ n: Int, failed f: Int = 0) {
        lock.lock(); done += n; failed += f; lock.unlock()
    }

    var counts: (done: Int, failed: Int) { lock.lock(); defer { lock.unlock() }; return (done, failed) }

    func startDisplay() {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + 0.5, repeating: 0.5)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    func stopDisplay() {
        timer?.cancel()
        timer = nil
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }

    private func tick() {
        let line = statusLine()
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        } else if Date().timeIntervalSince(lastLog) >= logInterval {
            lastLog = Date()
            logger.info("\(line)")
        }
    }

    func statusLine() -> String {
        lock.lock()
        let d = done, f = failed, n = total, top = failures.sorted { $0.value > $1.value }.prefix(3)
        lock.unlock()
        let seconds = max(Date().timeIntervalSince(start), 1e-3)
        let rate = Double(d) / seconds
        var s = "\(label): \(d)"
        if n > 0 { s += "/\(n)" }
        s += String(format: " %.1f/s", rate)
        if n > d, rate > 0 { s += " ETA " + Self.duration(Double(n - d) / rate) }
        if f > 0 { s += ", \(f) failed (" + top.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
        return s
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}
