import Foundation
import Tensor

/// Hugging Face BlipForConditionalGeneration: ViT + image-grounded text decoder + LM head.
public final class BlipCaptioningModel: @unchecked Sendable {
    public let config: BlipConfig
    public let precision: Precision
    public let vision: VisionTransformer
    public let decoder: TextTransformer
    public let lmHead: LanguageModelHead

    /// Loads a model folder: config.json + model.safetensors.
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
        _ = try? BlipCaptioningModel(config: config, reader: r)
        return r.allProblems(ignoring: ignoredTensors)
    }

    /// Tensors a checkpoint may hold that the model does not use.
    static let ignoredTensors: @Sendable (String) -> Bool = { $0.hasSuffix("position_ids") }

    init(config: BlipConfig, reader r: WeightReader) throws {
        self.config = config
        self.precision = r.precision
        vision = VisionTransformer(config: config.vision, reader: r)
        decoder = TextTransformer(config: config.text, reader: r, prefix: "text_decoder.bert")
        let d = config.text.hiddenSize, v = config.text.vocabSize
        let p = "text_decoder.cls.predictions"
        // Hugging Face ties decoder.weight to the word embeddings and may omit it from the file.
        let decoderWeight = r.has("\(p).decoder.weight")
            ? r.tensor("\(p).decoder.weight", shape: [v, d]) : decoder.wordEmbeddings
        // Tied or not, the LM head is the largest product of a decoding step; a tied table then
        // serves the embedding lookups from bf16 as well.
        if precision == .bf16 && !r.checkOnly { decoderWeight.storeAsBFloat16() }
        let bias = r.has("\(p).bias") ? r.tensor("\(p).bias", shape: [v]) : r.tensor("\(p).decoder.bias", shape: [v])
        if r.has("\(p).bias") && r.has("\(p).decoder.bias") { _ = r.tensor("\(p).decoder.bias", shape: [v]) }
        lmHead = LanguageModelHead(
            transform: r.linear("\(p).transform.dense", out: d, in: d),
            transformNorm: r.layerNorm("\(p).transform.LayerNorm", width: d, eps: config.text.layerNormEps),
            decoder: decoderWeight, bias: bias)
        try r.finish(ignoring: Self.ignoredTensors)
    }

    /// Image states [B, N+1, Dv] for pixels [B, 3, S, S].
    public func encodeImages(_ pixels: Tensor) -> Tensor { vision.forward(pixels: pixels) }

    /// Teacher-forced decoder pass: ids [B·T] (first token [DEC]), keyValid [B, T] -> hidden [B, T, D].
    public func decoderHidden(ids: [Int], sequences: Int, keyValid: [Float]?, imageStates: Tensor) -> Tensor {
        let cross = decoder.crossAttentionCache(imageStates: imageStates)
        return decoder.forward(ids: ids, sequences: sequences, mode: .decoder, keyValid: keyValid, cross: cross)
    }
}
