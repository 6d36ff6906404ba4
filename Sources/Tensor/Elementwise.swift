internal import CKernels

/// out = a + b (same shape). Used for residual connections; out may alias a or b.
public func add(_ a: Tensor, _ b: Tensor, out: Tensor) {
    precondition(a.count == b.count, "add: \(a.shape) vs \(b.shape)")
    out.resize(a.shape)
    let ap = a.data, bp = b.data, op = out.data
    Parallel.forRanges(a.count, costPerItem: 1) { r in
        Kernels.active.add(ap + r.lowerBound, bp + r.lowerBound, op + r.lowerBound, r.count)
    }
}

/// Embedding lookup: table [V, C], ids [N] -> out [N, C].
public func embeddingForward(table: Tensor, ids: [Int], out: Tensor) {
    let c = table.dim(1), v = table.dim(0)
    out.resize([ids.count, c])
    for (r, id) in ids.enumerated() {
        precondition(id >= 0 && id < v, "embedding: token id \(id) outside vocabulary of \(v)")
        if let half = table.bf16 {
            Kernels.active.bf16_to_f32(half + id * c, out.data + r * c, c)  // a table tied to a bf16 LM head
        } else {
            (out.data + r * c).update(from: table.data + id * c, count: c)
        }
    }
}
