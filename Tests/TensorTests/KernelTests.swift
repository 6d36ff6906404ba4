import Foundation
import XCTest
@testable import Tensor

/// Each optimised kernel against a naive double-precision reference (llm.c's dev/cpu pattern).
final class KernelTests: XCTestCase {
    var rng = SystemRandomNumberGenerator()

    func random(_ n: Int, scale: Float = 1, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    func testGELUMatchesExactDefinition() {
        let values = random(1000, scale: 8, seed: 1)
        let x = Tensor(shape: [10, 100], values: values)
        let out = Tensor(shape: [0])
        geluForward(x, out: out)
        for (i, v) in values.enumerated() {
            let ref = Double(v) * 0.5 * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))
            XCTAssertEqual(Double(out[flat: i]), ref, accuracy: 2e-6)
        }
    }

    func testLayerNorm() {
        let c = 37, n = 5
        let values = random(n * c, scale: 3, seed: 2)
        let w = random(c, seed: 3), b = random(c, seed: 4)
        let out = Tensor(shape: [0])
        layerNormForward(Tensor(shape: [n, c], values: values), weight: Tensor(shape: [c], values: w),
                         bias: Tensor(shape: [c], values: b), eps: 1e-5, out: out)
        for r in 0..<n {
            let row = values[r * c..<(r + 1) * c].map(Double.init)
            let mu = row.reduce(0, +) / Double(c)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(c)
            for j in 0..<c {
                let ref = (row[j] - mu) / (v + 1e-5).squareRoot() * Double(w[j]) + Double(b[j])
                XCTAssertEqual(Double(out[flat: r * c + j]), ref, accuracy: 1e-5)
            }
        }
    }

    func testLinearMatchesNaive() {
        for threads in [1, 2] {
            setEngineThreads(threads)
            for n in [1, 3, 4, 7, 16, 17, 70] { checkLinear(n: n, i: 37, o: 21) }
            // Too few rows to give each of 2 workers 32, large enough to split the outputs.
            checkLinear(n: 24, i: 64, o: 2800)
        }
        setEngineThreads(1)
    }

    /// Covers the weight-streaming kernel (N <= 16), the row-split and the output-split sgemm paths.
    func checkLinear(n: Int, i: Int, o: Int) {
        let x = random(n * i, seed: 5), w = random(o * i, seed: 6), b = random(o, seed: 7)
        let out = Tensor(shape: [0])
        linear(Tensor(shape: [n, i], values: x), weight: Tensor(shape: [o, i], values: w),
               bias: Tensor(shape: [o], values: b), out: out)
        XCTAssertEqual(out.shape, [n, o])
        let noBias = Tensor(shape: [0])
        linear(Tensor(shape: [n, i], values: x), weight: Tensor(shape: [o, i], values: w), bias: nil, out: noBias)
        for r in 0..<(n * o) { XCTAssertEqual(noBias[flat: r], out[flat: r] - b[r % o], accuracy: 1e-5) }
        for r in 0..<n { for c in 0..<o {
            var s = Double(b[c])
            for k in 0..<i { s += Double(x[r * i + k]) * Double(w[c * i + k]) }
            XCTAssertEqual(Double(out[flat: r * o + c]), s, accuracy: 1e-5)
        } }
    }

    /// Naive attention with padding and causal masks, several heads, a KV index and a query offset.
    func naiveAttention(q: [Float], k: [Float], v: [Float], s: Int, h: Int, dh: Int, tq: Int, tk: Int,
                        kvIndex: [Int], valid: [Float]?, causal: Bool, offset: Int) -> [Float] {
        let c = h * dh
        var out = [Float](repeating: 0, count: s * tq * c)
        for si in 0..<s { for hi in 0..<h { for i in 0..<tq {
            var scores = [Double](repeating: -.infinity, count: tk)
            for j in 0..<tk {
                if let valid, valid[si * tk + j] == 0 { continue }
                if causal && j > offset + i { continue }
                var d = 0.0
                for e in 0..<dh {
                    d += Double(q[(si * tq + i) * c + hi * dh + e]) * Double(k[(kvIndex[si] * tk + j) * c + hi * dh + e])
                }
                scores[j] = d / Double(dh).squareRoot()
            }
            let mx = scores.max()!
            let ex = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - mx) }
            let z = ex.reduce(0, +)
            for e in 0..<dh {
                var acc = 0.0
                for j in 0..<tk { acc += ex[j] / z * Double(v[(kvIndex[si] * tk + j) * c + hi * dh + e]) }
                out[(si * tq + i) * c + hi * dh + e] = Float(acc)
            }
        } } }
        return out
    }

    func checkAttention(causal: Bool, masked: Bool, threads: Int) {
        setEngineThreads(threads)
        defer { setEngineThreads(1) }
        let s = 3, h = 4, dh = 8, tq = 5, tk = 7, c = h * dh, kvBatches = 2
        let q = random(s * tq * c, seed: 10), k = random(kvBatches * tk * c, seed: 11), v = random(kvBatches * tk * c, seed: 12)
        let kvIndex = [1, 0, 1]
        var valid: [Float]? = nil
        if masked { valid = (0..<(s * tk)).map { ($0 % tk) < 4 + ($0 / tk) % 3 ? 1 : 0 } }
        let offset = tk - tq
        let expected = naiveAttention(q: q, k: k, v: v, s: s, h: h, dh: dh, tq: tq, tk: tk, kvIndex: kvIndex,
                                      valid: valid, causal: causal, offset: offset)
        var out = [Float](repeating: .nan, count: s * tq * c)
        var probs = [Float](repeating: .nan, count: s * h * tq * tk)
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
        out.withUnsafeMutableBufferPointer { op in probs.withUnsafeMutableBufferPointer { pp in
            valid.withOptionalPointer { vm in
                attentionForward(
                    AttentionProblem(sequences: s, heads: h, headDim: dh, queryLength: tq, keyLength: tk,
                                     causal: causal, queryOffset: offset),
                    AttentionOperands(q: qp.baseAddress!, ldq: c, k: kp.baseAddress!, v: vp.baseAddress!, ldk: c,
                                      kvStride: tk * c, kvIndex: kvIndex, keyValid: vm, probs: pp.baseAddress!,
                                      out: op.baseAddress!, ldo: c))
            }
        } } } } }
        for i in 0..<out.count { XCTAssertEqual(out[i], expected[i], accuracy: 1e-5, "element \(i)") }
        // Each probability row sums to one.
        for r in 0..<(s * h * tq) {
            let sum = probs[r * tk..<(r + 1) * tk].reduce(0, +)
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
        }
    }

    func testAttentionPlain() { checkAttention(causal: false, masked: false, threads: 1) }
    func testAttentionSingleQueryDirectPath() {
        setEngineThreads(2)
        defer { setEngineThreads(1) }
        let s = 4, h = 2, dh = 20, tk = 9, c = h * dh
        let q = random(s * c, seed: 30), k = random(s * tk * c, seed: 31), v = random(s * tk * c, seed: 32)
        let expected = naiveAttention(q: q, k: k, v: v, s: s, h: h, dh: dh, tq: 1, tk: tk, kvIndex: [0, 1, 2, 3],
                                      valid: nil, causal: true, offset: tk - 1)
        var out = [Float](repeating: .nan, count: s * c)
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
        out.withUnsafeMutableBufferPointer { op in
            attentionForward(
                AttentionProblem(sequences: s, heads: h, headDim: dh, queryLength: 1, keyLength: tk, causal: true, queryOffset: tk - 1),
                AttentionOperands(q: qp.baseAddress!, ldq: c, k: kp.baseAddress!, v: vp.baseAddress!, ldk: c,
                                  kvStride: tk * c, out: op.baseAddress!, ldo: c))
        } } } }
        for i in 0..<out.count { XCTAssertEqual(out[i], expected[i], accuracy: 1e-5) }
    }
    func testAttentionCausalMaskedTwoThreads() { checkAttention(causal: true, masked: true, threads: 2) }
    func testAttentionMaskedTwoThreads() { checkAttention(causal: false, masked: true, threads: 2) }

    /// Concurrent single-threaded sgemm calls (the attention kernel's pattern) give the serial result.
    func testConcurrentGemmIsDeterministic() {
        let n = 256
        let a = random(n * n, seed: 20), b = random(n * n, seed: 21)
        @Sendable func product() -> [Float] {
            let out = Tensor(shape: [0])
            linear(Tensor(shape: [n, n], values: a), weight: Tensor(shape: [n, n], values: b), bias: nil, out: out)
            return out.toArray()
        }
        let reference = product()
        let results = UncheckedSendable(NSMutableArray())
        let lock = NSLock()
        let saved = BLAS.threads
        BLAS.threads = 1
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let r = product()
            lock.lock(); results.value.add(r); lock.unlock()
        }
        BLAS.threads = saved
        for r in results.value { XCTAssertEqual(r as! [Float], reference) }
    }
}

extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
