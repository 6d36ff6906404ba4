// The ViT's patch embedding is a convolution with stride = kernel = P, i.e. a linear layer over
// flattened patches: im2col, then `linearForward` / `linearBackward` (weight [C, 3·P·P]).

/// patches [B·G·G, 3·P·P] from pixels [B, 3, S, S], G = S / P:
/// patches [b·G² + py·G + px, c·P² + ky·P + kx] = pixels [b, c, py·P + ky, px·P + kx]
func im2col(patches: UnsafeMutablePointer<Float>, pixels: UnsafePointer<Float>, images b: Int, size s: Int, patch p: Int) {
    let g = s / p, k = 3 * p * p
    for bi in 0..<b { for py in 0..<g { for px in 0..<g {
        let row = patches + ((bi * g + py) * g + px) * k
        for c in 0..<3 { for ky in 0..<p {
            (row + (c * p + ky) * p).update(from: pixels + ((bi * 3 + c) * s + py * p + ky) * s + px * p, count: p)
        } }
    } } }
}

/// dpixels [B, 3, S, S] += the patch gradients [B·G², 3·P·P] put back in place (patches do not overlap).
func col2im(dpixels: UnsafeMutablePointer<Float>, dpatches: UnsafePointer<Float>, images b: Int, size s: Int, patch p: Int) {
    let g = s / p, k = 3 * p * p
    for bi in 0..<b { for py in 0..<g { for px in 0..<g {
        let row = dpatches + ((bi * g + py) * g + px) * k
        for c in 0..<3 { for ky in 0..<p {
            let dst = dpixels + ((bi * 3 + c) * s + py * p + ky) * s + px * p, src = row + (c * p + ky) * p
            for kx in 0..<p { dst[kx] += src[kx] }
        } }
    } } }
}
