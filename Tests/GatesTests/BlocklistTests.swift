import Foundation
import XCTest
@testable import Gates

/// Blocklist files: parsing (comments, blanks, CRLF, spaces), normalisation per kind, subdomain
/// matching, and errors that name the line.
final class BlocklistTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("gates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func list(_ kind: BlocklistKind, _ text: String) throws -> Blocklist {
        let path = folder.appendingPathComponent("\(kind).txt").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return try Blocklist(kind: kind, path: path)
    }

    func testCommentsBlankLinesCRLFAndSpacesAreNotEntries() throws {
        let urls = try list(.url, "# blocked URLs\r\n\r\n  https://a.example/x.jpg  \r\n\t# indented comment\n   \nhttps://b.example/y.jpg")
        XCTAssertEqual(urls.entries, 2)
        XCTAssertTrue(urls.contains("https://a.example/x.jpg"))
        XCTAssertTrue(urls.contains("https://b.example/y.jpg"), "a last line without a newline is an entry")
        XCTAssertFalse(urls.contains("# blocked URLs"))
        XCTAssertFalse(urls.contains("https://a.example/x.jpg  "), "sample URLs are not trimmed: they are what was fetched")
    }

    func testURLsCompareSchemeAndHostWithoutCaseAndIgnoreTheFragment() throws {
        let urls = try list(.url, "HTTPS://Img.Example.COM/Path/A.JPG?s=1#top\n")
        XCTAssertTrue(urls.contains("https://img.example.com/Path/A.JPG?s=1"))
        XCTAssertTrue(urls.contains("https://IMG.example.com/Path/A.JPG?s=1#other"))
        XCTAssertFalse(urls.contains("https://img.example.com/path/a.jpg?s=1"), "the path keeps its case")
        XCTAssertFalse(urls.contains("https://img.example.com/Path/A.JPG?s=2"))
        XCTAssertFalse(urls.contains("http://img.example.com/Path/A.JPG?s=1"))
    }

    func testDomainsMatchThemselvesAndSubdomainsOnly() throws {
        let domains = try list(.domain, "Example.COM\n*.tracker.net\n.cdn.org\nbad.io.\nhttps://User@Host.Example.org:8443/x\n")
        XCTAssertEqual(domains.entries, 5)
        XCTAssertEqual(domains.listedDomain(ofURL: "https://example.com/a.jpg"), "example.com")
        XCTAssertEqual(domains.listedDomain(ofURL: "http://img.cdn.EXAMPLE.com:8080/a.jpg"), "example.com")
        XCTAssertEqual(domains.listedDomain(ofURL: "https://a.tracker.net/p"), "tracker.net")
        XCTAssertEqual(domains.listedDomain(ofURL: "https://tracker.net/p"), "tracker.net")
        XCTAssertEqual(domains.listedDomain(ofURL: "https://x.cdn.org/"), "cdn.org")
        XCTAssertEqual(domains.listedDomain(ofURL: "https://bad.io./i.png"), "bad.io")
        XCTAssertEqual(domains.listedDomain(ofURL: "https://me:pw@host.example.org/x"), "host.example.org")
        XCTAssertNil(domains.listedDomain(ofURL: "https://badexample.com/a.jpg"), "a suffix counts at a dot only")
        XCTAssertNil(domains.listedDomain(ofURL: "https://example.com.evil.net/a.jpg"))
        XCTAssertNil(domains.listedDomain(ofURL: "https://other.org/?u=example.com"))
        XCTAssertNil(domains.listedDomain(ofURL: "https://example.org/"))
    }

    func testSHA256DigestsInEitherCase() throws {
        let a = String(repeating: "ab", count: 32), b = String(repeating: "0F", count: 32)
        let digests = try list(.sha256, "\(a.uppercased())\r\n# c\n\(b)\n")
        XCTAssertTrue(digests.contains(a))
        XCTAssertTrue(digests.contains(b.lowercased()))
        XCTAssertFalse(digests.contains(String(repeating: "ab", count: 31) + "ac"), "the last digits count as well")
        XCTAssertFalse(digests.contains("ab"))
    }

    func testRepeatedEntriesCountOnceAsKeys() throws {
        let domains = try list(.domain, "example.com\nEXAMPLE.com\nexample.com.\n")
        XCTAssertEqual(domains.entries, 3)
        XCTAssertEqual(domains.distinctKeys, 1)
    }

    func testAnEntryOfTheWrongKindNamesItsLine() throws {
        XCTAssertThrowsError(try list(.sha256, "# digests\n\(String(repeating: "a", count: 64))\nnot-a-digest\n")) { error in
            let e = error as? BlocklistError
            XCTAssertEqual(e?.line, 3)
            XCTAssertTrue(e?.description.hasSuffix("sha256.txt:3: `not-a-digest` is not a SHA-256 digest (64 hex digits)") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try list(.domain, "ok.example\nnot a domain\n")) { error in
            XCTAssertEqual((error as? BlocklistError)?.line, 2)
        }
        XCTAssertThrowsError(try Blocklist(kind: .url, path: folder.appendingPathComponent("missing.txt").path)) { error in
            XCTAssertTrue("\(error)".contains("cannot be read"), "\(error)")
        }
    }

    func testEntriesAcrossReadChunksAreWhole() throws {
        // More than one 8 MiB read: entries that straddle a chunk boundary must stay whole.
        var text = ""
        let n = 200_000
        for i in 0..<n { text += "https://host\(i % 977).example/images/\(i)/a-long-enough-name.jpg\n" }
        XCTAssertGreaterThan(text.utf8.count, 8 << 20)
        let urls = try list(.url, text)
        XCTAssertEqual(urls.entries, n)
        XCTAssertEqual(urls.distinctKeys, n)
        for i in stride(from: 0, to: n, by: 997) {
            XCTAssertTrue(urls.contains("https://host\(i % 977).example/images/\(i)/a-long-enough-name.jpg"))
        }
        XCTAssertFalse(urls.contains("https://host0.example/images/\(n)/a-long-enough-name.jpg"))
    }

    func testRadixSortSortsLikeSort() {
        var generator = SystemRandomNumberGenerator()
        var keys = (0..<50_000).map { _ in UInt64.random(in: .min ... .max, using: &generator) } + [0, .max, 7, 7]
        let expected = keys.sorted()
        RadixSort.sort(&keys)
        XCTAssertEqual(keys, expected)
    }
}
