import Foundation
import Logging
@testable import Pipeline
import XCTest

/// The live progress line: what it says (a pure function of the counts and the measured rate),
/// when it may claim a rate, and how log lines print around it on a terminal.
final class StageProgressTests: XCTestCase {
    func testRenderShowsRateAndETAOnlyWithAMeasuredRate() {
        let failures = [(key: "image_error", value: 3)]
        XCTAssertEqual(StageProgress.render(label: "caption", done: 120, total: 5000, failed: 3, failures: failures, rate: 0.6),
                       "caption: 120/5000 0.6/s ETA 2h15m, 3 failed (image_error 3)")
        XCTAssertEqual(StageProgress.render(label: "caption", done: 32, total: 5000, failed: 0, failures: [], rate: nil),
                       "caption: 32/5000")
        XCTAssertEqual(StageProgress.render(label: "ingest", done: 7, total: 0, failed: 0, failures: [], rate: 2), "ingest: 7 2.0/s")
    }

    /// The reported case: a first batch of 32 lands half a second in, then the stage runs at 0.6
    /// images/s. Measuring from the stage's start said `64/s ETA 1m18s`; the rate must wait for
    /// work finished after the first batch and then match the true 0.6/s.
    func testFirstBatchAloneGivesNoRateAndTheRateThenMatchesTheWork() throws {
        var rate = RateEstimate()
        rate.record(done: 32, at: 100.5)
        XCTAssertNil(rate.perSecond(at: 100.5))
        XCTAssertNil(rate.perSecond(at: 110), "no work finished after the first batch yet")
        // Batches of 16 every 26.7 s (0.6/s).
        var done = 32
        var t = 100.5
        for _ in 0..<5 {
            t += 16 / 0.6
            done += 16
            rate.record(done: done, at: t)
        }
        let measured = try XCTUnwrap(rate.perSecond(at: t))
        XCTAssertEqual(measured, 0.6, accuracy: 0.01)
        let line = StageProgress.render(label: "caption", done: done, total: 5000, failed: 0, failures: [], rate: measured)
        XCTAssertEqual(line, "caption: 112/5000 0.6/s ETA 2h15m")

        // Steady streaming work gets a rate once a few seconds have passed.
        var fast = RateEstimate(minimumSeconds: 5)
        for i in 1...40 { fast.record(done: i * 10, at: Double(i) * 0.25) }
        XCTAssertNil(fast.perSecond(at: 4))
        XCTAssertEqual(try XCTUnwrap(fast.perSecond(at: 10.25)), 39.0, accuracy: 0.01)
    }

    func testALogLineClearsTheLiveLineAndDrawsItAgainBelow() {
        XCTAssertEqual(TerminalLine.compose(log: "info capfilt: fetch: started\n", live: "decode: 5/10"),
                       "\r\u{1B}[Kinfo capfilt: fetch: started\ndecode: 5/10")
        XCTAssertEqual(TerminalLine.compose(log: "a line\n", live: nil), "a line\n")

        let written = Written()
        let terminal = TerminalLine { written.append($0) }
        terminal.show("caption: 1/10")
        terminal.print("caption: threshold 0.5\n")
        terminal.show("caption: 2/10")
        terminal.clear()
        terminal.print("done\n")
        XCTAssertEqual(written.text, "\r\u{1B}[Kcaption: 1/10" + "\r\u{1B}[Kcaption: threshold 0.5\ncaption: 1/10"
                       + "\r\u{1B}[Kcaption: 2/10" + "\r\u{1B}[K" + "done\n")

        // The log handler writes through it: a log line never lands on the end of the live line.
        let logged = Written()
        let shared = TerminalLine { logged.append($0) }
        let logger = Logger(label: "capfilt") { CapfiltLogHandler(label: $0, output: shared) }
        shared.show("fetch: 3/9")
        logger.info("fetch: slow host")
        XCTAssertTrue(logged.text.hasPrefix("\r\u{1B}[Kfetch: 3/9\r\u{1B}[K"), logged.text)
        XCTAssertTrue(logged.text.hasSuffix(" info capfilt: [PipelineTests] fetch: slow host\nfetch: 3/9"), logged.text)
    }
}

/// Text written by a `TerminalLine` under test.
final class Written: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ s: String) { lock.withLock { parts.append(s) } }
    var text: String { lock.withLock { parts.joined() } }
}
