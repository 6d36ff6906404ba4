// Selecting the first token of each sequence ([CLS] / [ENC]) for the ITC and ITM heads.

/// out [S, C] = x [S, T, C] at position 0
func firstTokenForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, sequences s: Int, length t: Int, width c: Int) {
    for i in 0..<s { (out + i * c).update(from: x + i * t * c, count: c) }
}

/// dx [S, T, C] at position 0 += dout [S, C]
func firstTokenBackward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, sequences s: Int, length t: Int, width c: Int) {
    for i in 0..<s {
        let d = dx + i * t * c, g = dout + i * c
        for j in 0..<c { d[j] += g[j] }
    }
}
