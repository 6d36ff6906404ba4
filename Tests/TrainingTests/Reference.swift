import Foundation

/// Float64 reference forwards of the kernels, written the plain way, for the finite differences.
enum Reference {
    /// y [N, O] = x [N, I] · w [O, I]ᵀ + b [O]
    static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?, n: Int, i: Int, o: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * o)
        for r in 0..<n { for c in 0..<o {
            var s = b?[c] ?? 0
            for k in 0..<i { s += x[r * i + k] * w[c * i + k] }
            y[r * o + c] = s
        } }
        return y
    }

    static func layerNorm(_ x: [Double], _ w: [Double], _ b: [Double], n: Int, c: Int, eps: Double) -> [Double] {
        var y = x
        for r in 0..<n {
            let row = Array(x[(r * c)..<((r + 1) * c)])
            let mu = row.reduce(0, +) / Double(c)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(c)
            let inv = 1 / (v + eps).squareRoot()
            for j in 0..<c { y[r * c + j] = (row[j] - mu) * inv * w[j] + b[j] }
        }
        return y
    }

    static func gelu(_ x: [Double]) -> [Double] { x.map { $0 * 0.5 * (1 + erf($0 / 2.0.squareRoot())) } }

    /// Attention with interleaved heads: q [S, Tq, C] (row stride ldq, offset qOff), k/v blocks [B, Tk, ·]
    /// (row stride ldk, offsets kOff, vOff); keyValid [S, Tk]; out [S, Tq, C].
    static func attention(q: [Double], ldq: Int, qOff: Int, kv: [Double], ldk: Int, kOff: Int, vOff: Int,
                          s: Int, heads: Int, dh: Int, tq: Int, tk: Int, kvIndex: [Int]?, causal: Bool,
                          keyValid: [Float]?) -> [Double] {
        let c = heads * dh
        var out = [Double](repeating: 0, count: s * tq * c)
        for si in 0..<s {
            let b = kvIndex?[si] ?? si
            for h in 0..<heads { for i in 0..<tq {
                var scores = [Double](repeating: -.infinity, count: tk)
                for j in 0..<tk {
                    if causal && j > i { continue }
                    if let keyValid, keyValid[si * tk + j] == 0 { continue }
                    var d = 0.0
                    for e in 0..<dh {
                        d += q[(si * tq + i) * ldq + qOff + h * dh + e] * kv[(b * tk + j) * ldk + kOff + h * dh + e]
                    }
                    scores[j] = d / Double(dh).squareRoot()
                }
                let mx = scores.max()!
                let ex = scores.map { $0 == -.infinity ? 0 : exp($0 - mx) }
                let z = ex.reduce(0, +)
                for j in 0..<tk where ex[j] != 0 {
                    for e in 0..<dh {
                        out[(si * tq + i) * c + h * dh + e] += ex[j] / z * kv[(b * tk + j) * ldk + vOff + h * dh + e]
                    }
                }
            } }
        }
        return out
    }

    static func l2Normalize(_ x: [Double], n: Int, c: Int) -> [Double] {
        var y = x
        for r in 0..<n {
            let norm = (0..<c).map { x[r * c + $0] * x[r * c + $0] }.reduce(0, +).squareRoot()
            for j in 0..<c { y[r * c + j] = x[r * c + j] / max(norm, 1e-12) }
        }
        return y
    }

    static func logSoftmax(_ z: [Double]) -> [Double] {
        let mx = z.max()!
        let l = mx + log(z.map { exp($0 - mx) }.reduce(0, +))
        return z.map { $0 - l }
    }
}
