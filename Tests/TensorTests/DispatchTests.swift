import Foundation
import XCTest
@testable import Tensor

/// Every kernel of every instruction-set path against a double-precision scalar reference, on
/// this machine. Paths this CPU cannot run are skipped with a message naming the missing path.
final class DispatchTests: XCTestCase {
    func random(_ n: Int, scale: Float = 1, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    func kernels(_ path: KernelPath) throws -> PathKernels {
        try XCTSkipUnless(path.isSupported, "this CPU (\(CPUInfo.current.brand)) cannot run the \(path.rawValue) kernels")
        return PathKernels(path)
    }

    func testBaselineKernels() throws { try checkAll(kernels(.baseline)) }
    func testAVX2Kernels() throws { try checkAll(kernels(.avx2)) }
    func testAVX512Kernels() throws { try checkAll(kernels(.avx512)) }

    func checkAll(_ k: PathKernels) {
        checkExpAndErf(k)
        checkReductions(k)
        checkSoftmax(k)
        checkGELU(k)
        checkLayerNorm(k)
        checkLinearRows(k)
        checkMaskedSums(k)
        checkBF16(k)
        checkAgainstActivePath(k)
    }

    func checkExpAndErf(_ k: PathKernels) {
        let xs = stride(from: Float(-87), to: 88, by: 0.0137).map { $0 }
        var worst = 0.0
        for (x, v) in zip(xs, k.exp(xs)) {
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(v) - ref) / ref)
        }
        XCTAssertLessThan(worst, 4e-7, "\(k.path): relative error of exp")
        XCTAssertEqual(k.exp([-100, -88])[0], 0, "\(k.path): exp underflows to 0")
        let es = stride(from: Float(-6), to: 6, by: 0.001).map { $0 }
        worst = 0
        for (x, v) in zip(es, k.erf(es)) { worst = max(worst, abs(Double(v) - Foundation.erf(Double(x)))) }
        XCTAssertLessThan(worst, 6e-7, "\(k.path): absolute error of erf")
    }

    /// The six masked correlation sums against a double-precision loop, for widths with and
    /// without a tail past the 16-lane steps.
    func checkMaskedSums(_ k: PathKernels) {
        for (rows, cols) in [(1, 1), (3, 16), (5, 21), (64, 64), (7, 70)] {
            let a = random(rows * cols, scale: 8, seed: 11), b = random(rows * cols, scale: 8, seed: 12)
            let ma = random(rows * cols, seed: 13).map { $0 > 0 ? Float(1) : 0 }
            let mb = random(rows * cols, seed: 14).map { $0 > -0.5 ? Float(1) : 0 }
            var ref = [Double](repeating: 0, count: 6)
            for i in 0..<(rows * cols) {
                let w = Double(ma[i] * mb[i]), x = Double(a[i]) * w, y = Double(b[i])
                ref[0] += w; ref[1] += x; ref[2] += y * w; ref[3] += x * x; ref[4] += y * y * w; ref[5] += x * y
            }
            let got = k.maskedSums(a, ma, b, mb, rows: rows, cols: cols)
            for j in 0..<6 {
                XCTAssertEqual(got[j], ref[j], accuracy: 1e-4 * max(1, abs(ref[j])), "\(k.path): masked sum \(j), \(rows) x \(cols)")
            }
        }
    }

    func checkReductions(_ k: PathKernels) {
        for n in [0, 1, 15, 16, 17, 100, 771] {
            let a = random(n, seed: UInt64(n) + 1), b = random(n, seed: UInt64(n) + 2)
            var ref = 0.0
            for i in 0..<n { ref += Double(a[i]) * Double(b[i]) }
            XCTAssertEqual(Double(k.dot(a, b)), ref, accuracy: 1e-5, "\(k.path): dot n=\(n)")
            var y = b
            k.axpy(0.75, a, &y)
            for i in 0..<n { XCTAssertEqual(y[i], b[i] + 0.75 * a[i], accuracy: 1e-6, "\(k.path): axpy") }
            XCTAssertEqual(k.add(a, b), zip(a, b).map { $0 + $1 }, "\(k.path): add n=\(n)")
            XCTAssertEqual(k.max(a), a.max() ?? -.infinity, "\(k.path): max n=\(n)")
            XCTAssertEqual(k.sum(a), a.map(Double.init).reduce(0, +), accuracy: 1e-5, "\(k.path): sum n=\(n)")
        }
    }

    func checkSoftmax(_ k: PathKernels) {
        for (count, visible) in [(40, 33), (577, 577), (16, 16), (9, 1)] {
            let values = random(count, scale: 6, seed: UInt64(count * 7 + visible))
            let valid: [Float] = (0..<count).map { $0 % 5 == 3 ? 0 : 1 }
            for mask in [nil, valid] {
                var row = values
                k.softmax(&row, visible: visible, valid: mask)
                let kept = (0..<visible).filter { mask == nil || mask![$0] != 0 }
                let mx = kept.map { Double(values[$0]) }.max() ?? 0
                let z = kept.map { Foundation.exp(Double(values[$0]) - mx) }.reduce(0, +)
                for j in 0..<count {
                    let ref = kept.contains(j) ? Foundation.exp(Double(values[j]) - mx) / z : 0
                    XCTAssertEqual(Double(row[j]), ref, accuracy: 1e-6, "\(k.path): softmax \(count)/\(visible) at \(j)")
                }
            }
        }
        var allMasked: [Float] = [1, 2, 3]
        k.softmax(&allMasked, visible: 3, valid: [0, 0, 0])
        XCTAssertEqual(allMasked, [0, 0, 0], "\(k.path): a fully masked row is all zeros")
        let x = random(531, scale: 10, seed: 9)
        let (values, sum) = k.expShiftedSum(x, shift: 3)
        var refSum = 0.0
        for (i, v) in x.enumerated() {
            let e = Foundation.exp(Double(v - 3))  // the kernel subtracts in float
            refSum += e
            XCTAssertEqual(Double(values[i]), e, accuracy: e * 4e-7, "\(k.path): exp_shifted_sum value")
        }
        XCTAssertEqual(sum, refSum, accuracy: refSum * 1e-6, "\(k.path): exp_shifted_sum total")
    }

    func checkGELU(_ k: PathKernels) {
        let x = random(1003, scale: 8, seed: 11)
        let phi = { (v: Double) in 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot())) }
        for (v, g) in zip(x, k.gelu(x)) { XCTAssertEqual(Double(g), Double(v) * phi(Double(v)), accuracy: 2e-6, "\(k.path): gelu") }
        let dout = random(x.count, seed: 12)
        var dx = random(x.count, seed: 13)
        let before = dx
        k.geluBackward(x: x, dout: dout, dx: &dx)
        for i in 0..<x.count {
            let v = Double(x[i])
            let grad = phi(v) + v * Foundation.exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
            XCTAssertEqual(Double(dx[i]), Double(before[i]) + Double(dout[i]) * grad, accuracy: 1e-5, "\(k.path): gelu backward")
        }
    }

    func checkLayerNorm(_ k: PathKernels) {
        for c in [37, 768] {
            let n = 3
            let x = random(n * c, scale: 3, seed: UInt64(c)), w = random(c, seed: 2), b = random(c, seed: 3)
            let out = k.layerNorm(x, weight: w, bias: b, eps: 1e-5)
            for r in 0..<n {
                let row = x[r * c..<(r + 1) * c].map(Double.init)
                let mu = row.reduce(0, +) / Double(c)
                let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(c)
                for j in 0..<c {
                    let ref = (row[j] - mu) / (v + 1e-5).squareRoot() * Double(w[j]) + Double(b[j])
                    XCTAssertEqual(Double(out[r * c + j]), ref, accuracy: 1e-5, "\(k.path): layer norm")
                }
            }
        }
    }

    func checkLinearRows(_ k: PathKernels) {
        for (rows, inputs) in [(1, 37), (4, 64), (7, 768), (16, 19)] {
            let outputs = 13
            let x = random(rows * inputs, seed: 21), w = random(outputs * inputs, seed: 22), b = random(outputs, seed: 23)
            let out = k.linearRows(x, rows: rows, weight: w, bias: b, outputs: outputs)
            let noBias = k.linearRows(x, rows: rows, weight: w, bias: nil, outputs: outputs)
            for r in 0..<rows { for c in 0..<outputs {
                var s = 0.0
                for j in 0..<inputs { s += Double(x[r * inputs + j]) * Double(w[c * inputs + j]) }
                XCTAssertEqual(Double(out[r * outputs + c]), s + Double(b[c]), accuracy: 2e-5, "\(k.path): linear rows")
                XCTAssertEqual(Double(noBias[r * outputs + c]), s, accuracy: 2e-5, "\(k.path): linear rows, no bias")
            } }
            // bf16 weights: the product of the rounded weights, in fp32.
            let wb = k.toBF16(w), wr = k.fromBF16(wb)
            let outB = k.linearRowsBF16(x, rows: rows, weight: wb, bias: b, outputs: outputs)
            for r in 0..<rows { for c in 0..<outputs {
                var s = Double(b[c])
                for j in 0..<inputs { s += Double(x[r * inputs + j]) * Double(wr[c * inputs + j]) }
                XCTAssertEqual(Double(outB[r * outputs + c]), s, accuracy: 2e-5, "\(k.path): linear rows, bf16 weights")
            } }
        }
    }

    func checkBF16(_ k: PathKernels) {
        // Round to nearest even on the 16 dropped bits; NaN stays NaN; infinities and bf16 values are exact.
        let cases: [(Float, UInt16)] = [
            (1, 0x3F80), (-2, 0xC000), (Float(bitPattern: 0x3F80_8000), 0x3F80), (Float(bitPattern: 0x3F81_8000), 0x3F82),
            (Float(bitPattern: 0x3F80_8001), 0x3F81), (.infinity, 0x7F80), (-.infinity, 0xFF80), (0, 0),
        ]
        let converted = k.toBF16(cases.map(\.0) + [1, 2, 3, 4, 5, 6, 7, 8, 9])
        for (i, (_, bits)) in cases.enumerated() { XCTAssertEqual(converted[i], bits, "\(k.path): bf16 of case \(i)") }
        XCTAssertTrue(k.fromBF16(k.toBF16([.nan]))[0].isNaN, "\(k.path): NaN stays NaN")
        let x = random(1000, scale: 100, seed: 31)
        for (v, r) in zip(x, k.fromBF16(k.toBF16(x))) {
            XCTAssertEqual(r, v, accuracy: abs(v) / 256, "\(k.path): bf16 keeps 8 significant bits")
        }
    }

    /// The path under test against the path the engine runs here: bit-identical when both have
    /// FMA (the same lanes, the same order, the same fused products), else to float rounding.
    func checkAgainstActivePath(_ k: PathKernels) {
        let active = PathKernels(Kernels.path)
        let exact = k.path != .baseline && active.path != .baseline
        let x = random(4099, scale: 5, seed: 41), w = random(37 * 771, seed: 42)
        let rows = random(5 * 771, seed: 43)
        func same(_ a: [Float], _ b: [Float], _ what: String) {
            if exact { XCTAssertEqual(a, b, "\(k.path) vs \(active.path): \(what)") }
            else { for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 2e-5 * max(1, abs(u)), what) } }
        }
        same(k.gelu(x), active.gelu(x), "gelu")
        same(k.exp(x), active.exp(x), "exp")
        same(k.linearRows(rows, rows: 5, weight: w, bias: nil, outputs: 37),
             active.linearRows(rows, rows: 5, weight: w, bias: nil, outputs: 37), "linear rows")
        same(k.layerNorm(rows, weight: Array(w[0..<771]), bias: Array(x[0..<771]), eps: 1e-5),
             active.layerNorm(rows, weight: Array(w[0..<771]), bias: Array(x[0..<771]), eps: 1e-5), "layer norm")
        var a = Array(x[0..<577]), b = a
        k.softmax(&a, visible: 577, valid: nil)
        active.softmax(&b, visible: 577, valid: nil)
        same(a, b, "softmax")
        same([k.dot(x, x)], [active.dot(x, x)], "dot")
        same([Float(k.sum(x))], [Float(active.sum(x))], "sum")
    }

    func testBestPathIsTheWidestSupported() {
        let supported = KernelPath.allCases.filter(\.isSupported)
        XCTAssertEqual(KernelPath.best, supported.last)
        XCTAssertTrue(KernelPath.baseline.isSupported)
        let cpu = CPUInfo.current
        if cpu.has("avx512f") && cpu.has("avx512bw") && cpu.has("avx512dq") && cpu.has("avx512vl") {
            XCTAssertEqual(KernelPath.best, .avx512)
        } else if cpu.has("avx2") && cpu.has("fma") {
            XCTAssertEqual(KernelPath.best, .avx2)
        }
        print("CPU: \(cpu.brand) (\(cpu.vendor) family \(cpu.family) model \(cpu.model)); features: \(cpu.features.joined(separator: " ")); kernels: \(Kernels.path.rawValue)")
    }

    func testOpenBLASCoreTypeFollowsFeaturesNotModels() {
        func cpu(_ vendor: String, _ family: Int, _ model: Int, _ features: [String]) -> CPUInfo {
            CPUInfo(vendor: vendor, brand: "test", family: family, model: model, stepping: 0, features: features)
        }
        let avx512 = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"]
        // A model number OpenBLAS 0.3.21 does not know (Intel family 6 model 207) still gets AVX-512.
        XCTAssertEqual(BLAS.coreType(for: cpu("GenuineIntel", 6, 207, avx512)), "SkylakeX")
        XCTAssertEqual(BLAS.coreType(for: cpu("AuthenticAMD", 25, 17, avx512)), "SkylakeX")  // Zen 4
        XCTAssertEqual(BLAS.coreType(for: cpu("AuthenticAMD", 25, 1, ["sse2", "avx", "avx2", "fma"])), "Zen")
        XCTAssertEqual(BLAS.coreType(for: cpu("GenuineIntel", 6, 63, ["sse2", "avx", "avx2", "fma"])), "Haswell")
        XCTAssertEqual(BLAS.coreType(for: cpu("GenuineIntel", 6, 42, ["sse2", "sse4_2", "avx"])), "Sandybridge")
        XCTAssertNil(BLAS.coreType(for: cpu("GenuineIntel", 15, 4, ["sse2"])))
    }

    /// OpenBLAS loads, and runs the kernels it was asked for (or what OPENBLAS_CORETYPE names).
    func testOpenBLASRunsTheChosenCore() throws {
        let status = try BLAS.status.get()
        print("OpenBLAS \(status.library): asked \(status.requestedCore ?? "nothing"), runs \(status.runningCore); \(status.configuration)")
        XCTAssertTrue(status.runsRequestedCore, "asked for \(status.requestedCore ?? "-"), runs \(status.runningCore)")
        XCTAssertEqual(status.chosenCore, BLAS.coreType(for: .current))
    }
}
