import XCTest
@testable import Tensor

/// bf16 weights: the engine computes exactly the float32 product of the rounded weights, on both
/// the decoding kernel (few rows) and the widen-then-sgemm path (many rows); the vdpbf16ps
/// products (activations rounded too) are checked bit for bit against their definition, through
/// the emulation on every CPU and natively where the CPU has AVX512_BF16.
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
        BF16Products.override = .widened
        defer { bf16WidenTileBytes = savedTile; BF16Products.override = nil }
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

    /// What vdpbf16ps computes for out[r, c]: x and w rounded to bf16, then per pair of inputs
    /// (2q, 2q+1) the odd product added first, each addition rounded once (a product of two bf16
    /// values is exact in float32, so fma is that addition); the bias added last.
    func pairwiseReference(x: [Float], w: [Float], bias: [Float]?, rows: Int, inputs k: Int, outputs o: Int) -> [Float] {
        let kernels = PathKernels(Kernels.path)
        let xr = kernels.fromBF16(kernels.toBF16(x)), wr = kernels.fromBF16(kernels.toBF16(w))
        var out = [Float](repeating: 0, count: rows * o)
        for r in 0..<rows {
            for c in 0..<o {
                var acc: Float = 0
                var q = 0
                while q < k {
                    if q + 1 < k { acc = (xr[r * k + q + 1] * wr[c * k + q + 1]) + acc }
                    acc = (xr[r * k + q] * wr[c * k + q]) + acc
                    q += 2
                }
                out[r * o + c] = acc + (bias?[c] ?? 0)
            }
        }
        return out
    }

    func products(_ kind: BF16Products, x: [Float], w: Tensor, bias: Tensor?, rows: Int, inputs: Int) -> [Float] {
        BF16Products.override = kind
        defer { BF16Products.override = nil }
        let out = Tensor(shape: [0])
        linear(Tensor(shape: [rows, inputs], values: x), weight: w, bias: bias, out: out)
        return out.toArray()
    }

    func assertSameBits(_ got: [Float], _ want: [Float], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, context, file: file, line: line)
        if let i = got.indices.first(where: { $0 < want.count && got[$0].bitPattern != want[$0].bitPattern }) {
            XCTFail("\(context): element \(i) is \(got[i]), expected \(want[i])", file: file, line: line)
        }
    }

    /// Shapes with a partial tile of rows (6), a partial panel of columns (32) and an odd number
    /// of inputs, on one and two workers, with whole and tiled weights (bf16WidenTileBytes); 3,001
    /// inputs make blocks of 42 rows (ck_gemm_bf16_block_rows), so a worker packs several.
    static let packedShapes = [(17, 45, 70), (18, 64, 32), (23, 1, 33), (40, 96, 200), (97, 3, 31), (24, 64, 2800), (97, 3001, 40)]

    func testEmulatedBF16ProductsEqualTheirDefinitionBitForBit() {
        let savedTile = bf16WidenTileBytes
        defer { bf16WidenTileBytes = savedTile; setEngineThreads(1) }
        for (threads, tileBytes) in [(1, savedTile), (2, savedTile), (2, 64 * 2 * 48), (1, 64 * 2 * 23)] {
            bf16WidenTileBytes = tileBytes   // whole weights, then one or two panels at a time
            setEngineThreads(threads)
            for (rows, inputs, outputs) in Self.packedShapes {
                let x = random(rows * inputs, seed: UInt64(rows)), w = random(outputs * inputs, seed: 7), b = random(outputs, seed: 8)
                let weight = Tensor(shape: [outputs, inputs], values: w)
                weight.storeAsBFloat16()
                for bias in [b, nil] {
                    let got = products(.emulated, x: x, w: weight, bias: bias.map { Tensor(shape: [outputs], values: $0) },
                                       rows: rows, inputs: inputs)
                    let want = pairwiseReference(x: x, w: w, bias: bias, rows: rows, inputs: inputs, outputs: outputs)
                    assertSameBits(got, want, "rows \(rows), inputs \(inputs), outputs \(outputs), threads \(threads), tile \(tileBytes), bias \(bias != nil)")
                }
            }
        }
    }

    /// The native build against the emulation: the same bits is what the emulation is written
    /// to give; a CPU that rounds the pair's sum otherwise must stay within float32 rounding
    /// (and then the measurements made with the emulation hold to rounding).
    func testNativeBF16ProductsAgreeWithTheEmulation() throws {
        guard BF16Products.nativeAvailable else {
            XCTAssertEqual(BF16Products.active, .widened, "without AVX512_BF16 the weights are widened for sgemm")
            throw XCTSkip("this CPU has no AVX512_BF16: the vdpbf16ps products are checked where it has (the emulation is checked everywhere)")
        }
        print("vdpbf16ps self-check: \(BF16Products.selfCheck()); products in use: \(BF16Products.active.rawValue)")
        XCTAssertEqual(BF16Products.active, .avx512BF16, BF16Products.reason)
        defer { setEngineThreads(1) }
        var exact = 0, total = 0
        for threads in [1, 2] {
            setEngineThreads(threads)
            for (rows, inputs, outputs) in Self.packedShapes {
                let x = random(rows * inputs, seed: UInt64(rows) + 100), w = random(outputs * inputs, seed: 9), b = random(outputs, seed: 10)
                let weight = Tensor(shape: [outputs, inputs], values: w)
                weight.storeAsBFloat16()
                let bias = Tensor(shape: [outputs], values: b)
                let native = products(.avx512BF16, x: x, w: weight, bias: bias, rows: rows, inputs: inputs)
                let emulated = products(.emulated, x: x, w: weight, bias: bias, rows: rows, inputs: inputs)
                let sums = pairwiseReference(x: x.map(abs), w: w.map(abs), bias: b.map(abs), rows: rows, inputs: inputs, outputs: outputs)
                let agreement = BF16Products.agreement(native: native, emulated: emulated, absoluteSums: sums.map(Double.init), inputs: inputs)
                total += 1
                switch agreement {
                case .bitForBit: exact += 1
                case .withinRounding: break
                case .mismatch(let what): XCTFail("rows \(rows), inputs \(inputs), outputs \(outputs), threads \(threads): \(what)")
                }
            }
        }
        print("vdpbf16ps against its emulation: \(exact) of \(total) products the same bits, the rest within rounding")
    }

    func testTheRoundingBoundSeparatesRoundingFromWrongProducts() {
        let sums: [Double] = [10, 10, 10]
        XCTAssertEqual(BF16Products.agreement(native: [1, 2, 3], emulated: [1, 2, 3], absoluteSums: sums, inputs: 64), .bitForBit)
        let ulp = Float(3).ulp
        guard case .withinRounding = BF16Products.agreement(native: [1, 2, 3 + ulp], emulated: [1, 2, 3], absoluteSums: sums, inputs: 64) else {
            return XCTFail("one ulp is rounding")
        }
        guard case .mismatch = BF16Products.agreement(native: [1, 2.01, 3], emulated: [1, 2, 3], absoluteSums: sums, inputs: 64) else {
            return XCTFail("a wrong product is a mismatch")
        }
    }
}
