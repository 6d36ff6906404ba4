import Foundation
import XCTest
@testable import MED

/// applyTopP sorts only the scores above a probability cut; it must keep exactly the tokens that
/// a stable descending sort of the whole row keeps (transformers' TopPLogitsWarper semantics).
final class TopPTests: XCTestCase {
    /// The definition: sort everything, keep the shortest prefix whose mass reaches p.
    func referenceTopP(_ row: [Float], p: Float) -> [Float] {
        let order = row.indices.filter { row[$0] > -.infinity }.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
        guard let first = order.first else { return row }
        var total: Double = 0
        for i in order { total += Double(expf(row[i] - row[first])) }
        var cumulative: Double = 0, keep = 0
        for i in order {
            cumulative += Double(expf(row[i] - row[first])) / total
            keep += 1
            if cumulative >= Double(p) { break }
        }
        var out = [Float](repeating: -.infinity, count: row.count)
        for i in order[..<keep] { out[i] = row[i] }
        return out
    }

    func check(_ row: [Float], p: Float, file: StaticString = #filePath, line: UInt = #line) {
        var fast = row
        fast.withUnsafeMutableBufferPointer { applyTopP($0.baseAddress!, count: row.count, p: p) }
        let expected = referenceTopP(row, p: p)
        XCTAssertEqual(fast.map { $0 == -.infinity ? -1e30 : $0 }, expected.map { $0 == -.infinity ? -1e30 : $0 },
                       "p \(p)", file: file, line: line)
    }

    func testMatchesAFullSortOnPeakedFlatTiedAndMaskedRows() {
        var seeded = UInt64(20261129)
        func uniform() -> Float {  // deterministic xorshift
            seeded ^= seeded << 13; seeded ^= seeded >> 7; seeded ^= seeded << 17
            return Float(seeded % 1_000_000) / 1_000_000
        }
        let vocabulary = 30524
        for p: Float in [0.1, 0.5, 0.9, 0.99, 0.999999] {
            // Peaked: a few large scores, as a trained captioner gives.
            var peaked = (0..<vocabulary).map { _ in uniform() * 4 - 8 }
            for k in 0..<5 { peaked[k * 977] = 6 + uniform() * 4 }
            check(peaked, p: p)
            // Flat: the nucleus holds thousands of tokens, so the cut must fall several times.
            check((0..<vocabulary).map { _ in uniform() * 0.01 }, p: p)
            // Ties at the boundary are broken by index, as a stable sort does.
            check((0..<vocabulary).map { i in Float(i % 7) }, p: p)
            // Masked tokens (min length, earlier warpers) stay masked and are never counted.
            var masked = (0..<vocabulary).map { _ in uniform() * 10 }
            for i in stride(from: 0, to: vocabulary, by: 3) { masked[i] = -.infinity }
            check(masked, p: p)
        }
        check([3], p: 0.9)
        check([-.infinity, 2, -.infinity], p: 0.5)
        check([1, 1], p: 0.5)
    }
}
