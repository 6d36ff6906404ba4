import Tensor

// Exact (erf) GELU, as BERT and the ViT use it: gelu(x) = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)).
// Both directions run the engine's dispatched kernels, in chunks of 16 floats so that a worker
// boundary never splits a vector.

/// out [N] = gelu(x [N]); the engine's vectorised kernel.
func geluForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count n: Int) {
    Parallel.forRanges(n / 16 + 1, costPerItem: 64) { r in
        let lo = r.lowerBound * 16, hi = min(n, r.upperBound * 16)
        if lo < hi { geluKernel(x + lo, out + lo, hi - lo) }
    }
}

/// dx [N] += dout [N] · gelu'(x),  gelu'(x) = Φ(x) + x·φ(x),  φ(x) = e^(-x²/2) / √(2π).
func geluBackward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>, count n: Int) {
    Parallel.forRanges(n / 16 + 1, costPerItem: 96) { r in
        let lo = r.lowerBound * 16, hi = min(n, r.upperBound * 16)
        if lo < hi { geluBackwardKernel(x: x + lo, dout: dout + lo, dx: dx + lo, hi - lo) }
    }
}
