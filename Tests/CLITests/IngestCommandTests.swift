import Foundation
import XCTest

/// `capfilt ingest --out`: the samples and rejects files appear complete or not at all.
final class IngestCommandTests: XCTestCase {
    var folder: URL!

    override func setUp() { folder = CLI.temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// Parquet fixtures of the ingest tests, read in place.
    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("IngestTests/Fixtures/manifests/parquet/\(name)").path
    }

    func testAnErrorLeavesNoPartialOutput() throws {
        let out = folder.appendingPathComponent("samples.jsonl").path
        let rejects = folder.appendingPathComponent("samples.rejects.jsonl").path
        // A valid footer, then a page in a codec that does not exist: the error comes mid-read.
        let r = try CLI.run(["ingest", fixture("writers/unsupported_codec.parquet"), "--out", out])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("unsupported: column url, row group 0: codec 42 compression"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])

        // An earlier output of the same name stays as it was.
        try "earlier\n".write(toFile: out, atomically: true, encoding: .utf8)
        let again = try CLI.run(["ingest", fixture("writers/unsupported_codec.parquet"), "--out", out])
        XCTAssertEqual(again.status, 2, again.stderr)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "earlier\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["samples.jsonl"])

        // A good file replaces it, and leaves no temporary file behind.
        let ok = try CLI.run(["ingest", fixture("laion_snappy.parquet"), "--out", out])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(CLI.jsonLines(try String(contentsOfFile: out, encoding: .utf8)).count,
                       Int(ok.stdout.split(separator: "\n").first { $0.hasPrefix("samples: ") }?.dropFirst(9) ?? ""))
        XCTAssertTrue(FileManager.default.fileExists(atPath: rejects))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)),
                       ["samples.jsonl", "samples.rejects.jsonl"])
    }
}
