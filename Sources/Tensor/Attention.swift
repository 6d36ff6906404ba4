/// Multi-head scaled dot-product attention over row-major activations, heads interleaved in the
/// width (C = H · dh), exactly as the fused projections produce them, so that no head is copied.
///
///   q   [S, Tq, ·] rows, query i of sequence s at q + (s·Tq + i)·ldq, head h at columns h·dh..
///   k,v [B, Tk, ·] rows, sequence s reads key block kvIndex[s] (default s); key j of head h at
///       k + kvIndex[s]·kvStride + h·headStride + j·ldk. Interleaved heads (the projections'
///       layout): headStride = dh. Head-major blocks [B, H, Tk, dh] (the image cache):
///       headStride = Tk·dh, ldk = dh. A KV cache with spare capacity has kvStride > Tk·ldk.
///   keyValid [S, Tk] (optional, 1 = attend, 0 = padding)
///   causal: query i sits at absolute position queryOffset + i and sees keys j <= that position
///   probs [S, H, Tq, Tk] (optional): the softmax output, kept for the backward pass
///   out [S, Tq, ·] rows, at out + (s·Tq + i)·ldo
///
/// Scores are q·kᵀ / √dh; masked keys get probability exactly 0 (as -inf or -10000 would).
public struct AttentionProblem {
    public var sequences: Int
    public var heads: Int
    public var headDim: Int
    public var queryLength: Int
    public var keyLength: Int
    public var causal = false
    public var queryOffset = 0
    public init(sequences: Int, heads: Int, headDim: Int, queryLength: Int, keyLength: Int,
                causal: Bool = false, queryOffset: Int = 0) {
        self.sequences = sequences; self.heads = heads; self.headDim = headDim
        self.queryLength = queryLength; self.keyLength = keyLength
        self.causal = causal; self.queryOffset = queryOffset
    }
}

package struct AttentionOperands {
    package var q: UnsafePointer<Float>, ldq: Int
    package var k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldk: Int, kvStride: Int
    package var headStride: Int?
    package var kvIndex: [Int]?
    package var keyValid: UnsafePointer<Float>?
    package var probs: UnsafeMutablePointer<Float>?
    package var out: UnsafeMutablePointer<Float>, ldo: Int
    package init(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                 ldk: Int, kvStride: Int, headStride: Int? = nil, kvIndex: [Int]? = nil,
                 keyValid: UnsafePointer<Float>? = nil,
                 probs: UnsafeMutablePointer<Float>? = nil, out: UnsafeMutablePointer<Float>, ldo: Int) {
        self.q = q; self.ldq = ldq; self.k = k; self.v = v; self.ldk = ldk; self.kvStride = kvStride
        self.headStride = headStride
        self.kvIndex = kvIndex; self.keyValid = keyValid; self.probs = probs; self.out = out; self.ldo = ldo
    }
}

package func attentionForward(_ p: AttentionProblem, _ x: AttentionOperands) {
    if p.queryLength == 1, !p.causal, x.keyValid == nil, x.probs == nil, let index = x.kvIndex {
        return sharedKeyAttention(p, x, kvIndex: index)
    }
    let tq = p.queryLength, tk = p.keyLength, dh = p.headDim
    let blocks = p.sequences * p.heads
    let scale = 1 / Float(dh).squareRoot()
    // Each (sequence, head) block is independent: spread blocks over the workers.
    let workers = min(Parallel.threads, blocks)
    // Decoding steps (a query or two per block) are too small for sgemm's call overhead.
    let direct = tq <= 2

    let scratchPerWorker = x.probs == nil ? tq * tk : 0
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratchPerWorker * max(workers, 1)))
    defer { scratch.deallocate() }
    let chunk = (blocks + max(workers, 1) - 1) / max(workers, 1)

    Parallel.forRanges(max(workers, 1), costPerItem: 1 << 20) { ws in
        for w in ws {
            let lo = w * chunk, hi = min(blocks, lo + chunk)
            if lo >= hi { continue }
            for blk in lo..<hi {
                let s = blk / p.heads, h = blk % p.heads
                let kvb = x.kvIndex?[s] ?? s
                let qp = x.q + s * tq * x.ldq + h * dh
                let hs = x.headStride ?? dh
                let kp = x.k + kvb * x.kvStride + h * hs
                let vp = x.v + kvb * x.kvStride + h * hs
                let pr = x.probs.map { $0 + blk * tq * tk } ?? (scratch + w * scratchPerWorker)
                // scores[Tq, Tk] = q_sh[Tq, dh] · k_sh[Tk, dh]^T / √dh
                if direct {
                    for i in 0..<tq { for j in 0..<tk {
                        pr[i * tk + j] = scale * dotProduct(qp + i * x.ldq, kp + j * x.ldk, dh)
                    } }
                } else {
                    BLAS.gemm(transA: false, transB: true, m: tq, n: tk, k: dh, alpha: scale,
                              a: qp, lda: x.ldq, b: kp, ldb: x.ldk, beta: 0, c: pr, ldc: tk)
                }
                let valid = x.keyValid.map { $0 + s * tk }
                for i in 0..<tq {
                    let limit = p.causal ? min(tk, p.queryOffset + i + 1) : tk
                    maskedSoftmaxRow(pr + i * tk, count: tk, visible: limit, valid: valid)
                }
                // out_sh[Tq, dh] = probs[Tq, Tk] · v_sh[Tk, dh]
                let op = x.out + s * tq * x.ldo + h * dh
                if direct {
                    for i in 0..<tq {
                        let o = op + i * x.ldo
                        o.update(repeating: 0, count: dh)
                        for j in 0..<tk {
                            let p = pr[i * tk + j]
                            if p != 0 { axpy(p, vp + j * x.ldk, o, dh) }
                        }
                    }
                } else {
                    BLAS.gemm(transA: false, transB: false, m: tq, n: dh, k: tk,
                              a: pr, lda: tk, b: vp, ldb: x.ldk, beta: 0, c: op, ldc: x.ldo)
                }
            }
        }
    }
}

/// One query per sequence, several sequences reading the same key block (the beams or samples
/// of one image in cross-attention while decoding). Each (key block, head) is processed once for
/// all of its sequences, so the image's keys and values are read from memory once per step
/// instead of once per beam: this loop is bound by memory traffic, not arithmetic.
private func sharedKeyAttention(_ p: AttentionProblem, _ x: AttentionOperands, kvIndex: [Int]) {
    let tk = p.keyLength, dh = p.headDim, heads = p.heads
    let scale = 1 / Float(dh).squareRoot()
    var members: [Int: [Int]] = [:]
    for (s, b) in kvIndex.enumerated() { members[b, default: []].append(s) }
    let groups = members.keys.sorted().map { (block: $0, sequences: members[$0]!) }
    let largest = groups.map(\.sequences.count).max() ?? 0
    let items = groups.count * heads
    let workers = max(1, min(Parallel.threads, items))
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, workers * largest * tk))
    defer { scratch.deallocate() }
    let chunk = (items + workers - 1) / workers
    Parallel.forRanges(workers, costPerItem: 1 << 20) { ws in
        for w in ws {
            let scores = scratch + w * largest * tk          // [members, Tk]
            for item in (w * chunk)..<min(items, (w + 1) * chunk) {
                let group = groups[item / heads], h = item % heads
                let seqs = group.sequences, m = seqs.count
                let hs = x.headStride ?? dh
                let kBase = x.k + group.block * x.kvStride + h * hs
                let vBase = x.v + group.block * x.kvStride + h * hs
                for j in 0..<tk {
                    let kj = kBase + j * x.ldk
                    for (i, s) in seqs.enumerated() {
                        scores[i * tk + j] = scale * dotProduct(x.q + s * x.ldq + h * dh, kj, dh)
                    }
                }
                for i in 0..<m { maskedSoftmaxRow(scores + i * tk, count: tk, visible: tk, valid: nil) }
                for s in seqs { (x.out + s * x.ldo + h * dh).update(repeating: 0, count: dh) }
                for j in 0..<tk {
                    let vj = vBase + j * x.ldk
                    for (i, s) in seqs.enumerated() {
                        axpy(scores[i * tk + j], vj, x.out + s * x.ldo + h * dh, dh)
                    }
                }
            }
        }
    }
}
