import XCTest
@testable import Training
import Tensor

/// Finite-difference checks of the attention backward: self-attention on a fused qkv buffer with
/// causal and padding masks, and cross-attention with several texts reading one image block.
final class AttentionGradientTests: XCTestCase {
    func checkSelfAttention(causal: Bool, threads: Int) {
        var rng = TestRandom(causal ? 11 : 12)
        let s = 2, heads = 2, dh = 3, t = 4, c = heads * dh
        let qkv = rng.array(s * t * 3 * c, scale: 1.5), dout = rng.array(s * t * c)
        let valid: [Float] = [1, 1, 1, 1, 1, 1, 0, 0]   // the second sequence is padded after 2 tokens
        let problem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t, keyLength: t, causal: causal)
        let layout = AttentionLayout(ldq: 3 * c, ldk: 3 * c, kvStride: t * 3 * c, ldo: c, kvIndex: nil)
        let scratch = Tensor(shape: [0])
        let saved = Parallel.threads
        Parallel.threads = threads
        defer { Parallel.threads = saved }
        let got = withBuffers([qkv, dout, [Float](repeating: 0, count: s * t * c),
                               [Float](repeating: 0, count: s * heads * t * t), [Float](repeating: 0, count: qkv.count), valid]) { p in
            multiHeadAttentionForward(problem, layout, out: p[2], probs: p[3], q: p[0], k: p[0] + c, v: p[0] + 2 * c, keyValid: p[5])
            multiHeadAttentionBackward(problem, layout, dq: p[4], dk: p[4] + c, dv: p[4] + 2 * c, dout: p[1], probs: p[3],
                                       q: p[0], k: p[0] + c, v: p[0] + 2 * c, scratch: scratch)
        }
        let ref = { (x: [Double]) in
            Reference.attention(q: x, ldq: 3 * c, qOff: 0, kv: x, ldk: 3 * c, kOff: c, vOff: 2 * c, s: s, heads: heads, dh: dh,
                                tq: t, tk: t, kvIndex: nil, causal: causal, keyValid: valid)
        }
        let name = causal ? "causal self-attention" : "padded self-attention"
        GradientCheck.assertClose(got[2], ref(qkv.doubles), "\(name) forward", tolerance: 1e-5)
        GradientCheck.assertClose(got[4], GradientCheck.numerical(qkv.doubles) { weightedSum(ref($0), dout) }, "\(name) dqkv")
    }

    func testSelfAttentionPadded() { checkSelfAttention(causal: false, threads: 1) }
    func testSelfAttentionCausal() { checkSelfAttention(causal: true, threads: 2) }

    func testCrossAttentionSharedImage() {
        var rng = TestRandom(13)
        let s = 3, b = 2, heads = 2, dh = 4, tq = 3, tk = 5, c = heads * dh
        let index = [1, 0, 1]
        let q = rng.array(s * tq * c, scale: 1.5), kv = rng.array(b * tk * 2 * c, scale: 1.5), dout = rng.array(s * tq * c)
        let problem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: tq, keyLength: tk)
        let layout = AttentionLayout(ldq: c, ldk: 2 * c, kvStride: tk * 2 * c, ldo: c, kvIndex: index)
        let scratch = Tensor(shape: [0])
        let saved = Parallel.threads
        Parallel.threads = 2
        defer { Parallel.threads = saved }
        let got = withBuffers([q, kv, dout, [Float](repeating: 0, count: s * tq * c), [Float](repeating: 0, count: s * heads * tq * tk),
                               [Float](repeating: 0, count: q.count), [Float](repeating: 0, count: kv.count)]) { p in
            multiHeadAttentionForward(problem, layout, out: p[3], probs: p[4], q: p[0], k: p[1], v: p[1] + c, keyValid: nil)
            multiHeadAttentionBackward(problem, layout, dq: p[5], dk: p[6], dv: p[6] + c, dout: p[2], probs: p[4],
                                       q: p[0], k: p[1], v: p[1] + c, scratch: scratch)
        }
        let ref = { (q: [Double], kv: [Double]) in
            Reference.attention(q: q, ldq: c, qOff: 0, kv: kv, ldk: 2 * c, kOff: 0, vOff: c, s: s, heads: heads, dh: dh,
                                tq: tq, tk: tk, kvIndex: index, causal: false, keyValid: nil)
        }
        GradientCheck.assertClose(got[3], ref(q.doubles, kv.doubles), "cross-attention forward", tolerance: 1e-5)
        GradientCheck.assertClose(got[5], GradientCheck.numerical(q.doubles) { weightedSum(ref($0, kv.doubles), dout) }, "cross-attention dq")
        GradientCheck.assertClose(got[6], GradientCheck.numerical(kv.doubles) { weightedSum(ref(q.doubles, $0), dout) }, "cross-attention dkv")
    }
}
