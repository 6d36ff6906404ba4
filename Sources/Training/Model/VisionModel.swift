import MED
import Tensor

/// One pre-norm ViT block's parameters (Hugging Face BlipEncoderLayer).
public struct VisionLayerParameters: Sendable {
    public let norm1: LayerNormParameter
    public let qkv: LinearParameter          // [3D, D]: q rows, then k, then v
    public let projection: LinearParameter   // [D, D]
    public let norm2: LayerNormParameter
    public let fc1: LinearParameter          // [I, D]
    public let fc2: LinearParameter          // [D, I]

    public var parameters: [Parameter] {
        norm1.parameters + qkv.parameters + projection.parameters + norm2.parameters + fc1.parameters + fc2.parameters
    }
}

/// Activations of one ViT forward pass, kept for its backward (llm.c's ActivationTensors).
/// Tensors keep their capacity, so a second step of the same batch size allocates nothing.
final class VisionActivations {
    let patches = Tensor(shape: [0]), patchEmbeddings = Tensor(shape: [0])
    /// streams[0] = embeddings, streams[l + 1] = output of block l; [B·T, D] each.
    var streams: [Tensor] = []
    var layers: [VisionLayerActivations] = []
    let postMean = Tensor(shape: [0]), postRstd = Tensor(shape: [0])
    /// Last hidden state (after post_layernorm) [B, T, D].
    let output = Tensor(shape: [0])
    var images = 0

    func prepare(layers count: Int) {
        while streams.count < count + 1 { streams.append(Tensor(shape: [0])) }
        while layers.count < count { layers.append(VisionLayerActivations()) }
    }
}

final class VisionLayerActivations {
    let norm1 = Tensor(shape: [0]), mean1 = Tensor(shape: [0]), rstd1 = Tensor(shape: [0])
    let qkv = Tensor(shape: [0]), probs = Tensor(shape: [0]), context = Tensor(shape: [0])
    /// input + projection(context): the residual stream between the two halves of the block.
    let mid = Tensor(shape: [0])
    let norm2 = Tensor(shape: [0]), mean2 = Tensor(shape: [0]), rstd2 = Tensor(shape: [0])
    let fc1 = Tensor(shape: [0]), gelu = Tensor(shape: [0])
}

/// Gradient scratch shared by every backward pass of one model (sized by the largest pass).
final class BackwardScratch {
    let dx = Tensor(shape: [0]), dnorm = Tensor(shape: [0]), dsum = Tensor(shape: [0])
    let dqkv = Tensor(shape: [0]), dcontext = Tensor(shape: [0]), dkv = Tensor(shape: [0])
    let dhidden = Tensor(shape: [0]), dgelu = Tensor(shape: [0]), attention = Tensor(shape: [0])
    let temporary = Tensor(shape: [0])
}

extension Tensor {
    /// Resizes to `shape` and sets every element to 0 (gradient buffers that are then added into).
    func zeroed(_ shape: [Int]) -> Tensor { resize(shape); fill(0); return self }
    func sized(_ shape: [Int]) -> Tensor { resize(shape); return self }
}

/// BLIP's ViT with trainable parameters (Hugging Face BlipVisionModel names).
public final class TrainableVision: @unchecked Sendable {
    public let config: BlipVisionConfig
    public let patchEmbedding: LinearParameter   // [D, 3·P·P] (the conv kernel [D, 3, P, P] flattened)
    public let classToken: Parameter             // [D]
    public let positionEmbedding: Parameter      // [N + 1, D]
    public let layers: [VisionLayerParameters]
    public let postNorm: LayerNormParameter
    let scratch = BackwardScratch()

    public var width: Int { config.hiddenSize }
    public var tokenCount: Int { config.gridSize * config.gridSize + 1 }

    public init(config: BlipVisionConfig, prefix: String = "vision_model") {
        self.config = config
        let d = config.hiddenSize, p = config.patchSize, i = config.intermediateSize, eps = config.layerNormEps
        let n = config.gridSize * config.gridSize
        patchEmbedding = LinearParameter("\(prefix).embeddings.patch_embedding", out: d, in: 3 * p * p)
        classToken = Parameter("\(prefix).embeddings.class_embedding", shape: [d], decays: true)
        positionEmbedding = Parameter("\(prefix).embeddings.position_embedding", shape: [n + 1, d], decays: true)
        layers = (0..<config.numHiddenLayers).map { l in
            let lp = "\(prefix).encoder.layers.\(l)"
            return VisionLayerParameters(
                norm1: LayerNormParameter("\(lp).layer_norm1", width: d, eps: eps),
                qkv: LinearParameter("\(lp).self_attn.qkv", out: 3 * d, in: d),
                projection: LinearParameter("\(lp).self_attn.projection", out: d, in: d),
                norm2: LayerNormParameter("\(lp).layer_norm2", width: d, eps: eps),
                fc1: LinearParameter("\(lp).mlp.fc1", out: i, in: d),
                fc2: LinearParameter("\(lp).mlp.fc2", out: d, in: i))
        }
        postNorm = LayerNormParameter("\(prefix).post_layernorm", width: d, eps: eps)
    }

    public var parameters: [Parameter] {
        patchEmbedding.parameters + [classToken, positionEmbedding] + layers.flatMap(\.parameters) + postNorm.parameters
    }

    /// pixels [B, 3, S, S] -> acts.output [B, T, D], keeping what the backward needs.
    func forward(pixels: Tensor, _ a: VisionActivations) {
        let b = pixels.dim(0), s = config.imageSize, p = config.patchSize, g = config.gridSize
        precondition(pixels.shape == [b, 3, s, s], "vision: expected pixels [B, 3, \(s), \(s)], got \(pixels.shape)")
        let d = width, t = tokenCount, k = 3 * p * p, rows = b * t, inner = config.intermediateSize
        let heads = config.numAttentionHeads
        a.images = b
        a.prepare(layers: layers.count)
        im2col(patches: a.patches.sized([b * g * g, k]).data, pixels: pixels.data, images: b, size: s, patch: p)
        linearForward(out: a.patchEmbeddings.sized([b * g * g, d]).data, x: a.patches.data,
                      weight: patchEmbedding.weight.value.data, bias: patchEmbedding.bias!.value.data,
                      rows: b * g * g, inFeatures: k, outFeatures: d)
        visionEmbeddingForward(out: a.streams[0].sized([rows, d]).data, patches: a.patchEmbeddings.data,
                               classToken: classToken.value.data, position: positionEmbedding.value.data,
                               images: b, patchesPerImage: g * g, width: d)
        let problem = AttentionProblem(sequences: b, heads: heads, headDim: d / heads, queryLength: t, keyLength: t)
        let layout = AttentionLayout(ldq: 3 * d, ldk: 3 * d, kvStride: t * 3 * d, ldo: d, kvIndex: nil)
        for (l, w) in layers.enumerated() {
            let x = a.streams[l], la = a.layers[l], out = a.streams[l + 1].sized([rows, d])
            layerNorm(w.norm1, x, la.norm1, la.mean1, la.rstd1, rows: rows)
            linear(w.qkv, la.norm1, into: la.qkv.sized([rows, 3 * d]), rows: rows)
            multiHeadAttentionForward(problem, layout, out: la.context.sized([rows, d]).data,
                                      probs: la.probs.sized([b, heads, t, t]).data,
                                      q: la.qkv.data, k: la.qkv.data + d, v: la.qkv.data + 2 * d, keyValid: nil)
            linear(w.projection, la.context, into: la.mid.sized([rows, d]), rows: rows)
            residualForward(out: la.mid.data, a: la.mid.data, b: x.data, count: rows * d)
            layerNorm(w.norm2, la.mid, la.norm2, la.mean2, la.rstd2, rows: rows)
            linear(w.fc1, la.norm2, into: la.fc1.sized([rows, inner]), rows: rows)
            geluForward(out: la.gelu.sized([rows, inner]).data, x: la.fc1.data, count: rows * inner)
            linear(w.fc2, la.gelu, into: out, rows: rows)
            residualForward(out: out.data, a: out.data, b: la.mid.data, count: rows * d)
        }
        a.output.resize([b, t, d])
        layerNorm(postNorm, a.streams[layers.count], a.output, a.postMean, a.postRstd, rows: rows)
    }

    /// Adds the parameter gradients of the pass `a` given dOutput [B, T, D] (the gradient of acts.output).
    func backward(dOutput: Tensor, _ a: VisionActivations) {
        let b = a.images, g = config.gridSize, p = config.patchSize
        let d = width, t = tokenCount, k = 3 * p * p, rows = b * t, inner = config.intermediateSize
        let heads = config.numAttentionHeads
        let sc = scratch
        let dx = sc.dx.zeroed([rows, d])
        layerNormBack(postNorm, dOutput, a.streams[layers.count], a.postMean, a.postRstd, into: dx, rows: rows)
        let problem = AttentionProblem(sequences: b, heads: heads, headDim: d / heads, queryLength: t, keyLength: t)
        let layout = AttentionLayout(ldq: 3 * d, ldk: 3 * d, kvStride: t * 3 * d, ldo: d, kvIndex: nil)
        for (l, w) in layers.enumerated().reversed() {
            let x = a.streams[l], la = a.layers[l]
            // dx is the gradient of block l's output = mid + fc2(gelu(fc1(norm2(mid)))).
            let dgelu = sc.dgelu.zeroed([rows, inner]), dhidden = sc.dhidden.zeroed([rows, inner])
            linearBack(w.fc2, dout: dx, input: la.gelu, dInput: dgelu, rows: rows)
            geluBackward(dx: dhidden.data, dout: dgelu.data, x: la.fc1.data, count: rows * inner)
            let dnorm = sc.dnorm.zeroed([rows, d])
            linearBack(w.fc1, dout: dhidden, input: la.norm2, dInput: dnorm, rows: rows)
            layerNormBack(w.norm2, dnorm, la.mid, la.mean2, la.rstd2, into: dx, rows: rows)
            // dx is now the gradient of mid = x + projection(attention(norm1(x))).
            let dcontext = sc.dcontext.zeroed([rows, d])
            linearBack(w.projection, dout: dx, input: la.context, dInput: dcontext, rows: rows)
            let dqkv = sc.dqkv.zeroed([rows, 3 * d])
            multiHeadAttentionBackward(problem, layout, dq: dqkv.data, dk: dqkv.data + d, dv: dqkv.data + 2 * d,
                                       dout: dcontext.data, probs: la.probs.data,
                                       q: la.qkv.data, k: la.qkv.data + d, v: la.qkv.data + 2 * d, scratch: sc.attention)
            dnorm.fill(0)
            linearBack(w.qkv, dout: dqkv, input: la.norm1, dInput: dnorm, rows: rows)
            layerNormBack(w.norm1, dnorm, x, la.mean1, la.rstd1, into: dx, rows: rows)
        }
        let dpatches = sc.dnorm.zeroed([b * g * g, d])
        visionEmbeddingBackward(dpatches: dpatches.data, dclassToken: classToken.grad.data,
                                dposition: positionEmbedding.grad.data, dout: dx.data,
                                images: b, patchesPerImage: g * g, width: d)
        linearBackward(dx: nil, dweight: patchEmbedding.weight.grad.data, dbias: patchEmbedding.bias!.grad.data,
                       dout: dpatches.data, x: a.patches.data, weight: patchEmbedding.weight.value.data,
                       rows: b * g * g, inFeatures: k, outFeatures: d)
    }
}

// Tensor-level helpers shared by the models: shapes are [rows, features] throughout.

/// out [rows, O] = x [rows, I] · Wᵀ + b
func linear(_ w: LinearParameter, _ x: Tensor, into out: Tensor, rows: Int) {
    out.resize([rows, w.outFeatures])
    linearForward(out: out.data, x: x.data, weight: w.weight.value.data, bias: w.bias?.value.data,
                  rows: rows, inFeatures: w.inFeatures, outFeatures: w.outFeatures)
}

/// dInput [rows, I] += dout · W (if given); W and b gradients added.
func linearBack(_ w: LinearParameter, dout: Tensor, input: Tensor, dInput: Tensor?, rows: Int) {
    linearBackward(dx: dInput?.data, dweight: w.weight.grad.data, dbias: w.bias?.grad.data, dout: dout.data,
                   x: input.data, weight: w.weight.value.data, rows: rows, inFeatures: w.inFeatures, outFeatures: w.outFeatures)
}

/// out [rows, C] = LayerNorm(x), saving mean and rstd [rows].
func layerNorm(_ w: LayerNormParameter, _ x: Tensor, _ out: Tensor, _ mean: Tensor, _ rstd: Tensor, rows: Int) {
    let c = w.weight.count
    if out.count != rows * c { out.resize([rows, c]) }
    layerNormForward(out: out.data, mean: mean.sized([rows]).data, rstd: rstd.sized([rows]).data, x: x.data,
                     weight: w.weight.value.data, bias: w.bias.value.data, rows: rows, width: c, eps: w.eps)
}

/// into [rows, C] += ∂L/∂x of out = LayerNorm(x) given dout; parameter gradients added.
func layerNormBack(_ w: LayerNormParameter, _ dout: Tensor, _ x: Tensor, _ mean: Tensor, _ rstd: Tensor,
                   into dx: Tensor, rows: Int) {
    layerNormBackward(dx: dx.data, dweight: w.weight.grad.data, dbias: w.bias.grad.data, dout: dout.data, x: x.data,
                      mean: mean.data, rstd: rstd.data, weight: w.weight.value.data, rows: rows, width: w.weight.count)
}
