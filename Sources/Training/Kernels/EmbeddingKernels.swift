// Token and position embeddings (BLIP's BERT has no token-type table) and the ViT's class token
// and position embedding. Lookups forward, scatter-adds backward.

/// out [S·T, C] = word [ids[r], :] + position [r mod T, :]      ids [S·T], word [V, C], position [≥T, C]
func textEmbeddingForward(out: UnsafeMutablePointer<Float>, ids: [Int], tokensPerSequence t: Int,
                          word: UnsafePointer<Float>, position: UnsafePointer<Float>, width c: Int) {
    for (r, id) in ids.enumerated() {
        let o = out + r * c, w = word + id * c, p = position + (r % t) * c
        for j in 0..<c { o[j] = w[j] + p[j] }
    }
}

/// dword [V, C] += scatter of dout rows by ids;  dposition [≥T, C] += Σ_s dout [s, i, :]
func textEmbeddingBackward(dword: UnsafeMutablePointer<Float>, dposition: UnsafeMutablePointer<Float>,
                           dout: UnsafePointer<Float>, ids: [Int], tokensPerSequence t: Int, width c: Int) {
    for (r, id) in ids.enumerated() {
        let d = dout + r * c, w = dword + id * c, p = dposition + (r % t) * c
        for j in 0..<c { w[j] += d[j]; p[j] += d[j] }
    }
}

/// out [B, N+1, C]: row 0 = cls [C] + position [0]; row 1+n = patches [B·N, C] row n + position [1+n]
func visionEmbeddingForward(out: UnsafeMutablePointer<Float>, patches: UnsafePointer<Float>,
                            classToken: UnsafePointer<Float>, position: UnsafePointer<Float>,
                            images b: Int, patchesPerImage n: Int, width c: Int) {
    for bi in 0..<b {
        let ob = out + bi * (n + 1) * c
        for j in 0..<c { ob[j] = classToken[j] + position[j] }
        for r in 0..<n {
            let o = ob + (r + 1) * c, e = patches + (bi * n + r) * c, p = position + (r + 1) * c
            for j in 0..<c { o[j] = e[j] + p[j] }
        }
    }
}

/// dpatches [B·N, C] += dout rows 1..N;  dclass [C] += Σ_b dout [b, 0];  dposition [N+1, C] += Σ_b dout [b]
func visionEmbeddingBackward(dpatches: UnsafeMutablePointer<Float>, dclassToken: UnsafeMutablePointer<Float>,
                             dposition: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                             images b: Int, patchesPerImage n: Int, width c: Int) {
    for bi in 0..<b {
        let db = dout + bi * (n + 1) * c
        for j in 0..<c { dclassToken[j] += db[j]; dposition[j] += db[j] }
        for r in 0..<n {
            let d = db + (r + 1) * c, e = dpatches + (bi * n + r) * c, p = dposition + (r + 1) * c
            for j in 0..<c { e[j] += d[j]; p[j] += d[j] }
        }
    }
}
