import XCTest
@testable import Tensor

/// bf16 weights: the engine computes exactly the float32 product of the rounded weights, on both
/// the decoding kernel (few rows) and the widen-then-sgemm path (many rows).
final class BFloat16Tests: XCTestCase {
    func random(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
    }

    func testStoringAsBFloat16RoundsAndFreesTheFloats() {
        let values = random(1000, seed: 1)
        let t = Tensor(shape: [10, 100], values: values)
        t.storeAsBFloat16()
        XCTAssertTrue(t.isBFloat16)
        XCTAssertEqual(t.shape, [10, 100])
        let rounded = PathKernels(Kernels.path).fromBF16(PathKernels(Kernels.path).toBF16(values))
        XCTAssertEqual(t.toArray(), rounded)
        XCTAssertEqual(t[flat: 17], rounded[17])
        for (v, r) in zip(values, rounded) { XCTAssertEqual(r, v, accuracy: abs(v) / 256) }
    }

    func testLinearWithBFloat16WeightsEqualsFloatProductOfRoundedWeights() {
        let savedTile = bf16WidenTileBytes
        defer { bf16WidenTileBytes = savedTile }
        for (threads, tileBytes) in [(1, savedTile), (2, savedTile), (2, 96 * 4 * 16), (1, 96 * 4 * 37)] {
            bf16WidenTileBytes = tileBytes   // whole blocks, then 16- and 37-row tiles
            setEngineThreads(threads)
            for (rows, inputs, outputs) in [(1, 96, 200), (5, 96, 200), (16, 96, 200), (17, 96, 200), (70, 96, 200), (24, 64, 2800)] {
                let x = random(rows * inputs, seed: UInt64(rows)), w = random(outputs * inputs, seed: 7), b = random(outputs, seed: 8)
                let rounded = Tensor(shape: [outputs, inputs], values: w)
                rounded.storeAsBFloat16()
                let reference = Tensor(shape: [outputs, inputs], values: rounded.toArray())
                for bias in [Tensor(shape: [outputs], values: b), nil] {
                    let got = Tensor(shape: [0]), want = Tensor(shape: [0])
                    linear(Tensor(shape: [rows, inputs], values: x), weight: rounded, bias: bias, out: got)
                    linear(Tensor(shape: [rows, inputs], values: x), weight: reference, bias: bias, out: want)
                    XCTAssertEqual(got.shape, [rows, outputs])
                    var worst: Float = 0
                    for i in 0..<got.count { worst = max(worst, abs(got[flat: i] - want[flat: i])) }
                    XCTAssertLessThan(worst, 2e-5, "rows \(rows), threads \(threads), tile \(tileBytes), bias \(bias != nil)")
                }
            }
        }
        setEngineThreads(1)
    }

    func testEmbeddingLookupFromABFloat16Table() {
        let table = Tensor(shape: [50, 24], values: random(1200, seed: 3))
        let expected = table.toArray()
        table.storeAsBFloat16()
        let out = Tensor(shape: [0])
        embeddingForward(table: table, ids: [0, 49, 7], out: out)
        let rounded = table.toArray()
        XCTAssertEqual(out.toArray(), Array(rounded[0..<24] + rounded[49 * 24..<50 * 24] + rounded[7 * 24..<8 * 24]))
        XCTAssertNotEqual(rounded, expected, "the table was rounded")
    }
}
