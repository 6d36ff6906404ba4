import Foundation
import MED
import Tensor

/// Hugging Face model folders (config.json + model.safetensors) to and from the pre-training model:
/// BlipForImageTextRetrieval (the filter: ViT, text encoder, ITC projections, ITM head) and
/// BlipForConditionalGeneration (the captioner: ViT, decoder = the shared text parameters with the
/// decoder's own self-attention, LM head with its decoder weight tied to the word embeddings).
extension BlipPretrainingModel {
    /// Tensors of BlipForImageTextRetrieval, in Hugging Face names and shapes.
    public func retrievalTensors() -> [(name: String, shape: [Int], values: [Float])] {
        let encoder = text.parameters.filter { !$0.parts[0].hasPrefix("text_decoder.") }
        return exported(vision.parameters + encoder + visionProjection.parameters + textProjection.parameters
                        + itmHead.parameters) { $0 }
    }

    /// Tensors of BlipForConditionalGeneration: the text encoder's parameters under text_decoder.bert,
    /// with the decoder's self-attention instead of the encoder's.
    public func captionerTensors() -> [(name: String, shape: [Int], values: [Float])] {
        let decoderText = [text.wordEmbeddings, text.positionEmbeddings] + text.embeddingNorm.parameters
            + text.layers.flatMap { l in
                (l.decoderSelfAttention ?? l.selfAttention).parameters + (l.crossAttention?.parameters ?? [])
                    + l.intermediate.parameters + l.output.parameters + l.outputNorm.parameters
            }
        return exported(vision.parameters + decoderText + lmHead.parameters, rename: Self.captionerName)
    }

    /// Writes both folders (each config.json + model.safetensors); the captioner only when given.
    public func save(retrievalFolder: URL, captionerFolder: URL?) throws {
        var folders = [(retrievalFolder, "BlipForImageTextRetrieval", retrievalTensors())]
        if let captionerFolder { folders.append((captionerFolder, "BlipForConditionalGeneration", captionerTensors())) }
        for (folder, architecture, tensors) in folders {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var c = config
            c.architectures = [architecture]
            try c.jsonData().write(to: folder.appendingPathComponent("config.json"), options: .atomic)
            try SafeTensorsWriter.write(tensors, to: folder.appendingPathComponent("model.safetensors"))
        }
    }

    /// Loads the model from a retrieval checkpoint (ViT, text encoder, projections, ITM head) and,
    /// if given, a captioner checkpoint (the decoder's self-attention and the LM head). Without a
    /// captioner, the decoder's self-attention starts as a copy of the encoder's. The momentum
    /// encoders are set equal to the model (BLIP's `copy_params`).
    public func loadPretrained(retrieval: SafeTensorsFile, captioner: SafeTensorsFile?) throws {
        let decoderOwn = text.layers.compactMap(\.decoderSelfAttention).flatMap(\.parameters)
        let decoderIDs = Set(decoderOwn.map(ObjectIdentifier.init))
        let lmIDs = Set(lmHead.parameters.map(ObjectIdentifier.init))
        let fromRetrieval = parameters.filter {
            !decoderIDs.contains(ObjectIdentifier($0)) && !lmIDs.contains(ObjectIdentifier($0)) && $0 !== temperature
        }
        try loadParameters(fromRetrieval, from: retrieval)
        if let captioner {
            try loadParameters(decoderOwn + lmHead.parameters, from: captioner, rename: Self.captionerName)
        } else {
            for l in text.layers {
                guard let own = l.decoderSelfAttention else { continue }
                for (d, e) in zip(own.parameters, l.selfAttention.parameters) { d.value.copy(from: e.value) }
            }
        }
        copyParametersToMomentum()
    }

    /// Our name -> BlipForConditionalGeneration's: the shared text encoder lives under text_decoder.bert.
    static func captionerName(_ name: String) -> String {
        name.hasPrefix("text_encoder.") ? "text_decoder.bert." + name.dropFirst("text_encoder.".count) : name
    }

    private func exported(_ params: [Parameter], rename: (String) -> String) -> [(name: String, shape: [Int], values: [Float])] {
        huggingFaceTensors(params, vision: vision, rename: rename)
    }
}

/// Parameters as Hugging Face tensors: fused parts split into their names, and the three vision
/// tensors Hugging Face stores in other shapes reshaped.
func huggingFaceTensors(_ params: [Parameter], vision: TrainableVision,
                        rename: (String) -> String = { $0 }) -> [(name: String, shape: [Int], values: [Float])] {
    let d = vision.width, p = vision.config.patchSize, t = vision.tokenCount
    return params.flatMap { param in
        namedValues(param).map { part in
            var shape = param.value.shape
            if param.parts.count > 1 { shape[0] /= param.parts.count }
            if part.name.hasSuffix("embeddings.class_embedding") { shape = [1, 1, d] }
            if part.name.hasSuffix("embeddings.position_embedding") { shape = [1, t, d] }
            if part.name.hasSuffix("embeddings.patch_embedding.weight") { shape = [d, 3, p, p] }
            return (rename(part.name), shape, part.values)
        }
    }
}
