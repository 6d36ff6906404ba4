import Catalog
import Foundation
import XCTest

/// What a finished run leaves behind, for comparing an interrupted-and-resumed run with an
/// uninterrupted one: the single shard's canonical catalog dump and every exported file.
struct RunSnapshot {
    var catalog: String
    var files: [String: Data]

    init(_ work: URL) throws {
        let catalog = try Catalog(path: work.appendingPathComponent("shards/00000-of-00001/catalog.sqlite").path)
        self.catalog = try catalog.read { try $0.canonicalDump() }
        files = try exportedFiles(work)
    }

    /// Fails unless `self` holds the same export bytes and catalog as `expected`; a catalog
    /// difference is reported by its first differing line.
    func assertSame(as expected: RunSnapshot, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(files.keys.sorted(), expected.files.keys.sorted(), file: file, line: line)
        for (name, data) in expected.files { XCTAssertEqual(files[name], data, "\(name) differs", file: file, line: line) }
        if catalog != expected.catalog {
            let a = expected.catalog.split(separator: "\n"), b = catalog.split(separator: "\n")
            let firstDifference = zip(a, b).first { $0 != $1 }
            XCTFail("catalogs differ (\(a.count) vs \(b.count) lines); first difference: \(String(describing: firstDifference))",
                    file: file, line: line)
        }
    }
}
