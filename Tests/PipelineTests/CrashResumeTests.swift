import Catalog
import Foundation
import Pipeline
import TestFixtures
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// kill -9 at random moments in every stage, resume each time: the final catalog and the
/// exported files must be identical to an uninterrupted run's, with no sample lost or duplicated.
final class CrashResumeTests: XCTestCase {
    static let stages = ["ingest", "fetch", "decode", "caption", "filter", "dedup", "assemble", "export", "report"]

    func testKillNineInEveryStageThenResumeGivesIdenticalResults() throws {
        let folder = temporaryFolder("crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 60, human: 400)
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, captionStrategy: "greedy")

        // The reference: one uninterrupted run.
        let reference = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try RunSnapshot(work)

        // How long each stage took, to aim the kills inside it.
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/last-run.json")))
        let seconds = Dictionary(summary.stages.map { ($0.stage, $0.seconds) }, uniquingKeysWith: +)
        try FileManager.default.removeItem(at: work)

        // The same run, killed four times in each stage, each time at a random moment within
        // the stage's duration; a kill may also land after the stage ended (then it counts for
        // the stage that was running).
        var rng = SplitMix(seed: 20261129)
        var kills = 0
        var killedIn: [String: Int] = [:]
        let wholeDataset: Set = ["dedup", "assemble", "export", "report"]
        let catalogPath = work.appendingPathComponent("shards/00000-of-00001/catalog.sqlite").path
        for target in Self.stages {
            var inside = 0
            for _ in 0..<12 where inside < 4 {
                let process = try CapfiltProcess(["run", "--plain", pipeline])
                let seen = process.waitFor(["\(target): started", "\(target): up to date"], timeout: 120)
                guard seen == "\(target): started" else {
                    // The stage finished in an earlier attempt: stop this run before it completes
                    // the stages still to be aimed at.
                    if process.kill() {
                        kills += 1
                        killedIn[process.runningStage() ?? "between stages", default: 0] += 1
                    } else {
                        XCTAssertEqual(process.wait(), 0, "a run that was not killed ended badly: \(process.stderr)")
                    }
                    break
                }
                // Per-sample stages keep their progress, so four kills fit in one duration;
                // whole-dataset stages start over after a kill.
                let duration = max(seconds[target] ?? 0, 0.001)
                let delay = Double(rng.next() % 1000) / 1000 * (wholeDataset.contains(target) ? 0.5 * duration : duration / 5)
                usleep(useconds_t(delay * 1_000_000))
                // A whole-dataset stage of a few milliseconds can end before the kill lands (on a
                // busy machine especially), and the last one (report) can end the whole run.
                // Forget that it ran, and everything after it, so the next attempt runs it
                // again: as if that run had been killed a moment earlier.
                func rerunFromTarget() throws {
                    guard wholeDataset.contains(target) else { return }
                    let later = Self.stages.drop { $0 != target }
                    try Catalog(path: catalogPath).write { session in
                        for stage in later { try session.clearStageState(stage) }
                    }
                }
                guard process.kill() else {
                    XCTAssertEqual(process.wait(), 0, "a run that was not killed ended badly: \(process.stderr)")
                    try rerunFromTarget()
                    continue
                }
                kills += 1
                let running = process.runningStage() ?? "between stages"
                killedIn[running, default: 0] += 1
                if running == target { inside += 1 }
                if ProcessInfo.processInfo.environment["CAPFILT_CRASH_VERBOSE"] != nil {
                    print("kill \(kills) aimed at \(target), landed in \(running), \(delay) s after its start")
                }
                if running != target { try rerunFromTarget() }
            }
        }
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        XCTAssertGreaterThanOrEqual(kills, 30)
        for stage in Self.stages {
            XCTAssertGreaterThan(killedIn[stage] ?? 0, 0, "no kill landed inside \(stage): \(killedIn)")
        }
        try RunSnapshot(work).assertSame(as: expected)
        print("crash test: \(kills) kills, by stage running at the kill: \(killedIn.sorted { $0.key < $1.key })")
    }
}

/// The built `capfilt` binary as a child process whose standard error is read as it comes.
final class CapfiltProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var errorText = ""

    static var binary: URL {
        var folder = Bundle(for: CrashResumeTests.self).bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("capfilt")
    }

    init(_ arguments: [String]) throws {
        process.executableURL = Self.binary
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock(); self.errorText += String(decoding: data, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
    }

    var stderr: String { lock.lock(); defer { lock.unlock() }; return errorText }

    /// Waits until standard error contains one of `texts` and returns it; nil if the process
    /// ended first.
    func waitFor(_ texts: [String], timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = stderr
            if let found = texts.first(where: { text.contains($0) }) { return found }
            if !process.isRunning { return texts.first { stderr.contains($0) } }
            usleep(200)
        }
        return nil
    }

    /// The stage that logged "started" and has not logged its end yet.
    func runningStage() -> String? {
        var current: String?
        for line in stderr.split(separator: "\n") {
            guard let range = line.range(of: "] ") else { continue }
            let message = line[range.upperBound...]
            if message.hasSuffix(": started") {
                current = String(message.dropLast(": started".count))
            } else if let c = current, message.hasPrefix(c + ": ") {
                current = nil
            }
        }
        return current
    }

    /// kill -9; false when the process had already ended.
    func kill() -> Bool {
        let wasRunning = process.isRunning && Glibc.kill(process.processIdentifier, SIGKILL) == 0
        process.waitUntilExit()
        return wasRunning && process.terminationReason == .uncaughtSignal
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let p = try CapfiltProcess(arguments)
        let status = p.wait()
        usleep(20_000)
        return (status, p.stderr)
    }
}
