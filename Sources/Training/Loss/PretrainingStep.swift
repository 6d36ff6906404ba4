import Foundation
import MED
import Tensor

/// One batch of image-text pairs: pixels [B, 3, S, S]; ids [B·T] tokenised with [CLS] first and
/// padded; attentionMask [B·T] (1 = token, 0 = padding).
public struct PretrainingBatch: @unchecked Sendable {
    public var pixels: Tensor
    public var ids: [Int]
    public var attentionMask: [Float]
    public var size: Int { pixels.dim(0) }

    public init(pixels: Tensor, ids: [Int], attentionMask: [Float]) {
        self.pixels = pixels; self.ids = ids; self.attentionMask = attentionMask
    }
}

/// How ITM finds its hard negatives.
public struct NegativeSource: Sendable {
    enum Kind: Sendable {
        case sampled(seed: UInt64)
        case fixed(imageForText: [Int], textForImage: [Int])
    }

    let kind: Kind

    /// Sampled from the ITC similarities as BLIP does (softmax + 1e-4, own pair excluded), seeded.
    public static func sampled(seed: UInt64) -> NegativeSource { NegativeSource(kind: .sampled(seed: seed)) }

    /// Given: the negative image of each text and the negative text of each image, so that the
    /// parity tests can replay the reference implementation's draws.
    static func fixed(imageForText: [Int], textForImage: [Int]) -> NegativeSource {
        NegativeSource(kind: .fixed(imageForText: imageForText, textForImage: textForImage))
    }
}

/// Which loss terms contribute gradients, and with what weight (all 1 in pre-training).
public struct LossWeights: Sendable {
    public var itc: Float, itm: Float, lm: Float
    public init(itc: Float = 1, itm: Float = 1, lm: Float = 1) { self.itc = itc; self.itm = itm; self.lm = lm }
    public static let all = LossWeights()
}

public struct PretrainingLosses: Sendable {
    public var itc: Double, itm: Double, lm: Double
    public var total: Double { itc + itm + lm }
}

extension BlipPretrainingModel {
    /// Forward and backward of BLIP's three losses on one batch (`blip_pretrain.py` forward):
    /// gradients are ADDED into the parameters' gradient buffers (call `zeroGradients` first).
    /// Also updates the momentum encoders and the feature queues, as the reference does.
    /// alpha: weight of the momentum soft targets (BLIP ramps it to 0.4 over the first two epochs:
    /// `PretrainingConfig.rampedAlpha`).
    ///
    /// imageIDs (retrieval fine-tuning, BLIP's `blip_retrieval.py`): the id of each pair's image.
    /// ITC then counts every pair of the batch or the queue with the same id as a positive (targets
    /// spread evenly over them), and sampled ITM negatives come from the in-batch similarities of
    /// the online features with same-id pairs excluded. Use weights (itc: 1, itm: 1, lm: 0).
    public func forwardBackward(_ batch: PretrainingBatch, alpha: Float, negatives: NegativeSource,
                                weights: LossWeights = .all, imageIDs: [Int]? = nil) -> PretrainingLosses {
        let w = work, b = batch.size, t = batch.ids.count / b
        let dv = vision.width, d = text.width, p = config.imageTextHiddenSize, q = settings.queueSize
        let ti = vision.tokenCount
        precondition(batch.ids.count == b * t && batch.attentionMask.count == b * t, "batch: ids and mask must be [B, T]")

        let range = settings.temperatureRange
        temperature.value[flat: 0] = min(max(temperature.value[flat: 0], range.lowerBound), range.upperBound)
        let temp = temperature.value[flat: 0]

        // ---- unimodal features
        vision.forward(pixels: batch.pixels, w.vision)
        let imageStates = w.vision.output   // [B, Ti, Dv]
        features(states: imageStates, sequences: b, length: ti, width: dv, projection: visionProjection,
                 cls: w.imageCLS, projected: w.imageProjected, norms: w.imageNorms, out: w.imageFeatures)
        text.forward(ids: batch.ids, sequences: b, mode: .textEncoder, keyValid: batch.attentionMask,
                     imageStates: nil, imageIndex: nil, w.textPass)
        features(states: w.textPass.output, sequences: b, length: t, width: d, projection: textProjection,
                 cls: w.textCLS, projected: w.textProjected, norms: w.textNorms, out: w.textFeatures)

        // ---- momentum features (no gradients) and soft targets
        momentumUpdate()
        visionMomentum.forward(pixels: batch.pixels, w.visionMomentum)
        features(states: w.visionMomentum.output, sequences: b, length: ti, width: dv, projection: visionProjectionMomentum,
                 cls: w.momentumCLS, projected: w.momentumProjected, norms: w.momentumNorms, out: w.imageFeaturesMomentum)
        textMomentum.forward(ids: batch.ids, sequences: b, mode: .textEncoder, keyValid: batch.attentionMask,
                             imageStates: nil, imageIndex: nil, w.textMomentumPass)
        features(states: w.textMomentumPass.output, sequences: b, length: t, width: d, projection: textProjectionMomentum,
                 cls: w.momentumCLS, projected: w.momentumProjected, norms: w.momentumNorms, out: w.textFeaturesMomentum)
        // The "all" operands are [momentum features of the batch; queue], used as two blocks (no copy).
        let imageAll = (w.imageFeaturesMomentum, imageQueue), textAll = (w.textFeaturesMomentum, textQueue)
        let n = b + q
        similarities(out: w.targetsI2T, w.imageFeaturesMomentum, textAll, rows: b, columns: n, width: p, temp: temp)
        similarities(out: w.targetsT2I, w.textFeaturesMomentum, imageAll, rows: b, columns: n, width: p, temp: temp)
        if let imageIDs { precondition(imageIDs.count == b, "imageIDs: one per pair") }
        let allIDs = imageIDs.map { $0 + queueIDs }
        softTargets(w.targetsI2T, rows: b, columns: n, alpha: alpha, ids: imageIDs, allIDs: allIDs)
        softTargets(w.targetsT2I, rows: b, columns: n, alpha: alpha, ids: imageIDs, allIDs: allIDs)

        // ---- ITC: image-to-text and text-to-image against momentum features and the queue
        similarities(out: w.simI2T, w.imageFeatures, textAll, rows: b, columns: n, width: p, temp: temp)
        similarities(out: w.simT2I, w.textFeatures, imageAll, rows: b, columns: n, width: p, temp: temp)
        let lossI2T = softTargetCrossEntropy(logits: w.simI2T.data, targets: w.targetsI2T.data, rows: b, classes: n,
                                             dlogits: w.dsimI2T.sized([b, n]).data, scale: 0.5 * weights.itc)
        let lossT2I = softTargetCrossEntropy(logits: w.simT2I.data, targets: w.targetsT2I.data, rows: b, classes: n,
                                             dlogits: w.dsimT2I.sized([b, n]).data, scale: 0.5 * weights.itc)
        let itc = (lossI2T + lossT2I) / 2
        if weights.itc != 0 {
            // Gradients of the online features, taken now: the queue changes below.
            // d feat [B, P] = dsim [B, N] · [batch; queue] [N, P] / temp
            featureGradient(into: w.dImageFeatures, dsim: w.dsimI2T, others: textAll, rows: b, columns: n, width: p, temp: temp)
            featureGradient(into: w.dTextFeatures, dsim: w.dsimT2I, others: imageAll, rows: b, columns: n, width: p, temp: temp)
        }

        let negativePairs = chooseNegatives(negatives, batch: b, columns: n, imageIDs: imageIDs)
        enqueue(imageFeatures: w.imageFeaturesMomentum, textFeatures: w.textFeaturesMomentum, ids: imageIDs)

        // ---- ITM: [ENC] first; B positives, then text b with a negative image, then a negative text with image b
        var encIDs = batch.ids
        for s in 0..<b { encIDs[s * t] = settings.encTokenID }
        var itmIDs = encIDs + encIDs, itmMask = batch.attentionMask + batch.attentionMask
        for s in 0..<b {
            let neg = negativePairs.textForImage[s]
            itmIDs += encIDs[(neg * t)..<((neg + 1) * t)]
            itmMask += batch.attentionMask[(neg * t)..<((neg + 1) * t)]
        }
        let imageIndex = Array(0..<b) + negativePairs.imageForText + Array(0..<b)
        text.forward(ids: itmIDs, sequences: 3 * b, mode: .imageGroundedEncoder, keyValid: itmMask,
                     imageStates: imageStates, imageIndex: imageIndex, w.groundedPass)
        firstTokenForward(out: w.itmCLS.sized([3 * b, d]).data, x: w.groundedPass.output.data, sequences: 3 * b, length: t, width: d)
        linear(itmHead, w.itmCLS, into: w.itmLogits, rows: 3 * b)
        let targets = w.itmTargets.zeroed([3 * b, 2])
        for s in 0..<(3 * b) { targets[flat: 2 * s + (s < b ? 1 : 0)] = 1 }
        let itm = softTargetCrossEntropy(logits: w.itmLogits.data, targets: targets.data, rows: 3 * b, classes: 2,
                                         dlogits: w.dItmLogits.sized([3 * b, 2]).data, scale: weights.itm)

        // ---- LM: [DEC] first; targets are the next tokens, padding and prompt ignored
        var decIDs = batch.ids
        for s in 0..<b { decIDs[s * t] = settings.decTokenID }
        let labels = nextTokenLabels(decIDs, sequences: b, pad: settings.padTokenID, promptLength: settings.promptLength)
        text.forward(ids: decIDs, sequences: b, mode: .decoder, keyValid: batch.attentionMask,
                     imageStates: imageStates, imageIndex: nil, w.decoderPass)
        let lm = lmHead.loss(hidden: w.decoderPass.output, labels: labels, smoothing: settings.labelSmoothing,
                             tiedWeight: text.wordEmbeddings, w.lm)

        // ---- backward, in reverse
        let dImage = w.dImageStates.zeroed([b, ti, dv])
        if weights.lm != 0 {
            let dHidden = w.dText.zeroed([b * t, d])
            lmHead.lossBackward(dHidden: dHidden, weight: weights.lm, tiedWeight: text.wordEmbeddings, w.lm)
            text.backward(dOutput: dHidden, w.decoderPass, dImageStates: dImage)
        }
        if weights.itm != 0 {
            linearBack(itmHead, dout: w.dItmLogits, input: w.itmCLS, dInput: w.dItmCLS.zeroed([3 * b, d]), rows: 3 * b)
            let dHidden = w.dText.zeroed([3 * b * t, d])
            firstTokenBackward(dx: dHidden.data, dout: w.dItmCLS.data, sequences: 3 * b, length: t, width: d)
            text.backward(dOutput: dHidden, w.groundedPass, dImageStates: dImage)
        }
        if weights.itc != 0 {
            // d sim / d temp = −sim / temp, for both directions.
            let g1 = w.dsimI2T.data, s1 = w.simI2T.data, g2 = w.dsimT2I.data, s2 = w.simT2I.data
            let dTemp = -blockSum(b * n) { i in g1[i] * s1[i] + g2[i] * s2[i] }
            temperature.grad[flat: 0] += Float(dTemp / Double(temp))
            featureBackward(dFeatures: w.dImageFeatures, features: w.imageFeatures, norms: w.imageNorms, cls: w.imageCLS,
                            projection: visionProjection, rows: b, width: dv)
            firstTokenBackward(dx: dImage.data, dout: w.dCLS.data, sequences: b, length: ti, width: dv)
            featureBackward(dFeatures: w.dTextFeatures, features: w.textFeatures, norms: w.textNorms, cls: w.textCLS,
                            projection: textProjection, rows: b, width: d)
            let dHidden = w.dText.zeroed([b * t, d])
            firstTokenBackward(dx: dHidden.data, dout: w.dCLS.data, sequences: b, length: t, width: d)
            text.backward(dOutput: dHidden, w.textPass, dImageStates: nil)
        }
        vision.backward(dOutput: dImage, w.vision)
        return PretrainingLosses(itc: itc, itm: itm, lm: lm)
    }

    /// out [S, P] = normalize(projection(states [S, T, C] at position 0)), keeping cls, projected and norms.
    private func features(states: Tensor, sequences s: Int, length t: Int, width c: Int, projection: LinearParameter,
                          cls: Tensor, projected: Tensor, norms: Tensor, out: Tensor) {
        firstTokenForward(out: cls.sized([s, c]).data, x: states.data, sequences: s, length: t, width: c)
        linear(projection, cls, into: projected, rows: s)
        l2NormalizeForward(out: out.sized(projected.shape).data, norms: norms.sized([s]).data, x: projected.data,
                           rows: s, width: projection.outFeatures)
    }

    /// dFeatures [S, P] = dsim [S, N] · [batch [B, P]; queue [N − B, P]] / temp
    private func featureGradient(into dFeatures: Tensor, dsim: Tensor, others: (batch: Tensor, queue: Tensor), rows s: Int,
                                 columns n: Int, width p: Int, temp: Float) {
        let b = others.batch.dim(0), out = dFeatures.sized([s, p]).data
        BLAS.gemm(transA: false, transB: false, m: s, n: p, k: b, alpha: 1 / temp, a: dsim.data, lda: n,
                  b: others.batch.data, ldb: p, beta: 0, c: out, ldc: p)
        BLAS.gemm(transA: false, transB: false, m: s, n: p, k: n - b, alpha: 1 / temp, a: dsim.data + b, lda: n,
                  b: others.queue.data, ldb: p, beta: 1, c: out, ldc: p)
    }

    /// Leaves work.dCLS [S, C] = the gradient of the first-token rows, given dFeatures [S, P] of
    /// features = normalize(projection(cls)).
    private func featureBackward(dFeatures: Tensor, features: Tensor, norms: Tensor, cls: Tensor, projection: LinearParameter,
                                 rows s: Int, width c: Int) {
        let w = work, p = projection.outFeatures
        let dProjected = w.dProjected.zeroed([s, p])
        l2NormalizeBackward(dx: dProjected.data, dout: dFeatures.data, out: features.data, norms: norms.data, rows: s, width: p)
        linearBack(projection, dout: dProjected, input: cls, dInput: w.dCLS.zeroed([s, c]), rows: s)
    }

    /// out [M, N] = a [M, P] · [batch [B, P]; queue [N − B, P]]ᵀ / temp
    private func similarities(out: Tensor, _ a: Tensor, _ all: (batch: Tensor, queue: Tensor), rows m: Int, columns n: Int,
                              width p: Int, temp: Float) {
        let b = all.batch.dim(0), c = out.sized([m, n]).data
        BLAS.gemm(transA: false, transB: true, m: m, n: b, k: p, alpha: 1 / temp, a: a.data, lda: p,
                  b: all.batch.data, ldb: p, beta: 0, c: c, ldc: n)
        BLAS.gemm(transA: false, transB: true, m: m, n: n - b, k: p, alpha: 1 / temp, a: a.data, lda: p,
                  b: all.queue.data, ldb: p, beta: 0, c: c + b, ldc: n)
    }

    /// sim [B, N] -> alpha · softmax(sim) + (1 − alpha) · positives, in place; positives = [j == i],
    /// or with image ids, [allIDs[j] == ids[i]] divided by their count.
    private func softTargets(_ sim: Tensor, rows b: Int, columns n: Int, alpha: Float, ids: [Int]?, allIDs: [Int]?) {
        for i in 0..<b {
            let row = sim.data + i * n
            softmaxRow(row, n)
            if let ids, let allIDs {
                let positives = Float(allIDs.filter { $0 == ids[i] }.count)
                for j in 0..<n { row[j] = alpha * row[j] + (allIDs[j] == ids[i] ? (1 - alpha) / positives : 0) }
            } else {
                for j in 0..<n { row[j] = alpha * row[j] + (j == i ? 1 - alpha : 0) }
            }
        }
    }
}

/// row [N] = softmax(row), in place.
func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
    let sum = expShiftedSum(row, shift: rowMax(row, n), into: row, n)
    let inv = Float(1 / sum)
    for j in 0..<n { row[j] *= inv }
}

/// x *= factor
func scale(_ x: Tensor, by factor: Float) {
    let p = x.data
    for i in 0..<x.count { p[i] *= factor }
}
