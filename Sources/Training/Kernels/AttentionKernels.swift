import Tensor

// Multi-head scaled dot-product attention with heads interleaved in the width (C = H·dh), as the
// engine lays activations out (docs/architecture.md). The forward is the engine's kernel with the
// probabilities kept; the backward walks the same (sequence, head) blocks.

/// Where the operands of one attention call live. Queries of sequence s, position i, head h sit at
/// q + (s·Tq + i)·ldq + h·dh; keys and values of key block b (kvIndex[s], default s), position j,
/// head h at k / v + b·kvStride + j·ldk + h·dh; out like q with ldo.
struct AttentionLayout {
    var ldq: Int
    var ldk: Int
    var kvStride: Int
    var ldo: Int
    /// The key block each sequence reads (cross-attention of several texts to one image); nil = s.
    var kvIndex: [Int]?
}

/// Self-attention:  q, k, v in one fused buffer qkv [S, T, 3C] (q | k | v columns)
/// Cross-attention: q [S, Tq, C], kv [B, Tk, 2C] (k | v columns), sequence s reads block kvIndex[s]
/// keyValid [S, Tk] (1 = attend, 0 = padding) optional; causal: query i sees keys j <= i
/// probs [S, H, Tq, Tk] saved; out [S, Tq, C]
func multiHeadAttentionForward(_ p: AttentionProblem, _ l: AttentionLayout, out: UnsafeMutablePointer<Float>,
                      probs: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                      v: UnsafePointer<Float>, keyValid: UnsafePointer<Float>?) {
    attentionForward(p, AttentionOperands(
        q: q, ldq: l.ldq, k: k, v: v, ldk: l.ldk, kvStride: l.kvStride, kvIndex: l.kvIndex,
        keyValid: keyValid, probs: probs, out: out, ldo: l.ldo))
}

/// Backward of one call of `multiHeadAttentionForward`; gradients are ADDED into dq, dk, dv (same layouts as
/// q, k, v). Per (sequence s, head h), with P = probs[s, h] [Tq, Tk] and scale = 1/√dh:
///   dP [Tq, Tk]  = dout_sh [Tq, dh] · v_sh [Tk, dh]ᵀ
///   dv_sh        += Pᵀ · dout_sh
///   dS           = P ⊙ (dP − rowsum(dP ⊙ P))      (masked keys have P = 0, so dS = 0 there)
///   dq_sh        += scale · dS · k_sh
///   dk_sh        += scale · dSᵀ · q_sh
/// scratch: resized to workers · Tq · Tk floats (kept between calls: no allocation per step).
func multiHeadAttentionBackward(_ p: AttentionProblem, _ l: AttentionLayout,
                       dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                       dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                       q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, scratch: Tensor) {
    let tq = p.queryLength, tk = p.keyLength, dh = p.headDim, heads = p.heads
    let scale = 1 / Float(dh).squareRoot()
    // Sequences that read the same key block write the same dk, dv rows: one work item is a
    // (key block, head) pair and handles all of that block's sequences in order.
    var groups: [[Int]]
    if let index = l.kvIndex {
        var members: [Int: [Int]] = [:]
        for (s, b) in index.enumerated() { members[b, default: []].append(s) }
        groups = members.keys.sorted().map { members[$0]! }
    } else {
        groups = (0..<p.sequences).map { [$0] }
    }
    let items = groups.count * heads
    let workers = max(1, min(Parallel.threads, items))
    scratch.resize([workers * tq * tk])
    let chunk = (items + workers - 1) / workers
    let scratchBase = scratch.data
    Parallel.forRanges(workers, costPerItem: 1 << 20) { ws in
        for w in ws {
            let dP = scratchBase + w * tq * tk
            for item in (w * chunk)..<min(items, (w + 1) * chunk) {
                let group = groups[item / heads], h = item % heads
                for s in group {
                    let b = l.kvIndex?[s] ?? s
                    let pr = probs + (s * heads + h) * tq * tk
                    let qs = q + s * tq * l.ldq + h * dh, dqs = dq + s * tq * l.ldq + h * dh
                    let ks = k + b * l.kvStride + h * dh, dks = dk + b * l.kvStride + h * dh
                    let vs = v + b * l.kvStride + h * dh, dvs = dv + b * l.kvStride + h * dh
                    let dos = dout + s * tq * l.ldo + h * dh
                    BLAS.gemm(transA: false, transB: true, m: tq, n: tk, k: dh, a: dos, lda: l.ldo,
                              b: vs, ldb: l.ldk, beta: 0, c: dP, ldc: tk)
                    BLAS.gemm(transA: true, transB: false, m: tk, n: dh, k: tq, a: pr, lda: tk,
                              b: dos, ldb: l.ldo, beta: 1, c: dvs, ldc: l.ldk)
                    for i in 0..<tq {
                        let prow = pr + i * tk, drow = dP + i * tk
                        var dot: Float = 0
                        for j in 0..<tk { dot += prow[j] * drow[j] }
                        for j in 0..<tk { drow[j] = prow[j] * (drow[j] - dot) }
                    }
                    BLAS.gemm(transA: false, transB: false, m: tq, n: dh, k: tk, alpha: scale, a: dP, lda: tk,
                              b: ks, ldb: l.ldk, beta: 1, c: dqs, ldc: l.ldq)
                    BLAS.gemm(transA: true, transB: false, m: tk, n: dh, k: tq, alpha: scale, a: dP, lda: tk,
                              b: qs, ldb: l.ldq, beta: 1, c: dks, ldc: l.ldk)
                }
            }
        }
    }
}
