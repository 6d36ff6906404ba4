import MED
import Tensor

/// Post-norm attention block of BLIP's BERT: LayerNorm(dense(attention) + residual).
public struct TextAttentionParameters: Sendable {
    /// Self-attention: query, key, value fused [3D, D]. Cross-attention: query [D, D].
    public let query: LinearParameter
    /// Cross-attention only: key, value fused [2D, E], applied to the image states.
    public let keyValue: LinearParameter?
    public let outputDense: LinearParameter
    public let outputNorm: LayerNormParameter

    init(prefix: String, width d: Int, imageWidth: Int?, eps: Float) {
        if let e = imageWidth {
            query = LinearParameter("\(prefix).self.query", out: d, in: d)
            keyValue = LinearParameter(["\(prefix).self.key", "\(prefix).self.value"], out: d, in: e)
        } else {
            query = LinearParameter(["\(prefix).self.query", "\(prefix).self.key", "\(prefix).self.value"], out: d, in: d)
            keyValue = nil
        }
        outputDense = LinearParameter("\(prefix).output.dense", out: d, in: d)
        outputNorm = LayerNormParameter("\(prefix).output.LayerNorm", width: d, eps: eps)
    }

    public var parameters: [Parameter] {
        query.parameters + (keyValue?.parameters ?? []) + outputDense.parameters + outputNorm.parameters
    }
}

public struct TextLayerParameters: Sendable {
    public let selfAttention: TextAttentionParameters
    /// The decoder's own self-attention when encoder and decoder share everything else (BLIP
    /// pre-training, paper Table 3); nil when the decoder uses `selfAttention`.
    public let decoderSelfAttention: TextAttentionParameters?
    public let crossAttention: TextAttentionParameters?
    public let intermediate: LinearParameter   // [I, D]
    public let output: LinearParameter         // [D, I]
    public let outputNorm: LayerNormParameter

    public var parameters: [Parameter] {
        selfAttention.parameters + (decoderSelfAttention?.parameters ?? []) + (crossAttention?.parameters ?? [])
            + intermediate.parameters + output.parameters + outputNorm.parameters
    }
}

/// Activations of one text pass (one mode, one batch), kept for its backward.
final class TextActivations {
    var ids: [Int] = []
    var sequences = 0, length = 0
    var mode: TextMode = .textEncoder
    var keyValid: [Float]?
    /// Cross-attention: the image states read, how many images, and the image of each sequence.
    var imageStates: Tensor?
    var images = 0, imageTokens = 0
    var imageIndex: [Int]?

    /// keyValid as a tensor, for the attention kernel.
    let keyValidTensor = Tensor(shape: [0])
    let embeddings = Tensor(shape: [0]), embeddingMean = Tensor(shape: [0]), embeddingRstd = Tensor(shape: [0])
    /// streams[0] = LayerNorm(embeddings), streams[l + 1] = output of layer l; [S·T, D].
    var streams: [Tensor] = []
    var layers: [TextLayerActivations] = []
    /// Last hidden state [S·T, D]: the last layer's stream.
    var output: Tensor { streams[streams.count - 1] }

    func prepare(layers count: Int) {
        while streams.count < count + 1 { streams.append(Tensor(shape: [0])) }
        while layers.count < count { layers.append(TextLayerActivations()) }
    }
}

final class TextLayerActivations {
    let qkv = Tensor(shape: [0]), probs = Tensor(shape: [0]), context = Tensor(shape: [0])
    let sum1 = Tensor(shape: [0]), out1 = Tensor(shape: [0]), mean1 = Tensor(shape: [0]), rstd1 = Tensor(shape: [0])
    let crossQuery = Tensor(shape: [0]), crossKeyValue = Tensor(shape: [0]), crossProbs = Tensor(shape: [0])
    let crossContext = Tensor(shape: [0])
    let sum2 = Tensor(shape: [0]), out2 = Tensor(shape: [0]), mean2 = Tensor(shape: [0]), rstd2 = Tensor(shape: [0])
    let fc1 = Tensor(shape: [0]), gelu = Tensor(shape: [0])
    let sum3 = Tensor(shape: [0]), mean3 = Tensor(shape: [0]), rstd3 = Tensor(shape: [0])
}

/// BLIP's BERT with trainable parameters, run in the three modes of the MED.
public final class TrainableText: @unchecked Sendable {
    public let config: BlipTextConfig
    public let wordEmbeddings: Parameter       // [V, D]
    public let positionEmbeddings: Parameter   // [P, D]
    public let embeddingNorm: LayerNormParameter
    public let layers: [TextLayerParameters]
    let scratch = BackwardScratch()

    public var width: Int { config.hiddenSize }

    /// `prefix` names the BERT (e.g. "text_encoder", "text_decoder.bert"); `decoderPrefix`, when
    /// given, adds a separate decoder self-attention per layer under that BERT prefix.
    public init(config: BlipTextConfig, prefix: String, crossAttention: Bool = true, decoderPrefix: String? = nil) {
        self.config = config
        let d = config.hiddenSize, e = config.encoderHiddenSize, i = config.intermediateSize, eps = config.layerNormEps
        wordEmbeddings = Parameter("\(prefix).embeddings.word_embeddings.weight", shape: [config.vocabSize, d], decays: true)
        positionEmbeddings = Parameter("\(prefix).embeddings.position_embeddings.weight",
                                       shape: [config.maxPositionEmbeddings, d], decays: true)
        embeddingNorm = LayerNormParameter("\(prefix).embeddings.LayerNorm", width: d, eps: eps)
        layers = (0..<config.numHiddenLayers).map { l in
            let lp = "\(prefix).encoder.layer.\(l)"
            return TextLayerParameters(
                selfAttention: TextAttentionParameters(prefix: "\(lp).attention", width: d, imageWidth: nil, eps: eps),
                decoderSelfAttention: decoderPrefix.map {
                    TextAttentionParameters(prefix: "\($0).encoder.layer.\(l).attention", width: d, imageWidth: nil, eps: eps)
                },
                crossAttention: crossAttention
                    ? TextAttentionParameters(prefix: "\(lp).crossattention", width: d, imageWidth: e, eps: eps) : nil,
                intermediate: LinearParameter("\(lp).intermediate.dense", out: i, in: d),
                output: LinearParameter("\(lp).output.dense", out: d, in: i),
                outputNorm: LayerNormParameter("\(lp).output.LayerNorm", width: d, eps: eps))
        }
    }

    public var parameters: [Parameter] {
        [wordEmbeddings, positionEmbeddings] + embeddingNorm.parameters + layers.flatMap(\.parameters)
    }

    private func selfAttention(_ layer: TextLayerParameters, _ mode: TextMode) -> TextAttentionParameters {
        mode == .decoder ? (layer.decoderSelfAttention ?? layer.selfAttention) : layer.selfAttention
    }

    /// Runs S sequences of T tokens: ids [S·T]; keyValid [S, T] (nil = no padding);
    /// imageStates [B, Ti, E] for the image-grounded modes, sequence s reading image imageIndex[s]
    /// (default s). Output: a.output [S·T, D].
    func forward(ids: [Int], sequences s: Int, mode: TextMode, keyValid: [Float]?, imageStates: Tensor?,
                 imageIndex: [Int]?, _ a: TextActivations) {
        let t = ids.count / s, d = width, rows = s * t, inner = config.intermediateSize
        let heads = config.numAttentionHeads, dh = d / heads
        precondition(t <= config.maxPositionEmbeddings, "text: \(t) tokens exceed max_position_embeddings")
        let grounded = mode != .textEncoder
        precondition(!grounded || imageStates != nil, "text: mode \(mode) needs image states")
        a.ids = ids; a.sequences = s; a.length = t; a.mode = mode; a.keyValid = keyValid
        a.imageStates = grounded ? imageStates : nil; a.imageIndex = imageIndex
        a.images = imageStates?.dim(0) ?? 0; a.imageTokens = imageStates?.dim(1) ?? 0
        a.prepare(layers: layers.count)

        textEmbeddingForward(out: a.embeddings.sized([rows, d]).data, ids: ids, tokensPerSequence: t,
                             word: wordEmbeddings.value.data, position: positionEmbeddings.value.data, width: d)
        layerNorm(embeddingNorm, a.embeddings, a.streams[0].sized([rows, d]), a.embeddingMean, a.embeddingRstd, rows: rows)

        let problem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t, keyLength: t,
                                       causal: mode == .decoder)
        let layout = AttentionLayout(ldq: 3 * d, ldk: 3 * d, kvStride: t * 3 * d, ldo: d, kvIndex: nil)
        if let keyValid {
            precondition(keyValid.count == rows, "text: keyValid must be [S, T]")
            a.keyValidTensor.resize([rows]); a.keyValidTensor.copy(from: keyValid)
        }
        let valid = keyValid == nil ? nil : a.keyValidTensor
        for (l, w) in layers.enumerated() {
            let x = a.streams[l], la = a.layers[l], sa = selfAttention(w, mode)
            linear(sa.query, x, into: la.qkv, rows: rows)
            multiHeadAttentionForward(problem, layout, out: la.context.sized([rows, d]).data,
                                      probs: la.probs.sized([s, heads, t, t]).data, q: la.qkv.data,
                                      k: la.qkv.data + d, v: la.qkv.data + 2 * d, keyValid: valid?.data)
            linear(sa.outputDense, la.context, into: la.sum1, rows: rows)
            residualForward(out: la.sum1.data, a: la.sum1.data, b: x.data, count: rows * d)
            layerNorm(sa.outputNorm, la.sum1, la.out1, la.mean1, la.rstd1, rows: rows)
            var ffnInput = la.out1
            if grounded, let ca = w.crossAttention, let image = imageStates {
                let b = image.dim(0), ti = image.dim(1)
                linear(ca.query, la.out1, into: la.crossQuery, rows: rows)
                linear(ca.keyValue!, image, into: la.crossKeyValue, rows: b * ti)
                let crossProblem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t, keyLength: ti)
                let crossLayout = AttentionLayout(ldq: d, ldk: 2 * d, kvStride: ti * 2 * d, ldo: d,
                                                  kvIndex: imageIndex ?? (0..<s).map { $0 })
                multiHeadAttentionForward(crossProblem, crossLayout, out: la.crossContext.sized([rows, d]).data,
                                          probs: la.crossProbs.sized([s, heads, t, ti]).data, q: la.crossQuery.data,
                                          k: la.crossKeyValue.data, v: la.crossKeyValue.data + d, keyValid: nil)
                linear(ca.outputDense, la.crossContext, into: la.sum2, rows: rows)
                residualForward(out: la.sum2.data, a: la.sum2.data, b: la.out1.data, count: rows * d)
                layerNorm(ca.outputNorm, la.sum2, la.out2, la.mean2, la.rstd2, rows: rows)
                ffnInput = la.out2
            }
            linear(w.intermediate, ffnInput, into: la.fc1, rows: rows)
            geluForward(out: la.gelu.sized([rows, inner]).data, x: la.fc1.data, count: rows * inner)
            linear(w.output, la.gelu, into: la.sum3, rows: rows)
            residualForward(out: la.sum3.data, a: la.sum3.data, b: ffnInput.data, count: rows * d)
            layerNorm(w.outputNorm, la.sum3, a.streams[l + 1].sized([rows, d]), la.mean3, la.rstd3, rows: rows)
        }
    }

    /// Adds the parameter gradients of pass `a` given dOutput [S·T, D]; the gradient of the image
    /// states it read is added into dImageStates [B, Ti, E] (required for the grounded modes).
    func backward(dOutput: Tensor, _ a: TextActivations, dImageStates: Tensor?) {
        let s = a.sequences, t = a.length, d = width, rows = s * t, inner = config.intermediateSize
        let heads = config.numAttentionHeads, dh = d / heads
        let sc = scratch
        let grounded = a.mode != .textEncoder
        let dx = sc.dx.sized([rows, d])
        dx.copy(from: dOutput)
        let problem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t, keyLength: t,
                                       causal: a.mode == .decoder)
        let layout = AttentionLayout(ldq: 3 * d, ldk: 3 * d, kvStride: t * 3 * d, ldo: d, kvIndex: nil)
        for (l, w) in layers.enumerated().reversed() {
            let x = a.streams[l], la = a.layers[l], sa = selfAttention(w, a.mode)
            let usesCross = grounded && w.crossAttention != nil
            let ffnInput = usesCross ? la.out2 : la.out1
            // Feed-forward: out = LN3(ffnInput + fc2(gelu(fc1(ffnInput)))).
            let dsum = sc.dsum.zeroed([rows, d])
            layerNormBack(w.outputNorm, dx, la.sum3, la.mean3, la.rstd3, into: dsum, rows: rows)
            dx.copy(from: dsum)
            let dgelu = sc.dgelu.zeroed([rows, inner]), dhidden = sc.dhidden.zeroed([rows, inner])
            linearBack(w.output, dout: dsum, input: la.gelu, dInput: dgelu, rows: rows)
            geluBackward(dx: dhidden.data, dout: dgelu.data, x: la.fc1.data, count: rows * inner)
            linearBack(w.intermediate, dout: dhidden, input: ffnInput, dInput: dx, rows: rows)
            // Cross-attention: out2 = LN2(out1 + dense(attention(query(out1), keyValue(image)))).
            if usesCross, let ca = w.crossAttention, let image = a.imageStates, let dImage = dImageStates {
                let b = a.images, ti = a.imageTokens
                dsum.fill(0)
                layerNormBack(ca.outputNorm, dx, la.sum2, la.mean2, la.rstd2, into: dsum, rows: rows)
                dx.copy(from: dsum)
                let dcontext = sc.dcontext.zeroed([rows, d])
                linearBack(ca.outputDense, dout: dsum, input: la.crossContext, dInput: dcontext, rows: rows)
                let dq = sc.dqkv.zeroed([rows, d]), dkv = sc.dkv.zeroed([b * ti, 2 * d])
                let crossProblem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t, keyLength: ti)
                let crossLayout = AttentionLayout(ldq: d, ldk: 2 * d, kvStride: ti * 2 * d, ldo: d,
                                                  kvIndex: a.imageIndex ?? (0..<s).map { $0 })
                multiHeadAttentionBackward(crossProblem, crossLayout, dq: dq.data, dk: dkv.data, dv: dkv.data + d,
                                           dout: dcontext.data, probs: la.crossProbs.data, q: la.crossQuery.data,
                                           k: la.crossKeyValue.data, v: la.crossKeyValue.data + d, scratch: sc.attention)
                linearBack(ca.query, dout: dq, input: la.out1, dInput: dx, rows: rows)
                linearBack(ca.keyValue!, dout: dkv, input: image, dInput: dImage, rows: b * ti)
            }
            // Self-attention: out1 = LN1(x + dense(attention(qkv(x)))).
            dsum.fill(0)
            layerNormBack(sa.outputNorm, dx, la.sum1, la.mean1, la.rstd1, into: dsum, rows: rows)
            dx.copy(from: dsum)
            let dcontext = sc.dcontext.zeroed([rows, d])
            linearBack(sa.outputDense, dout: dsum, input: la.context, dInput: dcontext, rows: rows)
            let dqkv = sc.dqkv.zeroed([rows, 3 * d])
            multiHeadAttentionBackward(problem, layout, dq: dqkv.data, dk: dqkv.data + d, dv: dqkv.data + 2 * d,
                                       dout: dcontext.data, probs: la.probs.data, q: la.qkv.data,
                                       k: la.qkv.data + d, v: la.qkv.data + 2 * d, scratch: sc.attention)
            linearBack(sa.query, dout: dqkv, input: x, dInput: dx, rows: rows)
        }
        let dembeddings = sc.dsum.zeroed([rows, d])
        layerNormBack(embeddingNorm, dx, a.embeddings, a.embeddingMean, a.embeddingRstd, into: dembeddings, rows: rows)
        textEmbeddingBackward(dword: wordEmbeddings.grad.data, dposition: positionEmbeddings.grad.data,
                              dout: dembeddings.data, ids: a.ids, tokensPerSequence: t, width: d)
    }
}
