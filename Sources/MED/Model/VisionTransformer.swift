import Tensor

/// One pre-norm ViT block: x = x + proj(attn(norm1(x))); x = x + fc2(gelu(fc1(norm2(x)))).
public struct VisionLayerWeights: @unchecked Sendable {
    public let norm1: LayerNormWeights
    public let qkv: LinearWeights          // [3D, D]: q rows, then k, then v
    public let projection: LinearWeights   // [D, D]
    public let norm2: LayerNormWeights
    public let fc1: LinearWeights          // [I, D]
    public let fc2: LinearWeights          // [D, I]
}

/// BLIP's image encoder (Hugging Face BlipVisionModel): patch embedding as a strided convolution,
/// a learned class token, learned absolute positions, pre-norm blocks and a final LayerNorm.
public final class VisionTransformer: @unchecked Sendable {
    public let config: BlipVisionConfig
    public let patchWeight: Tensor       // [D, 3·P·P] (the conv kernel [D, 3, P, P] flattened)
    public let patchBias: Tensor         // [D]
    public let classEmbedding: Tensor    // [D]
    public let positionEmbedding: Tensor // [N + 1, D]
    public let layers: [VisionLayerWeights]
    public let postLayerNorm: LayerNormWeights

    public var width: Int { config.hiddenSize }
    public var patchesPerSide: Int { config.imageSize / config.patchSize }
    /// Tokens per image: patches plus the class token.
    public var tokenCount: Int { patchesPerSide * patchesPerSide + 1 }

    init(config: BlipVisionConfig, reader r: WeightReader, prefix: String = "vision_model") {
        self.config = config
        let d = config.hiddenSize, p = config.patchSize, i = config.intermediateSize
        let n = (config.imageSize / p) * (config.imageSize / p)
        patchWeight = r.tensor("\(prefix).embeddings.patch_embedding.weight", shape: [d, 3 * p * p],
                               acceptingShapes: [[d, 3, p, p]])
        patchBias = r.tensor("\(prefix).embeddings.patch_embedding.bias", shape: [d])
        classEmbedding = r.tensor("\(prefix).embeddings.class_embedding", shape: [d], acceptingShapes: [[1, 1, d]])
        positionEmbedding = r.tensor("\(prefix).embeddings.position_embedding", shape: [n + 1, d],
                                     acceptingShapes: [[1, n + 1, d]])
        let eps = config.layerNormEps
        layers = (0..<config.numHiddenLayers).map { l in
            let lp = "\(prefix).encoder.layers.\(l)"
            return VisionLayerWeights(
                norm1: r.layerNorm("\(lp).layer_norm1", width: d, eps: eps),
                qkv: r.linear("\(lp).self_attn.qkv", out: 3 * d, in: d),
                projection: r.linear("\(lp).self_attn.projection", out: d, in: d),
                norm2: r.layerNorm("\(lp).layer_norm2", width: d, eps: eps),
                fc1: r.linear("\(lp).mlp.fc1", out: i, in: d),
                fc2: r.linear("\(lp).mlp.fc2", out: d, in: i))
        }
        postLayerNorm = r.layerNorm("\(prefix).post_layernorm", width: d, eps: eps)
    }

    /// Activation buffers of one forward pass; reused across calls of the same batch size.
    final class Workspace {
        let patches = Tensor(shape: [0]), x = Tensor(shape: [0]), h = Tensor(shape: [0])
        let qkv = Tensor(shape: [0]), context = Tensor(shape: [0]), projected = Tensor(shape: [0])
        let hidden = Tensor(shape: [0])
    }
    private let workspace = Workspace()

    /// pixels [B, 3, S, S] (normalised) -> last hidden state [B, N + 1, D] (after post_layernorm).
    /// Not reentrant: one forward at a time per instance (the workspace is shared).
    public func forward(pixels: Tensor) -> Tensor {
        let b = pixels.dim(0), s = config.imageSize, p = config.patchSize, g = s / p
        precondition(pixels.shape == [b, 3, s, s], "vision: expected pixels [B, 3, \(s), \(s)], got \(pixels.shape)")
        let d = width, t = tokenCount, k = 3 * p * p
        let ws = workspace

        // im2col: patches[b·N + py·g + px, c·P·P + ky·P + kx] = pixels[b, c, py·P + ky, px·P + kx]
        ws.patches.resize([b * g * g, k])
        let src = pixels.data, pat = ws.patches.data
        for bi in 0..<b { for py in 0..<g { for px in 0..<g {
            let row = pat + ((bi * g + py) * g + px) * k
            for c in 0..<3 { for ky in 0..<p {
                (row + (c * p + ky) * p).update(from: src + ((bi * 3 + c) * s + py * p + ky) * s + px * p, count: p)
            } }
        } } }
        ws.h.resize([b * g * g, d])
        linearRaw(pat, rows: b * g * g, inFeatures: k, weight: patchWeight.data, bias: patchBias.data,
                  outFeatures: d, out: ws.h.data)

        // x[b, 0] = class + pos[0]; x[b, 1 + n] = patch_n + pos[1 + n]
        let x = ws.x
        x.resize([b, t, d])
        let pos = positionEmbedding.data, cls = classEmbedding.data
        for bi in 0..<b {
            let xb = x.data + bi * t * d
            for j in 0..<d { xb[j] = cls[j] + pos[j] }
            for n in 0..<(t - 1) {
                let e = ws.h.data + (bi * (t - 1) + n) * d, o = xb + (n + 1) * d, pe = pos + (n + 1) * d
                for j in 0..<d { o[j] = e[j] + pe[j] }
            }
        }

        let heads = config.numAttentionHeads
        let problem = AttentionProblem(sequences: b, heads: heads, headDim: d / heads, queryLength: t, keyLength: t)
        for layer in layers {
            layer.norm1(x, into: ws.h)
            layer.qkv(ws.h, into: ws.qkv)                          // [B·T, 3D]
            ws.context.resize([b, t, d])
            attentionForward(problem, AttentionOperands(
                q: ws.qkv.data, ldq: 3 * d, k: ws.qkv.data + d, v: ws.qkv.data + 2 * d,
                ldk: 3 * d, kvStride: t * 3 * d, out: ws.context.data, ldo: d))
            layer.projection(ws.context, into: ws.projected)
            add(x, ws.projected, out: x)
            layer.norm2(x, into: ws.h)
            layer.fc1(ws.h, into: ws.hidden)                       // [B·T, I]
            geluForward(ws.hidden, out: ws.hidden)
            layer.fc2(ws.hidden, into: ws.projected)
            add(x, ws.projected, out: x)
        }
        let out = Tensor(shape: [b, t, d])
        postLayerNorm(x, into: out)
        return out
    }
}
