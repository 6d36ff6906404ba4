import Basics
import Foundation
import LoopbackHTTP
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM while images are downloading: `capfilt run` and `capfilt fetch` abandon the transfers
/// on the wire and exit within about a second, and the abandoned samples are left to do (pending
/// in the catalog, absent from the results file), not recorded as failures.
final class FetchCancellationTests: XCTestCase {
    var server: DripServer!
    var folder: URL!

    override func setUpWithError() throws {
        server = try DripServer()
        folder = CLI.temporaryDirectory()
    }

    override func tearDown() {
        server.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    static let samples = 4

    func testRunExitsPromptlyOnSIGTERMDuringAFetchAndLeavesTransfersPending() throws {
        let csv = (["url,caption"] + (0..<Self.samples).map { server.url("/slow/\($0).jpg") + ",a slow image \($0)" })
            .joined(separator: "\n") + "\n"
        try csv.write(to: folder.appendingPathComponent("urls.csv"), atomically: true, encoding: .utf8)
        let pipeline = folder.appendingPathComponent("pipeline.yaml").path
        try """
            dataset: slow
            workdir: work
            threads: 1
            stages:
              ingest:
                manifests:
                  - {path: urls.csv, format: csv}
              fetch:
                needs: [ingest]
                allow_private: true
                timeout: 120
                retries: 0
                fsync: false

            """.write(toFile: pipeline, atomically: true, encoding: .utf8)

        let (status, seconds, stderr) = try terminateWhileDripping(["run", pipeline, "--plain"])
        XCTAssertEqual(status, 130, stderr)
        XCTAssertLessThan(seconds, 2, "capfilt run took \(seconds) s to exit after SIGTERM\n\(stderr)")

        let report = try CLI.run(["status", pipeline, "--json"])
        XCTAssertEqual(report.status, 0, report.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let stages = try XCTUnwrap(object["stages"] as? [[String: Any]])
        let fetch = try XCTUnwrap(stages.first { $0["name"] as? String == "fetch" }, report.stdout)
        XCTAssertEqual(fetch["pending"] as? Int, Self.samples, report.stdout)
        XCTAssertEqual(fetch["failed"] as? Int, 0, report.stdout)
        XCTAssertEqual(fetch["done"] as? Int, 0, report.stdout)
    }

    func testFetchCommandExitsPromptlyOnSIGTERMAndRecordsNothingForAbandonedTransfers() throws {
        let lines = try (0..<Self.samples).map { i in
            let object: [String: Any] = ["source": "test", "key": "k\(i)", "url": server.url("/slow/\(i).jpg"), "captions": ["a caption"],
                                         "origin": "web", "metadata": [String: String]()]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let samples = folder.appendingPathComponent("samples.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: samples, atomically: true, encoding: .utf8)
        let results = folder.appendingPathComponent("results.jsonl").path
        let (status, seconds, stderr) = try terminateWhileDripping([
            "fetch", "--in", samples, "--store", folder.appendingPathComponent("store").path, "--out", results,
            "--allow-private", "--retries", "0", "--timeout", "120", "--no-fsync",
        ])
        XCTAssertEqual(status, 130, stderr)
        XCTAssertLessThan(seconds, 2, "capfilt fetch took \(seconds) s to exit after SIGTERM\n\(stderr)")
        let written = (try? String(contentsOfFile: results, encoding: .utf8)) ?? ""
        XCTAssertEqual(written, "", "abandoned transfers got result lines")
    }

    /// Starts capfilt, waits until every sample's body is dripping in, sends SIGTERM and times
    /// the exit.
    private func terminateWhileDripping(_ arguments: [String]) throws -> (status: Int32, seconds: Double, stderr: String) {
        let process = Process()
        process.executableURL = CLI.executable("capfilt")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let err = folder.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while server.dripping < Self.samples, process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let log = { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
        guard server.dripping == Self.samples, process.isRunning else {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            XCTFail("the transfers never started (\(server.dripping) dripping)\n\(log())")
            return (-1, .infinity, log())
        }
        Thread.sleep(forTimeInterval: 0.5)
        let sent = Date()
        kill(process.processIdentifier, SIGTERM)
        let exited = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { process.waitUntilExit(); exited.signal() }
        if exited.wait(timeout: .now() + 30) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return (process.terminationStatus, Date().timeIntervalSince(sent), log())
    }
}

/// A loopback server whose every answer is a JPEG that never ends: the head promises 8 MB, then
/// 2 KB arrive every quarter of a second (fast enough for libcurl's low-speed limit), until the
/// client goes away or the server stops.
final class DripServer: @unchecked Sendable {
    private let started = Locked(0)
    private var server: LoopbackServer!

    init() throws {
        let jpegStart: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01]
        let drip = HTTPResponse.Drip(announcedLength: 8 << 20, chunk: [UInt8](repeating: 0, count: 2048), interval: 0.25)
        server = try LoopbackServer { [started] _ in
            started.withLock { $0 += 1 }
            return HTTPResponse(status: 200, headers: [("Content-Type", "image/jpeg")], body: jpegStart, drip: drip)
        }
    }

    func url(_ path: String) -> String { server.url(path) }

    /// Responses whose body has started.
    var dripping: Int { started.current }

    func stop() { server.stop() }
}
