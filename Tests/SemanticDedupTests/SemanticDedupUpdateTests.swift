import Basics
import XCTest
@testable import SemanticDedup

/// The stored clustering (`SemanticDedupState`) and the pass that updates it.
final class SemanticDedupUpdateTests: XCTestCase {
    typealias Key = SemanticDedupState.RowKey
    let settings = SemanticDedupState.Settings(dimension: 8, clusters: 2, epsilon: 0.01, model: "m1")

    /// Row `i` of a direction: axis `axis` plus a small, distinct tilt (cosine between two rows of
    /// one axis is well below 0.99 unless `copyOf` makes one a near copy).
    private func vector(axis: Int, tilt: Int, copy: Bool = false) -> [Float] {
        var v = [Float](repeating: 0, count: 8)
        v[axis] = 1
        v[4 + tilt % 4] = Float(tilt / 4 + 1) * 0.5
        if copy { v[axis] += 0.01 }
        return v
    }

    private func pass(_ previous: SemanticDedupState?, _ rows: [(Key, [Float])], settings: SemanticDedupState.Settings? = nil,
                      recluster: Bool = false) -> (state: SemanticDedupState, drops: [SemanticDedupUpdate.Drop], mode: SemanticDedupUpdate.Mode) {
        let sorted = rows.sorted { $0.0 < $1.0 }
        let data = EmbeddingMatrix(rows: sorted.map(\.1), dimension: 8)
        return SemanticDedupUpdate(settings: settings ?? self.settings)
            .run(previous: previous, recluster: recluster, keys: sorted.map(\.0), data: data, rank: Array(sorted.indices))
    }

    private func key(_ id: Int64) -> Key { Key(shard: 0, id: id) }

    /// Two clusters (axes 0 and 1), four distinct rows each.
    private var firstRows: [(Key, [Float])] {
        (0..<8).map { (key(Int64($0)), vector(axis: $0 < 4 ? 0 : 1, tilt: $0 % 4)) }
    }

    func testAnUpdateFindsANewCopyOfAnOldRowAndKeepsOldDecisions() throws {
        var rows = firstRows
        rows.append((key(8), vector(axis: 0, tilt: 1, copy: true)))   // a copy of row 1 in the first pass
        let first = pass(nil, rows)
        guard case .full = first.mode else { return XCTFail("\(first.mode)") }
        XCTAssertEqual(first.drops.map { [$0.row, $0.keeper] }, [[8, 1]])

        // New: a copy of old row 5 (kept) and a new row of its own; row 3 is gone.
        rows.removeAll { $0.0 == key(3) }
        rows += [(key(20), vector(axis: 1, tilt: 1, copy: true)), (key(21), vector(axis: 0, tilt: 6))]
        let second = pass(first.state, rows)
        XCTAssertEqual(second.mode, .incremental(new: 2, removed: 1))
        let keys = rows.map(\.0).sorted()
        let found = second.drops.map { [keys[$0.row], keys[$0.keeper]] }
        XCTAssertEqual(found, [[key(8), key(1)], [key(20), key(5)]], "the old decision stays, the new copy found")
        XCTAssertFalse(second.state.rows.contains { $0.key == key(3) }, "a gone row leaves the state")
        XCTAssertEqual(second.state.centroids.values, first.state.centroids.values, "the centroids are kept")

        // Running the pass again on the state it left changes nothing (a resumed run).
        let again = pass(second.state, rows)
        XCTAssertEqual(again.mode, .unchanged(of: .update))
        XCTAssertEqual(again.state.pass, .update)
        XCTAssertEqual(again.drops, second.drops)
        XCTAssertEqual(again.state, second.state)
    }

    func testADroppedRowWhoseKeeperIsGoneIsJudgedAgain() throws {
        var rows = firstRows
        rows.append((key(8), vector(axis: 0, tilt: 1, copy: true)))
        let first = pass(nil, rows)
        rows.removeAll { $0.0 == key(1) }
        let second = pass(first.state, rows)
        XCTAssertEqual(second.mode, .incremental(new: 1, removed: 1))
        XCTAssertEqual(second.drops, [], "row 8 has no keeper now and is kept")
        XCTAssertNil(second.state.rows.first { $0.key == key(8) }!.keeper)
    }

    func testOtherSettingsOrReclusterRebuild() throws {
        let first = pass(nil, firstRows)
        for other in [SemanticDedupState.Settings(dimension: 8, clusters: 2, epsilon: 0.02, model: "m1"),
                      SemanticDedupState.Settings(dimension: 8, clusters: 3, epsilon: 0.01, model: "m1"),
                      SemanticDedupState.Settings(dimension: 8, clusters: 2, epsilon: 0.01, model: "m2")] {
            let next = pass(first.state, firstRows, settings: other)
            XCTAssertEqual(next.mode, .full(reason: "built with other settings"))
            XCTAssertEqual(next.state.settings, other)
        }
        XCTAssertEqual(pass(first.state, firstRows, recluster: true).mode, .full(reason: "recluster requested"))
        XCTAssertEqual(pass(first.state, firstRows).mode, .unchanged(of: .full), "a resumed full pass reports a full pass")
    }

    func testTheStateRoundTripsAndEveryTornOrDamagedCopyIsRejected() throws {
        var rows = firstRows
        rows.append((key(8), vector(axis: 0, tilt: 1, copy: true)))
        let state = pass(nil, rows).state
        let bytes = state.encoded()
        XCTAssertEqual(try SemanticDedupState(decoding: bytes), state)
        var updated = state
        updated.pass = .update
        XCTAssertEqual(try SemanticDedupState(decoding: updated.encoded()).pass, .update)
        // A version-1 file (no pass) reads as a full pass.
        let settingsEnd = bytes.count - 32 - (8 + 8 + state.centroids.values.count * 4 + 8 + state.rows.count * 32) - 4
        var old = SemanticDedupState.magicVersion1 + bytes[19..<settingsEnd] + bytes[(settingsEnd + 4)..<(bytes.count - 32)]
        var digest = SHA256()
        digest.update(old)
        old += digest.finalize()
        XCTAssertEqual(try SemanticDedupState(decoding: old), state)
        for length in stride(from: 0, to: bytes.count, by: 7) {
            XCTAssertThrowsError(try SemanticDedupState(decoding: Array(bytes[..<length])), "cut at \(length)")
        }
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x10
        XCTAssertThrowsError(try SemanticDedupState(decoding: damaged)) { error in
            XCTAssertTrue("\(error)".contains("checksum"), "\(error)")
        }
    }
}
