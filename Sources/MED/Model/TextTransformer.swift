import Tensor

/// The three ways BLIP runs its BERT (paper section 3.1).
public enum TextMode: Sendable {
    /// Unimodal text encoder (ITC): bidirectional self-attention, no cross-attention.
    case textEncoder
    /// Image-grounded text encoder (ITM): bidirectional self-attention plus cross-attention to the image.
    case imageGroundedEncoder
    /// Image-grounded text decoder (LM): causal self-attention plus cross-attention to the image.
    case decoder

    var usesImage: Bool { self != .textEncoder }
    var isCausal: Bool { self == .decoder }
}

/// Post-norm attention block: LayerNorm(dense(attention) + residual).
public struct TextAttentionWeights: @unchecked Sendable {
    /// Self-attention: fused [3D, D] (query, key, value). Cross-attention: query [D, D] only.
    public let query: LinearWeights
    /// Cross-attention only: fused [2D, E] (key, value) applied to the image states.
    public let keyValue: LinearWeights?
    public let outputDense: LinearWeights
    public let outputNorm: LayerNormWeights
}

public struct TextLayerWeights: @unchecked Sendable {
    public let selfAttention: TextAttentionWeights
    public let crossAttention: TextAttentionWeights?
    public let intermediate: LinearWeights   // [I, D]
    public let output: LinearWeights         // [D, I]
    public let outputNorm: LayerNormWeights
}

/// Image keys and values of every cross-attention layer, computed once per batch of images and
/// shared by every sequence (beam, sample) generated for that image.
public final class CrossAttentionCache: @unchecked Sendable {
    /// Per layer, head-major: keys [B, H, Ti, dh] and values [B, H, Ti, dh]. Each (image, head)
    /// block is contiguous, so a decoding step streams it once for all of that image's beams
    /// (with heads interleaved, consecutive keys of one head sit 2D floats apart and every key
    /// is a cache miss).
    let keys: [Tensor]
    let values: [Tensor]
    public let images: Int
    public let imageTokens: Int
    init(keys: [Tensor], values: [Tensor], images: Int, imageTokens: Int) {
        self.keys = keys; self.values = values; self.images = images; self.imageTokens = imageTokens
    }
}

/// Keys and values of past positions for incremental decoding.
public final class SelfAttentionCache: @unchecked Sendable {
    /// Per layer: [S, capacity, 2D] rows, key in columns 0..<D, value in D..<2D.
    var keyValues: [Tensor]
    public private(set) var sequences: Int
    public let capacity: Int
    public internal(set) var length = 0
    let width: Int

    public init(layers: Int, sequences: Int, capacity: Int, width: Int) {
        self.sequences = sequences; self.capacity = capacity; self.width = width
        keyValues = (0..<layers).map { _ in Tensor(shape: [sequences, capacity, 2 * width]) }
    }

    /// Reorders (and possibly resizes) the sequence axis: new sequence i continues old sequence
    /// `source[i]` (beam search keeps the best beams; HF's `_reorder_cache`).
    public func reorder(_ source: [Int]) {
        let row = capacity * 2 * width, used = 2 * width
        for (l, kv) in keyValues.enumerated() {
            let next = Tensor(shape: [source.count, capacity, 2 * width])
            for (i, s) in source.enumerated() {
                for t in 0..<length {
                    (next.data + i * row + t * used).update(from: kv.data + s * row + t * used, count: used)
                }
            }
            keyValues[l] = next
        }
        sequences = source.count
    }
}

/// BLIP's BERT (Hugging Face BlipTextModel without pooler): word + absolute position embeddings,
/// LayerNorm, then post-norm layers of self-attention, optional cross-attention and feed-forward.
public final class TextTransformer: @unchecked Sendable {
    public let config: BlipTextConfig
    public let wordEmbeddings: Tensor      // [V, D]
    public let positionEmbeddings: Tensor  // [P, D]
    public let embeddingNorm: LayerNormWeights
    public let layers: [TextLayerWeights]
    public var width: Int { config.hiddenSize }

    init(config: BlipTextConfig, reader r: WeightReader, prefix: String, withCrossAttention: Bool = true) {
        self.config = config
        let d = config.hiddenSize, e = config.encoderHiddenSize, i = config.intermediateSize
        let eps = config.layerNormEps
        wordEmbeddings = r.tensor("\(prefix).embeddings.word_embeddings.weight", shape: [config.vocabSize, d])
        positionEmbeddings = r.tensor("\(prefix).embeddings.position_embeddings.weight",
                                      shape: [config.maxPositionEmbeddings, d])
        embeddingNorm = r.layerNorm("\(prefix).embeddings.LayerNorm", width: d, eps: eps)
        layers = (0..<config.numHiddenLayers).map { l in
            let lp = "\(prefix).encoder.layer.\(l)"
            let selfAttention = TextAttentionWeights(
                query: r.fusedLinear(["\(lp).attention.self.query", "\(lp).attention.self.key",
                                      "\(lp).attention.self.value"], out: d, in: d),
                keyValue: nil,
                outputDense: r.linear("\(lp).attention.output.dense", out: d, in: d),
                outputNorm: r.layerNorm("\(lp).attention.output.LayerNorm", width: d, eps: eps))
            var cross: TextAttentionWeights?
            if withCrossAttention {
                cross = TextAttentionWeights(
                    query: r.linear("\(lp).crossattention.self.query", out: d, in: d),
                    keyValue: r.fusedLinear(["\(lp).crossattention.self.key", "\(lp).crossattention.self.value"],
                                            out: d, in: e),
                    outputDense: r.linear("\(lp).crossattention.output.dense", out: d, in: d),
                    outputNorm: r.layerNorm("\(lp).crossattention.output.LayerNorm", width: d, eps: eps))
            }
            return TextLayerWeights(
                selfAttention: selfAttention, crossAttention: cross,
                intermediate: r.linear("\(lp).intermediate.dense", out: i, in: d),
                output: r.linear("\(lp).output.dense", out: d, in: i),
                outputNorm: r.layerNorm("\(lp).output.LayerNorm", width: d, eps: eps))
        }
    }

    /// Image keys/values for every layer. imageStates [B, Ti, E] -> per layer keys and values
    /// [B, H, Ti, dh] each.
    public func crossAttentionCache(imageStates: Tensor) -> CrossAttentionCache {
        let b = imageStates.dim(0), ti = imageStates.dim(1)
        let d = width, heads = config.numAttentionHeads, dh = d / heads
        let kv = Tensor(shape: [0])
        var keys: [Tensor] = [], values: [Tensor] = []
        for layer in layers {
            guard let kvw = layer.crossAttention?.keyValue else {
                preconditionFailure("this text model has no cross-attention weights")
            }
            kvw(imageStates, into: kv)                               // [B·Ti, 2D]
            let k = Tensor(shape: [b, heads, ti, dh]), v = Tensor(shape: [b, heads, ti, dh])
            // [B, Ti, (k|v), H, dh] -> [B, H, Ti, dh]
            for bi in 0..<b { for t in 0..<ti {
                let row = kv.data + (bi * ti + t) * 2 * d
                for h in 0..<heads {
                    let at = ((bi * heads + h) * ti + t) * dh
                    (k.data + at).update(from: row + h * dh, count: dh)
                    (v.data + at).update(from: row + d + h * dh, count: dh)
                }
            } }
            keys.append(k); values.append(v)
        }
        return CrossAttentionCache(keys: keys, values: values, images: b, imageTokens: ti)
    }

    final class Workspace {
        let x = Tensor(shape: [0]), h = Tensor(shape: [0]), qkv = Tensor(shape: [0])
        let context = Tensor(shape: [0]), projected = Tensor(shape: [0]), hidden = Tensor(shape: [0])
    }
    private let workspace = Workspace()

    /// Runs S sequences of T new tokens.
    ///   ids [S·T] row-major; keyValid [S, past + T] (1 = real token, 0 = padding), nil = all real;
    ///   cross: image keys/values (required unless mode == .textEncoder), imageIndex[s] = the image of sequence s
    ///   (default s); cache: past keys/values for incremental decoding (positions continue from cache.length).
    /// Returns hidden states [S, T, D]. Not reentrant per instance.
    public func forward(
        ids: [Int], sequences s: Int, mode: TextMode, keyValid: [Float]? = nil,
        cross: CrossAttentionCache? = nil, imageIndex: [Int]? = nil, cache: SelfAttentionCache? = nil
    ) -> Tensor {
        precondition(s > 0 && ids.count % s == 0, "text: \(ids.count) ids do not split into \(s) sequences")
        let t = ids.count / s, d = width, heads = config.numAttentionHeads, dh = d / heads
        let past = cache?.length ?? 0
        precondition(past + t <= config.maxPositionEmbeddings,
                     "text: sequence of \(past + t) tokens exceeds max_position_embeddings \(config.maxPositionEmbeddings)")
        precondition(!mode.usesImage || cross != nil, "text: mode \(mode) needs image states")
        if let cache { precondition(cache.sequences == s && past + t <= cache.capacity, "text: cache does not fit") }
        let ws = workspace, x = ws.x

        // Embeddings: word[id] + position[past + i], then LayerNorm.
        embeddingForward(table: wordEmbeddings, ids: ids, out: x)
        for si in 0..<s { for i in 0..<t {
            let row = x.data + (si * t + i) * d, pos = positionEmbeddings.data + (past + i) * d
            for j in 0..<d { row[j] += pos[j] }
        } }
        x.resize([s, t, d])
        embeddingNorm(x, into: x)

        if let keyValid { precondition(keyValid.count == s * (past + t), "text: keyValid must be [S, \(past + t)]") }
        for (l, layer) in layers.enumerated() {
            // Self-attention over past (cached) and new positions.
            layer.selfAttention.query(x, into: ws.qkv)                    // [S·T, 3D]
            ws.context.resize([s, t, d])
            let problem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t,
                                           keyLength: past + t, causal: mode.isCausal, queryOffset: past)
            keyValid.withOptionalBuffer { valid in
                if let cache {
                    let kv = cache.keyValues[l], cap = cache.capacity
                    for si in 0..<s { for i in 0..<t {
                        (kv.data + (si * cap + past + i) * 2 * d)
                            .update(from: ws.qkv.data + (si * t + i) * 3 * d + d, count: 2 * d)
                    } }
                    attentionForward(problem, AttentionOperands(
                        q: ws.qkv.data, ldq: 3 * d, k: kv.data, v: kv.data + d, ldk: 2 * d,
                        kvStride: cap * 2 * d, keyValid: valid, out: ws.context.data, ldo: d))
                } else {
                    attentionForward(problem, AttentionOperands(
                        q: ws.qkv.data, ldq: 3 * d, k: ws.qkv.data + d, v: ws.qkv.data + 2 * d, ldk: 3 * d,
                        kvStride: t * 3 * d, keyValid: valid, out: ws.context.data, ldo: d))
                }
            }
            layer.selfAttention.outputDense(ws.context, into: ws.projected)
            add(ws.projected, x, out: x)
            layer.selfAttention.outputNorm(x, into: x)

            if mode.usesImage, let cross, let crossWeights = layer.crossAttention {
                crossWeights.query(x, into: ws.qkv)                      // [S·T, D]
                let ti = cross.imageTokens
                let problem = AttentionProblem(sequences: s, heads: heads, headDim: dh, queryLength: t, keyLength: ti)
                attentionForward(problem, AttentionOperands(
                    q: ws.qkv.data, ldq: d, k: cross.keys[l].data, v: cross.values[l].data, ldk: dh,
                    kvStride: heads * ti * dh, headStride: ti * dh,
                    kvIndex: imageIndex ?? (s == cross.images ? nil : Array(0..<s)),
                    out: ws.context.data, ldo: d))
                crossWeights.outputDense(ws.context, into: ws.projected)
                add(ws.projected, x, out: x)
                crossWeights.outputNorm(x, into: x)
            }

            layer.intermediate(x, into: ws.hidden)
            geluForward(ws.hidden, out: ws.hidden)
            layer.output(ws.hidden, into: ws.projected)
            add(ws.projected, x, out: x)
            layer.outputNorm(x, into: x)
        }
        cache?.length = past + t
        let out = Tensor(shape: [s, t, d])
        out.copy(from: x)
        return out
    }
}

extension Optional where Wrapped == [Float] {
    /// Runs `body` with a pointer to the array's storage, or nil.
    func withOptionalBuffer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
