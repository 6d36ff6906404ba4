import Foundation
import XCTest
@testable import Catalog

final class EmbeddingStoreTests: XCTestCase {
    var folder: String!

    override func setUp() { folder = NSTemporaryDirectory() + "capfilt-embeddings-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func testRowsRoundTripInBothScalars() throws {
        for scalar in EmbeddingStore.Scalar.allCases {
            let store = try EmbeddingStore(folder: folder + "/\(scalar)", dimension: 3, scalar: scalar)
            try store.append(.image, ids: [7, 9], vectors: [[0.5, -0.25, 1], [0.1, 0.2, 0.3]])
            try store.append(.image, ids: [7], vectors: [[1, 0, 0]])
            XCTAssertEqual(try store.ids(.image), [7, 9, 7])
            let rows = try store.latestRows(.image)
            XCTAssertEqual(rows.ids, [7, 9], "one row per id, the last one, in id order")
            XCTAssertEqual(rows.values.count, 6, "one flat buffer")
            XCTAssertEqual(Array(rows.vector(0)), [1, 0, 0])
            XCTAssertEqual(rows.vector(1).last!, 0.3, accuracy: scalar == .float16 ? 1e-3 : 0)
            XCTAssertEqual(try store.latestRows(.image, where: { $0 == 9 }).ids, [9])
            XCTAssertEqual(try store.latestRows(.text).ids, [])
        }
    }

    /// A kill in mid-write leaves a torn row; the next open cuts both files back to whole rows.
    func testATornTailIsCutOnOpen() throws {
        let store = try EmbeddingStore(folder: folder, dimension: 4, scalar: .float16)
        try store.append(.text, ids: [1, 2], vectors: [[1, 2, 3, 4], [5, 6, 7, 8]])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: store.dataPath(.text)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3, 4, 5]))   // a third vector, torn, and no id
        try handle.close()
        let reopened = try EmbeddingStore(folder: folder, dimension: 4, scalar: .float16)
        XCTAssertEqual(try reopened.ids(.text), [1, 2])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: store.dataPath(.text))[.size] as? Int, 2 * 4 * 2)
        XCTAssertThrowsError(try EmbeddingStore(folder: folder, dimension: 8, scalar: .float16), "another dimension")
        XCTAssertThrowsError(try reopened.append(.text, ids: [3], vectors: [[1, 2]]), "a short vector")
    }
}
