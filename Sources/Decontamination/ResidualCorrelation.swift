import Imaging
import Tensor

extension CopySignature {
    /// The correlation of the two residuals over the pixels flat in both, at the best shift of
    /// `other` within `maxShift` pixels each way: 1 for the same pixels, above 0.2 for the demo's
    /// re-encoded, cropped, rescaled or brightened copies, below 0.15 for its look-alikes
    /// (docs/pipeline.md). Where fewer than an eighth of the overlap is flat in both (a busy
    /// photo), every overlapping pixel counts. -1 when either residual's standard deviation is
    /// below `minimumDetail`: no texture, no evidence. Each shift's sums are one call of Tensor's
    /// dispatched `masked_sums` kernel over the 64 x 64 square ([64, padded] planes).
    public func correlation(with other: CopySignature) -> Float {
        let m = Self.maxShift, n = Self.side
        let minimumFlat = Double(n * n / 8)
        var best: Float = -1
        for dy in -m...m {
            for dx in -m...m {
                // Self's square at (m, m); other's at (m + dy, m + dx): other moved by (-dx, -dy).
                var sums = maskedSums(other, otherMask: other.flat, selfMask: flat, dx: dx, dy: dy)
                if sums.count < minimumFlat { sums = maskedSums(other, otherMask: Self.valid, selfMask: Self.valid, dx: dx, dy: dy) }
                let c = sums.correlation
                if c > best { best = c }
            }
        }
        return best
    }

    private func maskedSums(_ other: CopySignature, otherMask: [Float], selfMask: [Float], dx: Int, dy: Int) -> MaskedSums {
        let p = Self.padded, m = Self.maxShift, n = Self.side
        let selfStart = m * p + m, otherStart = (m + dy) * p + m + dx
        let s = residual.withUnsafeBufferPointer { ra in
            selfMask.withUnsafeBufferPointer { ma in
                other.residual.withUnsafeBufferPointer { rb in
                    otherMask.withUnsafeBufferPointer { mb in
                        maskedCorrelationSums(ra.baseAddress! + selfStart, mask: ma.baseAddress! + selfStart, stride: p,
                                              rb.baseAddress! + otherStart, mask: mb.baseAddress! + otherStart, stride: p,
                                              rows: n, cols: n)
                    }
                }
            }
        }
        return MaskedSums(count: s[0], sx: s[1], sy: s[2], sxx: s[3], syy: s[4], sxy: s[5])
    }
}

/// The sums of one shift: Pearson's correlation of the masked pairs.
private struct MaskedSums {
    var count, sx, sy, sxx, syy, sxy: Double

    /// -1 when either side has too little detail.
    var correlation: Float {
        guard count > 1 else { return -1 }
        let vx = sxx - sx * sx / count, vy = syy - sy * sy / count
        let floor = CopySignature.minimumDetail * CopySignature.minimumDetail * count
        guard vx >= floor, vy >= floor, vx > 1e-9, vy > 1e-9 else { return -1 }
        return Float((sxy - sx * sy / count) / (vx * vy).squareRoot())
    }
}
