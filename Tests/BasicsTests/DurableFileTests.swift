import Basics
import Foundation
import XCTest

final class DurableFileTests: XCTestCase {
    private func makeFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "durable-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testWriteReplacesContentAndLeavesNoTemporary() throws {
        let folder = try makeFolder()
        let path = folder + "/out.txt"
        for durable in [true, false] {
            try DurableFile.write(Array("first".utf8), to: path, durable: durable)
            try DurableFile.write(Array("second, longer".utf8), to: path, durable: durable)
            XCTAssertEqual(FileManager.default.contents(atPath: path), Data("second, longer".utf8))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.txt"])
        }
    }

    func testTemporaryFolder() throws {
        let folder = try makeFolder()
        try FileManager.default.createDirectory(atPath: folder + "/.tmp", withIntermediateDirectories: false)
        try DurableFile.write([1, 2, 3], to: folder + "/a.bin", temporaryFolder: folder + "/.tmp")
        XCTAssertEqual(FileManager.default.contents(atPath: folder + "/a.bin"), Data([1, 2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/.tmp"), [])
    }

    func testFailureNamesTheCallAndRemovesTheTemporary() throws {
        let folder = try makeFolder()
        // Renaming a file over a non-empty folder fails.
        try FileManager.default.createDirectory(atPath: folder + "/taken/x", withIntermediateDirectories: true)
        XCTAssertThrowsError(try DurableFile.write([1], to: folder + "/taken")) { error in
            XCTAssertTrue("\(error)".hasPrefix("rename "), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["taken"])
    }

    func testFolderOfPath() {
        XCTAssertEqual(DurableFile.folder(of: "/a/b/c"), "/a/b")
        XCTAssertEqual(DurableFile.folder(of: "/c"), "/")
        XCTAssertEqual(DurableFile.folder(of: "c"), ".")
    }
}
