import Tensor

/// BERT's LM prediction head: dense -> GELU -> LayerNorm -> decoder [V, D] + bias [V]. The decoder
/// weight is either its own parameter or tied to the word embeddings (as Hugging Face saves
/// BlipForConditionalGeneration and as BLIP pre-trains): then its gradient lands in theirs.
public struct LanguageModelHeadParameters: Sendable {
    public let transform: LinearParameter        // [D, D]
    public let transformNorm: LayerNormParameter
    /// nil: tied to the word embeddings.
    public let decoder: Parameter?               // [V, D]
    public let bias: Parameter                   // [V]

    public init(prefix: String, width d: Int, vocabulary v: Int, eps: Float, tied: Bool) {
        transform = LinearParameter("\(prefix).transform.dense", out: d, in: d)
        transformNorm = LayerNormParameter("\(prefix).transform.LayerNorm", width: d, eps: eps)
        decoder = tied ? nil : Parameter("\(prefix).decoder.weight", shape: [v, d], decays: true)
        bias = Parameter("\(prefix).bias", shape: [v], decays: false)
    }

    public var parameters: [Parameter] {
        transform.parameters + transformNorm.parameters + (decoder.map { [$0] } ?? []) + [bias]
    }
}

/// Activations of the LM head for one batch of rows.
final class LanguageModelHeadActivations {
    let dense = Tensor(shape: [0]), gelu = Tensor(shape: [0])
    let norm = Tensor(shape: [0]), mean = Tensor(shape: [0]), rstd = Tensor(shape: [0])
    /// The logits [M, V], then (after `loss`) their gradient in the same memory.
    let logits = Tensor(shape: [0])
    var dlogits: Tensor { logits }
    let dnorm = Tensor(shape: [0]), dgelu = Tensor(shape: [0]), ddense = Tensor(shape: [0])
    /// The rows that have a label, gathered [M, D], and their gradient.
    var kept: [Int] = []
    let gathered = Tensor(shape: [0]), dGathered = Tensor(shape: [0])
}

extension LanguageModelHeadParameters {
    /// hidden [N, D] -> a.logits [N, V]; `tiedWeight` is the word-embedding parameter.
    func forward(hidden: Tensor, rows n: Int, tiedWeight: Parameter, _ a: LanguageModelHeadActivations) {
        let d = transform.outFeatures, w = decoder ?? tiedWeight, v = w.value.dim(0)
        linear(transform, hidden, into: a.dense, rows: n)
        geluForward(out: a.gelu.sized([n, d]).data, x: a.dense.data, count: n * d)
        layerNorm(transformNorm, a.gelu, a.norm.sized([n, d]), a.mean, a.rstd, rows: n)
        linearForward(out: a.logits.sized([n, v]).data, x: a.norm.data, weight: w.value.data, bias: bias.value.data,
                      rows: n, inFeatures: d, outFeatures: v)
    }

    /// dHidden [N, D] += the gradient of the hidden rows given a.dlogits [N, V]; parameter gradients added.
    func backward(hidden: Tensor, rows n: Int, tiedWeight: Parameter, dHidden: Tensor, _ a: LanguageModelHeadActivations) {
        let d = transform.outFeatures, w = decoder ?? tiedWeight, v = w.value.dim(0)
        linearBackward(dx: a.dnorm.zeroed([n, d]).data, dweight: w.grad.data, dbias: bias.grad.data, dout: a.dlogits.data,
                       x: a.norm.data, weight: w.value.data, rows: n, inFeatures: d, outFeatures: v)
        layerNormBack(transformNorm, a.dnorm, a.gelu, a.mean, a.rstd, into: a.dgelu.zeroed([n, d]), rows: n)
        geluBackward(dx: a.ddense.zeroed([n, d]).data, dout: a.dgelu.data, x: a.dense.data, count: n * d)
        linearBack(transform, dout: a.ddense, input: hidden, dInput: dHidden, rows: n)
    }
}

extension LanguageModelHeadParameters {
    /// The label-smoothed LM loss of hidden [N, D] with labels [N] (-100 = ignored). Only rows with
    /// a label go through the head (the vocabulary-wide product is the largest of a step, and
    /// padding, prompt and last positions take no loss); a.dlogits [M, V] (the logits' own memory)
    /// then holds their gradient.
    func loss(hidden: Tensor, labels: [Int], smoothing: Float, tiedWeight: Parameter, _ a: LanguageModelHeadActivations) -> Double {
        let d = transform.inFeatures
        a.kept = labels.indices.filter { labels[$0] != -100 }
        let m = a.kept.count
        if m == 0 { return 0 }
        let g = a.gathered.sized([m, d]).data, h = hidden.data
        for (i, r) in a.kept.enumerated() { (g + i * d).update(from: h + r * d, count: d) }
        forward(hidden: a.gathered, rows: m, tiedWeight: tiedWeight, a)
        // The gradient overwrites the logits (nothing reads them afterwards): a.dlogits is a.logits.
        return labelSmoothedCrossEntropy(logits: a.logits.data, labels: a.kept.map { labels[$0] }, vocabulary: a.logits.dim(1),
                                         smoothing: smoothing, dlogits: a.logits.data)
    }

    /// dHidden [N, D] += the gradient of `loss` (times `weight`); parameter gradients added.
    func lossBackward(dHidden: Tensor, weight: Float, tiedWeight: Parameter, _ a: LanguageModelHeadActivations) {
        let d = transform.inFeatures, m = a.kept.count
        if m == 0 { return }
        if weight != 1 { scale(a.dlogits, by: weight) }
        let dg = a.dGathered.zeroed([m, d])
        backward(hidden: a.gathered, rows: m, tiedWeight: tiedWeight, dHidden: dg, a)
        let out = dHidden.data, src = dg.data
        for (i, r) in a.kept.enumerated() {
            let o = out + r * d, s = src + i * d
            for j in 0..<d { o[j] += s[j] }
        }
    }
}
