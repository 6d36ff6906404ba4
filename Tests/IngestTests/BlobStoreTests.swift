import Basics
import Foundation
import XCTest
@testable import Ingest

final class BlobStoreTests: XCTestCase {
    private var root: String!

    override func setUp() {
        root = scratchStorePath("blobs")
    }

    override func tearDown() {
        if let root { try? FileManager.default.removeItem(atPath: root) }
    }

    func testPathLayoutAndRoundTrip() throws {
        let store = try BlobStore(root: root + "/")
        let bytes = Array("hello, blob".utf8)
        let sha = SHA256.hex(bytes)
        XCTAssertFalse(store.contains(sha))
        let stored = try store.put(bytes)
        XCTAssertEqual(stored.sha256, sha)
        XCTAssertTrue(stored.inserted)
        XCTAssertEqual(stored.size, bytes.count)
        let chars = Array(sha)
        XCTAssertEqual(stored.path, "\(root!)/\(chars[0])\(chars[1])/\(chars[2])\(chars[3])/\(sha)")
        XCTAssertEqual(store.path(for: sha.uppercased()), stored.path)
        XCTAssertTrue(store.contains(sha))
        XCTAssertTrue(FileManager.default.fileExists(atPath: stored.path))
        XCTAssertEqual(try store.read(sha), bytes)
        XCTAssertFalse(store.contains("not-a-digest"))
        XCTAssertThrowsError(try store.read(String(repeating: "a", count: 64)))
    }

    func testIdenticalContentIsStoredOnce() throws {
        let store = try BlobStore(root: root)
        let bytes = TestImages.jpeg("same")
        let first = try store.put(bytes)
        let second = try store.put(bytes)
        let writer = try store.makeWriter()
        try writer.write(bytes[0..<100])
        try writer.write(bytes[100...])
        let third = try writer.commit()
        XCTAssertTrue(first.inserted)
        XCTAssertFalse(second.inserted)
        XCTAssertFalse(third.inserted)
        XCTAssertEqual(Set([first.path, second.path, third.path]).count, 1)
        XCTAssertEqual(try blobFiles().count, 1)
        XCTAssertEqual(try temporaryFiles().count, 0)

        // Many threads storing the same bytes at once still leave one file.
        let other = TestImages.png("race")
        DispatchQueue.concurrentPerform(iterations: 16) { _ in _ = try? store.put(other) }
        XCTAssertEqual(try blobFiles().count, 2)
        XCTAssertEqual(try store.read(SHA256.hex(other)), other)
    }

    func testStreamingWriterAndHashCheck() throws {
        let store = try BlobStore(root: root)
        let bytes = TestImages.noise("stream", count: 300_000)
        let writer = try store.makeWriter()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 16_384)
            try writer.write(bytes[offset..<end])
            offset = end
        }
        XCTAssertEqual(try temporaryFiles().count, 1)
        let stored = try writer.commit(expectedSHA256: SHA256.hex(bytes))
        XCTAssertEqual(try store.read(stored.sha256), bytes)

        let wrong = try store.makeWriter()
        try wrong.write([1, 2, 3])
        XCTAssertThrowsError(try wrong.commit(expectedSHA256: String(repeating: "0", count: 64))) { error in
            guard case BlobStoreError.hashMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try store.put([4, 5, 6], expectedSHA256: String(repeating: "0", count: 64)))
        XCTAssertFalse(store.contains(SHA256.hex([1, 2, 3])))
        XCTAssertFalse(store.contains(SHA256.hex([4, 5, 6])))

        let dropped = try store.makeWriter()
        try dropped.write([7, 8, 9])
        dropped.discard()
        do {
            let abandoned = try store.makeWriter()
            try abandoned.write([10, 11])
        }
        XCTAssertEqual(try temporaryFiles().count, 0)
        XCTAssertEqual(try blobFiles().count, 1)
    }

    func testLeftoverTemporaryFilesAreIgnoredAndCleaned() throws {
        let store = try BlobStore(root: root)
        let bytes = TestImages.jpeg("crash")
        let sha = SHA256.hex(bytes)
        // What a crash mid-write leaves behind: part of the bytes in a temporary file.
        let stale = store.temporaryDirectory + "/12345-00000000deadbeef"
        let fresh = store.temporaryDirectory + "/12345-00000000cafef00d"
        _ = FileManager.default.createFile(atPath: stale, contents: Data(bytes[0..<500]))
        _ = FileManager.default.createFile(atPath: fresh, contents: Data(bytes[0..<500]))
        let hourAgo = Date().addingTimeInterval(-3600)
        try FileManager.default.setAttributes([.modificationDate: hourAgo], ofItemAtPath: stale)

        XCTAssertFalse(store.contains(sha))
        XCTAssertEqual(try blobFiles().count, 0)

        // Reopening removes old temporaries and keeps young ones (another writer may own them).
        let reopened = try BlobStore(root: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh))
        XCTAssertEqual(reopened.removeStaleTemporaries(olderThan: 0), 1)
        XCTAssertEqual(try temporaryFiles().count, 0)

        // The blob can still be written whole.
        try reopened.put(bytes)
        XCTAssertEqual(try reopened.read(sha), bytes)
    }

    private func blobFiles() throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)!
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            if path.hasPrefix(".tmp") { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files
    }

    private func temporaryFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/.tmp")
    }
}
