import Foundation
import MED
import Tensor

/// Fine-tuning a captioner (BLIP's `blip.py` BLIP_Decoder; Hugging Face BlipForConditionalGeneration):
/// ViT + image-grounded decoder with its own parameters + LM head, trained with the LM loss on
/// [DEC]-first captions, padding and the prompt (e.g. "a picture of ") excluded from the targets.
/// Parameter names are BlipForConditionalGeneration's, so a Hugging Face folder loads directly.
public final class BlipCaptionerTrainingModel: @unchecked Sendable {
    public let config: BlipConfig
    public let vision: TrainableVision
    public let decoder: TrainableText
    public let lmHead: LanguageModelHeadParameters
    /// Label smoothing of the LM loss (BLIP: 0.1).
    public var labelSmoothing: Float

    let visionPass = VisionActivations(), decoderPass = TextActivations(), lm = LanguageModelHeadActivations()
    let dImageStates = Tensor(shape: [0]), dHidden = Tensor(shape: [0])

    public init(config: BlipConfig, tiedLMHead: Bool = true, labelSmoothing: Float = 0.1) {
        self.config = config
        self.labelSmoothing = labelSmoothing
        vision = TrainableVision(config: config.vision)
        decoder = TrainableText(config: config.text, prefix: "text_decoder.bert")
        lmHead = LanguageModelHeadParameters(prefix: "text_decoder.cls.predictions", width: config.text.hiddenSize,
                                             vocabulary: config.text.vocabSize, eps: config.text.layerNormEps, tied: tiedLMHead)
    }

    /// Loads a BlipForConditionalGeneration folder; the LM decoder weight is tied unless the file has its own.
    public convenience init(folder: URL, labelSmoothing: Float = 0.1) throws {
        let files = try ModelFolder(folder)
        let tied = files.weights.shape(of: "text_decoder.cls.predictions.decoder.weight") == nil
        self.init(config: files.config, tiedLMHead: tied, labelSmoothing: labelSmoothing)
        try loadParameters(parameters, from: files.weights)
    }

    public var parameters: [Parameter] { vision.parameters + decoder.parameters + lmHead.parameters }

    public func zeroGradients() { parameters.forEach { $0.zeroGrad() } }

    /// LM loss of one batch (ids [B·T] with [CLS] or [DEC] first, padded; the first token is set to
    /// [DEC]); the first `promptLength` tokens are not predicted. Gradients are added.
    public func forwardBackward(_ batch: PretrainingBatch, promptLength: Int = 0) -> Double {
        let b = batch.size, t = batch.ids.count / b, d = decoder.width
        vision.forward(pixels: batch.pixels, visionPass)
        var ids = batch.ids
        for s in 0..<b { ids[s * t] = config.text.bosTokenID }
        let labels = nextTokenLabels(ids, sequences: b, pad: config.text.padTokenID, promptLength: promptLength)
        decoder.forward(ids: ids, sequences: b, mode: .decoder, keyValid: batch.attentionMask,
                        imageStates: visionPass.output, imageIndex: nil, decoderPass)
        let loss = lmHead.loss(hidden: decoderPass.output, labels: labels, smoothing: labelSmoothing,
                               tiedWeight: decoder.wordEmbeddings, lm)
        lmHead.lossBackward(dHidden: dHidden.zeroed([b * t, d]), weight: 1, tiedWeight: decoder.wordEmbeddings, lm)
        decoder.backward(dOutput: dHidden, decoderPass, dImageStates: dImageStates.zeroed(visionPass.output.shape))
        vision.backward(dOutput: dImageStates, visionPass)
        return loss
    }
}

/// Labels of the LM loss for ids [S·T]: position i predicts token i + 1; padding and the first
/// `promptLength` tokens give -100 (ignored), as does the last position.
func nextTokenLabels(_ ids: [Int], sequences s: Int, pad: Int, promptLength: Int) -> [Int] {
    let t = ids.count / s
    var labels = [Int](repeating: -100, count: ids.count)
    for q in 0..<s { for i in 0..<(t - 1) {
        let next = ids[q * t + i + 1]
        if next != pad && i + 1 >= promptLength { labels[q * t + i] = next }
    } }
    return labels
}
