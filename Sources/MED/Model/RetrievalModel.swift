import Foundation
import Tensor

/// Which token the image-grounded encoder starts with. Hugging Face's BlipForImageTextRetrieval
/// keeps the tokenizer's [CLS]; BLIP's own retrieval and pre-training code replace it with [ENC].
public enum ITMFirstToken: String, Sendable, CaseIterable { case cls, enc }

/// Hugging Face BlipForImageTextRetrieval: ViT + text encoder (unimodal and image-grounded) +
/// ITC projections + ITM head.
public final class BlipRetrievalModel: @unchecked Sendable {
    public let config: BlipConfig
    public let precision: Precision
    public let vision: VisionTransformer
    public let textEncoder: TextTransformer
    public let visionProjection: LinearWeights   // [P, Dv]
    public let textProjection: LinearWeights     // [P, D]
    public let itmHead: LinearWeights            // [2, D]

    /// `precision` .bf16 stores the linear layers' weights as bfloat16 (products still
    /// accumulate in float32); the patch embedding, norms, biases and embeddings stay float32.
    public convenience init(folder: URL, precision: Precision = .fp32) throws {
        let files = try ModelFolder(folder)
        try self.init(config: files.config, weights: files.weights, precision: precision)
    }

    public convenience init(config: BlipConfig, weights file: SafeTensorsFile, precision: Precision = .fp32) throws {
        try self.init(config: config, reader: WeightReader(file: file, precision: precision))
    }

    /// Every problem of `file` as this model's weights for `config` (missing, misshapen and
    /// unexpected tensors), from the header alone: nothing is read or allocated.
    public static func checkpointProblems(config: BlipConfig, weights file: SafeTensorsFile) -> [String] {
        let r = WeightReader(file: file, checkOnly: true)
        _ = try? BlipRetrievalModel(config: config, reader: r)
        return r.allProblems(ignoring: ignoredTensors)
    }

    /// Tensors a checkpoint may hold that the model does not use.
    static let ignoredTensors: @Sendable (String) -> Bool = { $0.hasSuffix("position_ids") || $0.hasPrefix("text_encoder.pooler.") }

    init(config: BlipConfig, reader r: WeightReader) throws {
        self.config = config
        self.precision = r.precision
        vision = VisionTransformer(config: config.vision, reader: r)
        textEncoder = TextTransformer(config: config.text, reader: r, prefix: "text_encoder")
        let p = config.imageTextHiddenSize
        visionProjection = r.linear("vision_proj", out: p, in: config.vision.hiddenSize)
        textProjection = r.linear("text_proj", out: p, in: config.text.hiddenSize)
        itmHead = r.linear("itm_head", out: 2, in: config.text.hiddenSize)
        try r.finish(ignoring: Self.ignoredTensors)
    }

    public func encodeImages(_ pixels: Tensor) -> Tensor { vision.forward(pixels: pixels) }

    /// Unimodal text hidden states [S, T, D].
    public func textHidden(ids: [Int], sequences: Int, keyValid: [Float]?) -> Tensor {
        textEncoder.forward(ids: ids, sequences: sequences, mode: .textEncoder, keyValid: keyValid)
    }

    /// Image-grounded hidden states [S, T, D]; sequence s attends to image imageIndex[s].
    public func groundedHidden(ids: [Int], sequences: Int, keyValid: [Float]?, imageStates: Tensor,
                               imageIndex: [Int]? = nil, firstToken: ITMFirstToken = .cls) -> Tensor {
        var ids = ids
        if firstToken == .enc {
            let t = ids.count / sequences
            for s in 0..<sequences { ids[s * t] = BertTokenizer.encID }
        }
        let cross = textEncoder.crossAttentionCache(imageStates: imageStates)
        return textEncoder.forward(ids: ids, sequences: sequences, mode: .imageGroundedEncoder,
                                   keyValid: keyValid, cross: cross, imageIndex: imageIndex)
    }

    /// ITM logits [S, 2] from grounded hidden states.
    public func itmLogits(groundedHidden: Tensor) -> Tensor {
        let out = Tensor(shape: [0])
        itmHead(firstTokens(groundedHidden), into: out)
        return out
    }

    /// Normalised ITC features: images [B, P] from image states, texts [S, P] from text hidden states.
    public func imageFeatures(imageStates: Tensor) -> Tensor {
        let out = Tensor(shape: [0])
        visionProjection(firstTokens(imageStates), into: out)
        normalizeRows(out)
        return out
    }

    public func textFeatures(textHidden: Tensor) -> Tensor {
        let out = Tensor(shape: [0])
        textProjection(firstTokens(textHidden), into: out)
        normalizeRows(out)
        return out
    }
}

/// P(match) = softmax(logits)[1] for ITM logits [N, 2].
public func matchProbabilities(_ logits: Tensor) -> [Float] {
    (0..<logits.dim(0)).map { i in
        let a = logits[flat: 2 * i], b = logits[flat: 2 * i + 1]
        let m = max(a, b)
        let ea = expf(a - m), eb = expf(b - m)
        return eb / (ea + eb)
    }
}
