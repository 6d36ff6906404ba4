import Tensor

// Residual connections: out = a + b forward; the gradient of out flows unchanged into both.

/// out [N] = a [N] + b [N]   (out may alias a or b)
func residualForward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count n: Int) {
    Parallel.forRanges(n, costPerItem: 1) { r in for i in r { out[i] = a[i] + b[i] } }
}

/// da [N] += dout; db [N] += dout
func residualBackward(da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, count n: Int) {
    accumulate(into: da, dout, count: n)
    accumulate(into: db, dout, count: n)
}

/// y [N] += x [N]
func accumulate(into y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    Parallel.forRanges(n, costPerItem: 1) { r in for i in r { y[i] += x[i] } }
}
