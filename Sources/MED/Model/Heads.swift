import Tensor

/// BERT's LM prediction head (BlipTextLMPredictionHead): dense -> GELU -> LayerNorm -> decoder + bias.
/// The decoder weight may be the word-embedding tensor itself (tied, as Hugging Face saves it).
public struct LanguageModelHead: @unchecked Sendable {
    public let transform: LinearWeights      // [D, D]
    public let transformNorm: LayerNormWeights
    public let decoder: Tensor               // [V, D]
    public let bias: Tensor                  // [V]
    public var vocabularySize: Int { decoder.dim(0) }

    /// hidden [N, D] -> logits [N, V]
    public func logits(_ hidden: Tensor) -> Tensor {
        let h = Tensor(shape: [0])
        transform(hidden, into: h)
        geluForward(h, out: h)
        transformNorm(h, into: h)
        let out = Tensor(shape: [0])
        linear(h, weight: decoder, bias: bias, out: out)
        return out
    }
}

/// L2-normalises each row of x [N, C] in place (torch.nn.functional.normalize, eps 1e-12).
public func normalizeRows(_ x: Tensor) {
    let c = x.dim(-1), n = x.count / c
    for r in 0..<n {
        let row = x.data + r * c
        var s: Float = 0
        for j in 0..<c { s += row[j] * row[j] }
        let inv = 1 / max(s.squareRoot(), 1e-12)
        for j in 0..<c { row[j] *= inv }
    }
}

/// Rows [N, T, D] -> the first position of each sequence [N, D].
public func firstTokens(_ x: Tensor) -> Tensor {
    let n = x.dim(0), t = x.dim(1), d = x.dim(2)
    let out = Tensor(shape: [n, d])
    for i in 0..<n { (out.data + i * d).update(from: x.data + i * t * d, count: d) }
    return out
}
