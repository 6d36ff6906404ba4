import Foundation
import XCTest

/// `capfilt fetch` end to end against a loopback server: statuses, resume, --retry-failed, and
/// the resized JPEG output of --images.
final class FetchCommandTests: XCTestCase {
    var server: ScriptedServer!
    var folder: URL!

    override func setUpWithError() throws {
        server = try ScriptedServer()
        folder = CLI.temporaryDirectory()
    }

    override func tearDown() {
        server.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Image fixtures of the imaging tests, read in place.
    func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ImagingTests/Fixtures/\(name)")
        return [UInt8](try Data(contentsOf: url))
    }

    /// Writes samples (key, url) as `capfilt ingest` would.
    func writeSamples(_ samples: [(String, String)]) throws -> String {
        let lines = try samples.map { key, url in
            let object: [String: Any] = ["source": "test", "key": key, "url": url, "captions": ["a caption"],
                                         "origin": "web", "metadata": [String: String]()]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let path = folder.appendingPathComponent("samples.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func fetch(_ samples: String, _ extra: [String] = []) throws -> CLIResult {
        try CLI.run(["fetch", "--in", samples, "--store", folder.appendingPathComponent("store").path,
                     "--out", results, "--allow-private", "--retries", "0", "--timeout", "10", "--no-fsync"] + extra)
    }

    var results: String { folder.appendingPathComponent("results.jsonl").path }

    /// Result lines, and the latest line of each key.
    func readResults() throws -> (lines: [[String: Any]], latest: [String: [String: Any]]) {
        let lines = CLI.jsonLines(try String(contentsOfFile: results, encoding: .utf8))
        var latest: [String: [String: Any]] = [:]
        for line in lines { latest[line["key"] as! String] = line }
        return (lines, latest)
    }

    func testStatusesResumeAndRetryFailed() throws {
        let jpeg = try fixture("jpeg_420_97x131.jpg")
        server.route("/ok.jpg", .ok(bytes: jpeg, contentType: "image/jpeg"))
        server.route("/flaky.jpg", .status(503), .ok(bytes: jpeg, contentType: "image/jpeg"))
        server.route("/page.html", .ok(bytes: Array("<html></html>".utf8), contentType: "text/html"))
        let samples = try writeSamples([
            ("ok", server.url("/ok.jpg")), ("missing", server.url("/missing.jpg")),
            ("flaky", server.url("/flaky.jpg")), ("html", server.url("/page.html")), ("bad", "http://"),
        ])

        var r = try fetch(samples)
        XCTAssertEqual(r.status, 0, r.stderr)
        var (lines, latest) = try readResults()
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(latest.mapValues { $0["status"] as! String },
                       ["ok": "ok", "missing": "http_404", "flaky": "http_5xx", "html": "not_image", "bad": "bad_url"])
        let blob = try XCTUnwrap(latest["ok"]?["blob"] as? String)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: blob))), jpeg)
        XCTAssertNil(latest["ok"]?["image_status"], "no image fields without --images")

        // Resume: every key has a line, so nothing is fetched again.
        r = try fetch(samples)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resuming: 5 keys"), r.stderr)
        XCTAssertEqual(try readResults().lines.count, 5)
        XCTAssertEqual(server.hits("/flaky.jpg"), 1)
        XCTAssertEqual(server.hits("/ok.jpg"), 1)

        // --retry-failed: only the transient failure goes again, and its new line wins.
        r = try fetch(samples, ["--retry-failed"])
        XCTAssertEqual(r.status, 0, r.stderr)
        (lines, latest) = try readResults()
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(latest["flaky"]?["status"] as? String, "ok")
        XCTAssertEqual(server.hits("/flaky.jpg"), 2)
        XCTAssertEqual(server.hits("/missing.jpg"), 1, "a 404 is not retried")
        XCTAssertEqual(server.hits("/ok.jpg"), 1)
    }

    func testImagesAreResizedAndBadBodiesRecorded() throws {
        server.route("/landscape.jpg", .ok(bytes: try fixture("jpeg_prog_200x150.jpg"), contentType: "image/jpeg"))
        server.route("/portrait.jpg", .ok(bytes: try fixture("jpeg_420_97x131.jpg"), contentType: "image/jpeg"))
        server.route("/alpha.png", .ok(bytes: try fixture("png_rgba_64x48.png"), contentType: "image/png"))
        server.route("/lossy.webp", .ok(bytes: try fixture("webp_lossy_64x48.webp"), contentType: "image/webp"))
        // Starts like a JPEG, so the fetcher stores it; the decoder then refuses it.
        let corrupt: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x41, count: 400)
        server.route("/corrupt.jpg", .ok(bytes: corrupt, contentType: "image/jpeg"))
        server.route("/anim.gif", .ok(bytes: Array("GIF89a".utf8) + Array(repeating: 0, count: 40), contentType: "image/gif"))
        let samples = try writeSamples([
            ("landscape", server.url("/landscape.jpg")), ("dir/portrait", server.url("/portrait.jpg")),
            ("alpha", server.url("/alpha.png")), ("lossy", server.url("/lossy.webp")),
            ("corrupt", server.url("/corrupt.jpg")), ("gif", server.url("/anim.gif")),
            ("missing", server.url("/missing.jpg")),
        ])
        let images = folder.appendingPathComponent("images").path

        let r = try fetch(samples, ["--images", images, "--resize", "256", "--resize-mode", "center_crop",
                                    "--jpeg-quality", "90", "--image-threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (lines, latest) = try readResults()
        XCTAssertEqual(lines.count, 7)
        XCTAssertTrue(r.stderr.contains("images in \(images): ok 4"), r.stderr)

        let expected: [String: (file: String, width: Int, height: Int)] = [
            "landscape": ("landscape.jpg", 200, 150), "dir/portrait": ("dir%2Fportrait.jpg", 97, 131),
            "alpha": ("alpha.jpg", 64, 48), "lossy": ("lossy.jpg", 64, 48),
        ]
        for (key, want) in expected {
            let line = try XCTUnwrap(latest[key], key)
            XCTAssertEqual(line["status"] as? String, "ok", key)
            XCTAssertEqual(line["image_status"] as? String, "ok", key)
            XCTAssertEqual(line["image"] as? String, images + "/" + want.file, key)
            XCTAssertEqual(line["width"] as? Int, 256, key)
            XCTAssertEqual(line["height"] as? Int, 256, key)
            XCTAssertEqual(line["original_width"] as? Int, want.width, key)
            XCTAssertEqual(line["original_height"] as? Int, want.height, key)
            let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: images + "/" + want.file)))
            let size = try XCTUnwrap(jpegSize(written), key)
            XCTAssertEqual(size.width, 256, key)
            XCTAssertEqual(size.height, 256, key)
        }
        XCTAssertEqual(latest["corrupt"]?["status"] as? String, "ok", "the fetch itself succeeded")
        XCTAssertEqual(latest["corrupt"]?["image_status"] as? String, "decode_error")
        XCTAssertNotNil(latest["corrupt"]?["image_error"] as? String)
        XCTAssertNil(latest["corrupt"]?["image"])
        XCTAssertEqual(latest["gif"]?["image_status"] as? String, "unsupported_format")
        XCTAssertEqual(latest["missing"]?["status"] as? String, "http_404")
        XCTAssertNil(latest["missing"]?["image_status"], "failed fetches get no image fields")

        let written = try FileManager.default.contentsOfDirectory(atPath: images).sorted()
        XCTAssertEqual(written, [".tmp", "alpha.jpg", "dir%2Fportrait.jpg", "landscape.jpg", "lossy.jpg"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: images + "/.tmp"), [], "no temporaries left")
    }

    func testBorderModeAndKeyNames() throws {
        server.route("/a.jpg", .ok(bytes: try fixture("jpeg_prog_200x150.jpg"), contentType: "image/jpeg"))
        let key = ".." + String(repeating: "k", count: 250)
        let samples = try writeSamples([(key, server.url("/a.jpg"))])
        let images = folder.appendingPathComponent("out").path
        let r = try fetch(samples, ["--images", images, "--resize", "64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(try readResults().latest[key])
        XCTAssertEqual(line["image_status"] as? String, "ok")
        // border (the default): longest side to 64, padded to a square.
        XCTAssertEqual(line["width"] as? Int, 64)
        XCTAssertEqual(line["height"] as? Int, 64)
        let path = try XCTUnwrap(line["image"] as? String)
        let name = URL(fileURLWithPath: path).lastPathComponent
        XCTAssertTrue(name.hasPrefix("%2E.kkk"), name)
        XCTAssertTrue(name.contains("~"), "a long key is shortened with its digest: \(name)")
        XCTAssertLessThanOrEqual(name.utf8.count, 200)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func testImageThatCannotBeWrittenIsRetried() throws {
        server.route("/a.jpg", .ok(bytes: try fixture("jpeg_prog_200x150.jpg"), contentType: "image/jpeg"))
        let samples = try writeSamples([("a", server.url("/a.jpg"))])
        let images = folder.appendingPathComponent("images")
        // A folder where the image should go makes the final rename fail.
        let blocker = images.appendingPathComponent("a.jpg")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        let options = ["--images", images.path, "--resize", "32", "--resize-mode", "center_crop"]

        var r = try fetch(samples, options)
        XCTAssertEqual(r.status, 0, r.stderr)
        var line = try XCTUnwrap(try readResults().latest["a"])
        XCTAssertEqual(line["status"] as? String, "ok")
        XCTAssertEqual(line["image_status"] as? String, "io_error")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: images.path + "/.tmp"), [])

        try FileManager.default.removeItem(at: blocker)
        r = try fetch(samples, options)
        XCTAssertTrue(r.stderr.contains("resuming: 1 keys"), "without --retry-failed the key is done")
        r = try fetch(samples, options + ["--retry-failed"])
        XCTAssertEqual(r.status, 0, r.stderr)
        line = try XCTUnwrap(try readResults().latest["a"])
        XCTAssertEqual(line["image_status"] as? String, "ok")
        XCTAssertEqual(line["width"] as? Int, 32)
        XCTAssertTrue(FileManager.default.fileExists(atPath: blocker.path))
        XCTAssertEqual(server.hits("/a.jpg"), 2)
    }

    func testImageOptionsNeedAnImagesFolder() throws {
        let samples = try writeSamples([("a", server.url("/a.jpg"))])
        let r = try fetch(samples, ["--resize", "256"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--resize needs --images DIR"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: results), "nothing was fetched")
    }
}

/// Width and height from a JPEG's start-of-frame marker.
private func jpegSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
    guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
    var i = 2
    while i + 9 < bytes.count {
        guard bytes[i] == 0xFF else { return nil }
        let marker = bytes[i + 1]
        let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
            return (Int(bytes[i + 7]) << 8 | Int(bytes[i + 8]), Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]))
        }
        i += 2 + length
    }
    return nil
}
