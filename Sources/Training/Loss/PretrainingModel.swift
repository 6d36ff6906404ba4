import MED
import Tensor

/// Settings of BLIP's pre-training objectives (BLIP `blip_pretrain.py`, `configs/pretrain.yaml`).
public struct PretrainingConfig: Sendable {
    /// ITC feature queue length (BLIP: 57,600); a multiple of the batch size.
    public var queueSize: Int
    /// Momentum of the momentum encoders.
    public var momentum: Float = 0.995
    /// Label smoothing of the LM loss.
    public var labelSmoothing: Float = 0.1
    /// Temperature is clamped to this range before every step.
    public var temperatureRange: ClosedRange<Float> = 0.001...0.5
    public var encTokenID: Int = 30523
    public var decTokenID: Int = 30522
    public var padTokenID: Int = 0
    /// Leading decoder positions excluded from the LM loss (the prompt when fine-tuning a captioner).
    public var promptLength: Int = 0

    public init(queueSize: Int = 57_600) { self.queueSize = queueSize }

    /// BLIP's ramp of the distillation weight: alpha · min(1, step / (2 · stepsPerEpoch)), i.e.
    /// linear over the first two epochs (`train()` in BLIP's `pretrain.py`).
    public static func rampedAlpha(_ alpha: Float = 0.4, step: Int, stepsPerEpoch: Int) -> Float {
        alpha * min(1, Float(step) / Float(2 * max(1, stepsPerEpoch)))
    }
}

/// BLIP's pre-training model: ViT, a text encoder whose parameters the decoder shares except for
/// self-attention, the ITC projections and temperature, the ITM head, the LM head, and momentum
/// copies of the unimodal encoders with their feature queues.
///
/// Parameter names are the Hugging Face ones: `vision_model.*`, `text_encoder.*`,
/// `text_decoder.bert.encoder.layer.{i}.attention.*` (the decoder's own self-attention),
/// `text_decoder.cls.predictions.*`, `vision_proj`, `text_proj`, `itm_head`, `temp`; the momentum
/// encoders are the same names under `momentum.`.
public final class BlipPretrainingModel: @unchecked Sendable {
    public let config: BlipConfig
    public let settings: PretrainingConfig
    public let vision: TrainableVision
    public let text: TrainableText
    public let visionProjection: LinearParameter   // [P, Dv]
    public let textProjection: LinearParameter     // [P, D]
    public let itmHead: LinearParameter            // [2, D]
    public let lmHead: LanguageModelHeadParameters
    public let temperature: Parameter              // [1]

    /// Momentum encoders (no gradients): vision, text encoder (unimodal), projections.
    public let visionMomentum: TrainableVision
    public let textMomentum: TrainableText
    public let visionProjectionMomentum: LinearParameter
    public let textProjectionMomentum: LinearParameter
    /// Feature queues [Q, P] (rows are normalised features) and the next row to overwrite.
    public let imageQueue: Tensor
    public let textQueue: Tensor
    public private(set) var queuePointer = 0
    /// Image ids of the queued features (retrieval fine-tuning; -100 = none, as BLIP's idx_queue).
    public private(set) var queueIDs: [Int]

    let work = PretrainingWorkspace()

    public init(config: BlipConfig, settings: PretrainingConfig, tiedLMHead: Bool = true) {
        self.config = config
        self.settings = settings
        let dv = config.vision.hiddenSize, d = config.text.hiddenSize, p = config.imageTextHiddenSize
        vision = TrainableVision(config: config.vision)
        text = TrainableText(config: config.text, prefix: "text_encoder", decoderPrefix: "text_decoder.bert")
        visionProjection = LinearParameter("vision_proj", out: p, in: dv)
        textProjection = LinearParameter("text_proj", out: p, in: d)
        itmHead = LinearParameter("itm_head", out: 2, in: d)
        lmHead = LanguageModelHeadParameters(prefix: "text_decoder.cls.predictions", width: d,
                                             vocabulary: config.text.vocabSize, eps: config.text.layerNormEps, tied: tiedLMHead)
        temperature = Parameter("temp", shape: [1], decays: false)
        temperature.value.fill(0.07)
        visionMomentum = TrainableVision(config: config.vision, prefix: "momentum.vision_model")
        textMomentum = TrainableText(config: config.text, prefix: "momentum.text_encoder", crossAttention: false)
        visionProjectionMomentum = LinearParameter("momentum.vision_proj", out: p, in: dv)
        textProjectionMomentum = LinearParameter("momentum.text_proj", out: p, in: d)
        // The momentum encoders follow the model and are never differentiated.
        for m in visionMomentum.parameters + textMomentum.parameters + visionProjectionMomentum.parameters
            + textProjectionMomentum.parameters { m.dropGradient() }
        imageQueue = Tensor(shape: [settings.queueSize, p])
        textQueue = Tensor(shape: [settings.queueSize, p])
        queueIDs = [Int](repeating: -100, count: settings.queueSize)
    }

    /// Every trainable parameter, each once (shared text parameters appear once).
    public var parameters: [Parameter] {
        vision.parameters + text.parameters + visionProjection.parameters + textProjection.parameters
            + itmHead.parameters + lmHead.parameters + [temperature]
    }

    /// The momentum parameters, in the same order as `momentumSources`.
    public var momentumParameters: [Parameter] {
        visionMomentum.parameters + textMomentum.parameters + visionProjectionMomentum.parameters
            + textProjectionMomentum.parameters
    }

    /// The parameters the momentum encoders follow.
    var momentumSources: [Parameter] {
        vision.parameters + textSourcesForMomentum + visionProjection.parameters + textProjection.parameters
    }

    /// The text encoder's unimodal parameters (embeddings, self-attention, feed-forward), in the
    /// order of the momentum text encoder, which has no cross-attention.
    private var textSourcesForMomentum: [Parameter] {
        [text.wordEmbeddings, text.positionEmbeddings] + text.embeddingNorm.parameters + text.layers.flatMap { l in
            l.selfAttention.parameters + l.intermediate.parameters + l.output.parameters + l.outputNorm.parameters
        }
    }

    /// BLIP's `copy_params`: momentum encoders start equal to the model.
    public func copyParametersToMomentum() {
        for (m, p) in zip(momentumParameters, momentumSources) { m.value.copy(from: p.value) }
    }

    /// p_m = m·p_m + (1 − m)·p (BLIP's `_momentum_update`).
    func momentumUpdate() {
        let m = settings.momentum, rest = 1 - m
        for (pm, p) in zip(momentumParameters, momentumSources) {
            let a = pm.value.data, b = p.value.data
            Parallel.forRanges(pm.count, costPerItem: 2) { r in
                for i in r { a[i] = a[i] * m + b[i] * rest }
            }
        }
    }

    public func zeroGradients() { parameters.forEach { $0.zeroGrad() } }

    /// Replaces the queues' contents (rows of normalised features) and pointer, e.g. from a checkpoint or a fixture.
    public func setQueues(image: [Float], text: [Float], pointer: Int = 0, ids: [Int]? = nil) {
        precondition(pointer >= 0 && pointer < settings.queueSize, "queue pointer \(pointer) outside the queue")
        imageQueue.copy(from: image); textQueue.copy(from: text)
        queuePointer = pointer
        if let ids {
            precondition(ids.count == settings.queueSize, "queue ids: one per queue row")
            queueIDs = ids
        }
    }

    func enqueue(imageFeatures: Tensor, textFeatures: Tensor, ids: [Int]?) {
        let b = imageFeatures.dim(0), p = imageFeatures.dim(1), q = settings.queueSize
        precondition(q % b == 0, "queue size \(q) is not a multiple of the batch size \(b)")
        if let ids { for i in 0..<b { queueIDs[queuePointer + i] = ids[i] } }
        (imageQueue.data + queuePointer * p).update(from: imageFeatures.data, count: b * p)
        (textQueue.data + queuePointer * p).update(from: textFeatures.data, count: b * p)
        queuePointer = (queuePointer + b) % q
    }
}

/// Activations and gradient buffers of one pre-training step, sized on first use.
final class PretrainingWorkspace {
    let vision = VisionActivations(), visionMomentum = VisionActivations()
    let textPass = TextActivations(), textMomentumPass = TextActivations()
    let groundedPass = TextActivations(), decoderPass = TextActivations()
    let lm = LanguageModelHeadActivations()
    // ITC
    let imageCLS = Tensor(shape: [0]), imageProjected = Tensor(shape: [0]), imageNorms = Tensor(shape: [0])
    let imageFeatures = Tensor(shape: [0]), textCLS = Tensor(shape: [0]), textProjected = Tensor(shape: [0])
    let textNorms = Tensor(shape: [0]), textFeatures = Tensor(shape: [0])
    let momentumCLS = Tensor(shape: [0]), momentumProjected = Tensor(shape: [0]), momentumNorms = Tensor(shape: [0])
    let imageFeaturesMomentum = Tensor(shape: [0]), textFeaturesMomentum = Tensor(shape: [0])
    let simI2T = Tensor(shape: [0]), simT2I = Tensor(shape: [0]), targetsI2T = Tensor(shape: [0]), targetsT2I = Tensor(shape: [0])
    let dsimI2T = Tensor(shape: [0]), dsimT2I = Tensor(shape: [0])
    let dImageFeatures = Tensor(shape: [0]), dTextFeatures = Tensor(shape: [0]), dProjected = Tensor(shape: [0]), dCLS = Tensor(shape: [0])
    // ITM
    let itmCLS = Tensor(shape: [0]), itmLogits = Tensor(shape: [0]), itmTargets = Tensor(shape: [0])
    let dItmLogits = Tensor(shape: [0]), dItmCLS = Tensor(shape: [0])
    // Gradients of the activations the passes share
    let dImageStates = Tensor(shape: [0]), dText = Tensor(shape: [0])
}
