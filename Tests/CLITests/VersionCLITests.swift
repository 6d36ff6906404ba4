import Foundation
import XCTest

final class VersionCLITests: XCTestCase {
    /// `capfilt --version` prints the one version the sources state (Sources/Ingest/CapfiltVersion.swift).
    func testVersionFlagPrintsTheVersion() throws {
        let r = try CLI.run(["--version"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let version = r.stdout.trimmingCharacters(in: .newlines)
        XCTAssertNotNil(version.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+$"#, options: .regularExpression), r.stdout)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Ingest/CapfiltVersion.swift")
        XCTAssertTrue(try String(contentsOf: source, encoding: .utf8).contains("\"\(version)\""), "printed \(version)")
    }
}
