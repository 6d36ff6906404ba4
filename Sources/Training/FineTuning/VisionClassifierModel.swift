import Foundation
import MED
import Tensor

/// Image classification with the ViT alone: logits = W · pooled + b over the classes, where pooled
/// is the [CLS] row of the output (after post_layernorm: the row BLIP's ITC projects; transformers'
/// pooler_output applies post_layernorm a second time), trained with softmax cross-entropy. BLIP starts its image encoder from a ViT pre-trained this way on
/// ImageNet; a model trained from scratch can start from one trained here (the pre-training
/// stage's `init_vision_from`).
public final class VisionClassifierTrainingModel: @unchecked Sendable {
    public let config: BlipVisionConfig
    public let vision: TrainableVision
    /// [C, D] + [C], named like timm's and transformers' image-classification heads.
    public let head: LinearParameter
    public let classes: [String]

    let pass = VisionActivations()
    let pooled = Tensor(shape: [0]), logits = Tensor(shape: [0]), dlogits = Tensor(shape: [0])
    let dPooled = Tensor(shape: [0]), dOutput = Tensor(shape: [0])

    public init(config: BlipVisionConfig, classes: [String]) {
        precondition(classes.count >= 2, "a classifier needs at least two classes")
        self.config = config
        self.classes = classes
        vision = TrainableVision(config: config)
        head = LinearParameter("classifier", out: classes.count, in: config.hiddenSize)
    }

    public var parameters: [Parameter] { vision.parameters + head.parameters }

    /// Weights N(0, std²), biases 0, LayerNorm weights 1 (as the pre-training model initialises).
    public func initializeRandomly(seed: UInt64, std: Float = 0.02) {
        Training.initializeRandomly(parameters, seed: seed, std: std)
    }

    public func zeroGradients() { parameters.forEach { $0.zeroGrad() } }

    /// pixels [B, 3, S, S], labels [B] (class indices) -> the mean cross-entropy and how many
    /// rows the logits got right; parameter gradients are added.
    public func forwardBackward(pixels: Tensor, labels: [Int]) -> (loss: Double, correct: Int) {
        let b = pixels.dim(0), t = vision.tokenCount, d = vision.width, c = classes.count
        precondition(labels.count == b && labels.allSatisfy { (0..<c).contains($0) }, "one class index per image")
        vision.forward(pixels: pixels, pass)
        // pooled [B, D] = output[:, 0, :]
        let out = pass.output.data, p = pooled.sized([b, d]).data
        for s in 0..<b { (p + s * d).update(from: out + s * t * d, count: d) }
        linear(head, pooled, into: logits, rows: b)
        var correct = 0
        for s in 0..<b {
            let row = logits.data + s * c
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            if best == labels[s] { correct += 1 }
        }
        let loss = labelSmoothedCrossEntropy(logits: logits.data, labels: labels, vocabulary: c, smoothing: 0,
                                             dlogits: dlogits.sized([b, c]).data)
        linearBack(head, dout: dlogits, input: pooled, dInput: dPooled.zeroed([b, d]), rows: b)
        // dOutput [B, T, D]: the pooled rows' gradient at token 0, zero elsewhere.
        let dOut = dOutput.zeroed([b, t, d]).data, dp = dPooled.data
        for s in 0..<b { (dOut + s * t * d).update(from: dp + s * d, count: d) }
        vision.backward(dOutput: dOutput, pass)
        return (loss, correct)
    }

    /// The ViT's tensors under Hugging Face's `vision_model.` names (what `init_vision_from` reads)
    /// and the head's under `classifier.`.
    public func tensors() -> [(name: String, shape: [Int], values: [Float])] {
        huggingFaceTensors(parameters, vision: vision)
    }
}

extension BlipPretrainingModel {
    /// Replaces the ViT (and its momentum copy) with the `vision_model.*` tensors of `file`: BLIP's
    /// start from an image classifier. The text side keeps its initialisation.
    public func loadVision(from file: SafeTensorsFile) throws {
        try loadParameters(vision.parameters, from: file)
        copyParametersToMomentum()
    }
}
