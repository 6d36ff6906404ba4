// Hugging Face `BlipConfig` (config.json, model_type "blip") for the MED engine.
//
// What transformers does (checked against 5.24): `save_pretrained` writes every field the
// Blip config classes declare, in the top level and inside text_config / vision_config
// (the diff it computes is against the generic PreTrainedConfig, not against the Blip class
// defaults). The Salesforce checkpoints (blip-image-captioning-base, blip-itm-base-coco) ship
// full dicts written by transformers 4.26, which lack only fields added later (label_smoothing,
// text encoder_hidden_size). On load, transformers fills any field absent from the JSON with
// its class default, always.
//
// Decisions:
// - A field absent from text_config, vision_config or the top level takes transformers'
//   class default, as transformers does. These are the class defaults, not BLIP-base's
//   values where they differ: text num_attention_heads is 8 (BLIP-base checkpoints say 12),
//   text layer_norm_eps 1e-12, vision layer_norm_eps 1e-5, vision image_size 384. Every
//   file transformers writes spells these out, so the defaults only matter for hand-written
//   configs, which then load exactly as they would in transformers.
// - text_config or vision_config absent (or null) is an error. transformers would quietly
//   build an all-default sub-config; for a checkpoint that almost always means a wrong or
//   damaged file, and the default text heads (8) would silently mismatch BLIP-base weights.
// - text_config.encoder_hidden_size is type-checked when present but then replaced by
//   vision_config.hidden_size, because BlipConfig.__post_init__ does exactly that.
// - The decoder's caption loss uses text_config.label_smoothing (BlipTextLMHeadModel reads it
//   from the text config); the top-level label_smoothing is kept as `labelSmoothing` too.
// - Integer fields reject floats (768.0) and booleans, as transformers' strict dataclass
//   checks do. Float fields also accept integer literals (transformers rejects `1` for a
//   float field); JSON does not tell the two apart in meaning, and accepting is harmless.
// - Values that transformers accepts but this engine cannot run are errors: non-positive
//   sizes, hidden_size not divisible by num_attention_heads, image_size not divisible by
//   patch_size, hidden_act other than "gelu" (the exact erf form, which is what "gelu" means
//   in transformers), non-square image or patch sizes, null token ids.
// - Unknown keys (dropouts, initializer ranges, legacy generation keys) are ignored.
//
// `jsonData()` writes the modelled fields plus model_type; transformers fills the others with
// its defaults when it loads the file, which is what it would do for the same fields anyway.

import Basics
import Foundation

public struct BlipVisionConfig: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var imageSize: Int
    public var patchSize: Int
    public var layerNormEps: Float
    public var hiddenAct: String

    /// Defaults are transformers' BlipVisionConfig class defaults (which match BLIP-base).
    public init(
        hiddenSize: Int = 768, intermediateSize: Int = 3072, numHiddenLayers: Int = 12,
        numAttentionHeads: Int = 12, imageSize: Int = 384, patchSize: Int = 16,
        layerNormEps: Float = 1e-5, hiddenAct: String = "gelu"
    ) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
    }

    /// transformers' BlipVisionConfig() values.
    public static let transformersDefaults = BlipVisionConfig()

    /// Patches per image side.
    public var gridSize: Int { imageSize / patchSize }
}

public struct BlipTextConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    /// Width of the image features cross-attention reads; always the vision hidden size.
    public var encoderHiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var maxPositionEmbeddings: Int
    public var layerNormEps: Float
    public var hiddenAct: String
    /// First decoder token ([DEC]).
    public var bosTokenID: Int
    /// transformers' eos_token_id (2); captioning stops on `sepTokenID` instead.
    public var eosTokenID: Int
    /// [SEP]: the token generation stops on.
    public var sepTokenID: Int
    public var padTokenID: Int
    /// Label smoothing of the decoder's caption loss.
    public var labelSmoothing: Float

    /// Defaults are transformers' BlipTextConfig class defaults. Note numAttentionHeads 8:
    /// the BLIP-base checkpoints use 12 (see `blipBase`).
    public init(
        vocabSize: Int = 30524, hiddenSize: Int = 768, encoderHiddenSize: Int = 768,
        intermediateSize: Int = 3072, numHiddenLayers: Int = 12, numAttentionHeads: Int = 8,
        maxPositionEmbeddings: Int = 512, layerNormEps: Float = 1e-12, hiddenAct: String = "gelu",
        bosTokenID: Int = 30522, eosTokenID: Int = 2, sepTokenID: Int = 102, padTokenID: Int = 0,
        labelSmoothing: Float = 0
    ) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.encoderHiddenSize = encoderHiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.sepTokenID = sepTokenID
        self.padTokenID = padTokenID
        self.labelSmoothing = labelSmoothing
    }

    /// transformers' BlipTextConfig() values.
    public static let transformersDefaults = BlipTextConfig()

    /// The text side of the Salesforce BLIP-base checkpoints (12 heads).
    public static let blipBase = BlipTextConfig(numAttentionHeads: 12)
}

public struct BlipConfig: Sendable, Equatable {
    /// e.g. ["BlipForConditionalGeneration"] or ["BlipForImageTextRetrieval"]; [] when absent.
    public var architectures: [String]
    public var vision: BlipVisionConfig
    public var text: BlipTextConfig
    /// Width of the retrieval projections (vision_proj / text_proj).
    public var imageTextHiddenSize: Int
    /// Width of the contrastive projections of BlipModel.
    public var projectionDim: Int
    /// Top-level label_smoothing (the caption loss uses `text.labelSmoothing`).
    public var labelSmoothing: Float
    public var logitScaleInitValue: Float

    public init(
        architectures: [String] = [], vision: BlipVisionConfig = BlipVisionConfig(),
        text: BlipTextConfig = BlipTextConfig(), imageTextHiddenSize: Int = 256, projectionDim: Int = 512,
        labelSmoothing: Float = 0, logitScaleInitValue: Float = 2.6592
    ) {
        self.architectures = architectures
        self.vision = vision
        self.text = text
        self.imageTextHiddenSize = imageTextHiddenSize
        self.projectionDim = projectionDim
        self.labelSmoothing = labelSmoothing
        self.logitScaleInitValue = logitScaleInitValue
    }

    /// The Salesforce BLIP-base layout (ViT-B/16 at 384 px, BERT-base text with 12 heads).
    public static func blipBase(architectures: [String]) -> BlipConfig {
        BlipConfig(architectures: architectures, vision: BlipVisionConfig(), text: .blipBase)
    }

    /// A BLIP of the given widths and depths, shaped as BLIP-base is: MLPs 4x as wide as their
    /// layer, the text network cross-attending to the vision width, the bundled BERT vocabulary
    /// with [DEC] and [ENC]. What the training stages, `capfilt pretrain` and the training
    /// benchmark build from their size settings.
    public static func sized(visionWidth: Int, visionLayers: Int, visionHeads: Int, imageSize: Int, patchSize: Int,
                             textWidth: Int, textLayers: Int, textHeads: Int, embedDim: Int) -> BlipConfig {
        let vision = BlipVisionConfig(hiddenSize: visionWidth, intermediateSize: 4 * visionWidth, numHiddenLayers: visionLayers,
                                      numAttentionHeads: visionHeads, imageSize: imageSize, patchSize: patchSize)
        let text = BlipTextConfig(hiddenSize: textWidth, encoderHiddenSize: visionWidth,
                                  intermediateSize: 4 * textWidth, numHiddenLayers: textLayers, numAttentionHeads: textHeads)
        return BlipConfig(vision: vision, text: text, imageTextHiddenSize: embedDim)
    }

    public init(contentsOf url: URL) throws {
        let fileName = url.lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CheckpointError("\(fileName): cannot read: \(JSONDescription.reason(error))")
        }
        try self.init(data: data, fileName: fileName)
    }

    /// Parses config.json contents; `fileName` is what error messages call the file.
    public init(data: Data, fileName: String = "config.json") throws {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CheckpointError("\(fileName): not valid JSON (\(JSONDescription.reason(error)))")
        }
        guard let object = parsed as? [String: Any] else {
            throw CheckpointError("\(fileName): expected a JSON object at the top level, got \(JSONDescription.describe(parsed))")
        }
        let top = FieldReader(fileName: fileName, path: "", object: object)

        if let modelType = try top.optionalString("model_type"), modelType != "blip" {
            throw top.error("model_type", "expected \"blip\", got \(JSONDescription.quoted(modelType))")
        }
        let architectures = try top.stringArray("architectures")

        let visionReader = try top.subObject("vision_config")
        let textReader = try top.subObject("text_config")

        let defaultVision = BlipVisionConfig.transformersDefaults
        let vision = BlipVisionConfig(
            hiddenSize: try visionReader.int("hidden_size", default: defaultVision.hiddenSize),
            intermediateSize: try visionReader.int("intermediate_size", default: defaultVision.intermediateSize),
            numHiddenLayers: try visionReader.int("num_hidden_layers", default: defaultVision.numHiddenLayers),
            numAttentionHeads: try visionReader.int("num_attention_heads", default: defaultVision.numAttentionHeads),
            imageSize: try visionReader.squareSize("image_size", default: defaultVision.imageSize),
            patchSize: try visionReader.squareSize("patch_size", default: defaultVision.patchSize),
            layerNormEps: try visionReader.float("layer_norm_eps", default: defaultVision.layerNormEps),
            hiddenAct: try visionReader.string("hidden_act", default: defaultVision.hiddenAct))

        let defaultText = BlipTextConfig.transformersDefaults
        // Checked like any other field, then overridden as BlipConfig.__post_init__ does.
        let statedEncoderWidth = try textReader.int("encoder_hidden_size", default: defaultText.encoderHiddenSize)
        guard statedEncoderWidth > 0 else {
            throw textReader.error("encoder_hidden_size", "expected a positive integer, got \(statedEncoderWidth)")
        }
        let text = BlipTextConfig(
            vocabSize: try textReader.int("vocab_size", default: defaultText.vocabSize),
            hiddenSize: try textReader.int("hidden_size", default: defaultText.hiddenSize),
            encoderHiddenSize: vision.hiddenSize,
            intermediateSize: try textReader.int("intermediate_size", default: defaultText.intermediateSize),
            numHiddenLayers: try textReader.int("num_hidden_layers", default: defaultText.numHiddenLayers),
            numAttentionHeads: try textReader.int("num_attention_heads", default: defaultText.numAttentionHeads),
            maxPositionEmbeddings: try textReader.int(
                "max_position_embeddings", default: defaultText.maxPositionEmbeddings),
            layerNormEps: try textReader.float("layer_norm_eps", default: defaultText.layerNormEps),
            hiddenAct: try textReader.string("hidden_act", default: defaultText.hiddenAct),
            bosTokenID: try textReader.int("bos_token_id", default: defaultText.bosTokenID),
            eosTokenID: try textReader.int("eos_token_id", default: defaultText.eosTokenID),
            sepTokenID: try textReader.int("sep_token_id", default: defaultText.sepTokenID),
            padTokenID: try textReader.int("pad_token_id", default: defaultText.padTokenID),
            labelSmoothing: try textReader.float("label_smoothing", default: defaultText.labelSmoothing))

        let defaults = BlipConfig()
        self.init(
            architectures: architectures, vision: vision, text: text,
            imageTextHiddenSize: try top.int("image_text_hidden_size", default: defaults.imageTextHiddenSize),
            projectionDim: try top.int("projection_dim", default: defaults.projectionDim),
            labelSmoothing: try top.float("label_smoothing", default: defaults.labelSmoothing),
            logitScaleInitValue: try top.float("logit_scale_init_value", default: defaults.logitScaleInitValue))
        try validate(fileName: fileName)
    }

    /// Checks the values this engine relies on; errors name `fileName` and the JSON field.
    public func validate(fileName: String = "config.json") throws {
        func fail(_ field: String, _ message: String) -> CheckpointError {
            CheckpointError("\(fileName): \(field): \(message)")
        }
        func positive(_ field: String, _ value: Int) throws {
            guard value > 0 else { throw fail(field, "expected a positive integer, got \(value)") }
        }
        func nonNegative(_ field: String, _ value: Int) throws {
            guard value >= 0 else { throw fail(field, "expected a non-negative integer, got \(value)") }
        }
        func epsilon(_ field: String, _ value: Float) throws {
            guard value.isFinite, value > 0 else { throw fail(field, "expected a positive number, got \(value)") }
        }
        func probability(_ field: String, _ value: Float) throws {
            guard value >= 0, value <= 1 else { throw fail(field, "expected a number in [0, 1], got \(value)") }
        }
        func activation(_ field: String, _ value: String) throws {
            guard value == "gelu" else {
                throw fail(field, "unsupported activation \(JSONDescription.quoted(value)) (only \"gelu\" is implemented)")
            }
        }
        func divides(_ field: String, heads: Int, hiddenField: String, hidden: Int) throws {
            guard hidden % heads == 0 else {
                throw fail(field, "\(heads) does not divide \(hiddenField) \(hidden)")
            }
        }

        let v = vision
        try positive("vision_config.hidden_size", v.hiddenSize)
        try positive("vision_config.intermediate_size", v.intermediateSize)
        try positive("vision_config.num_hidden_layers", v.numHiddenLayers)
        try positive("vision_config.num_attention_heads", v.numAttentionHeads)
        try positive("vision_config.image_size", v.imageSize)
        try positive("vision_config.patch_size", v.patchSize)
        try divides("vision_config.num_attention_heads", heads: v.numAttentionHeads, hiddenField: "hidden_size", hidden: v.hiddenSize)
        guard v.imageSize % v.patchSize == 0 else {
            throw fail("vision_config.patch_size", "\(v.patchSize) does not divide image_size \(v.imageSize)")
        }
        try epsilon("vision_config.layer_norm_eps", v.layerNormEps)
        try activation("vision_config.hidden_act", v.hiddenAct)

        let t = text
        try positive("text_config.vocab_size", t.vocabSize)
        try positive("text_config.hidden_size", t.hiddenSize)
        try positive("text_config.encoder_hidden_size", t.encoderHiddenSize)
        guard t.encoderHiddenSize == v.hiddenSize else {
            throw fail("text_config.encoder_hidden_size",
                       "\(t.encoderHiddenSize) differs from vision_config.hidden_size \(v.hiddenSize), which transformers always uses")
        }
        try positive("text_config.intermediate_size", t.intermediateSize)
        try positive("text_config.num_hidden_layers", t.numHiddenLayers)
        try positive("text_config.num_attention_heads", t.numAttentionHeads)
        try positive("text_config.max_position_embeddings", t.maxPositionEmbeddings)
        try divides("text_config.num_attention_heads", heads: t.numAttentionHeads, hiddenField: "hidden_size", hidden: t.hiddenSize)
        try epsilon("text_config.layer_norm_eps", t.layerNormEps)
        try activation("text_config.hidden_act", t.hiddenAct)
        try nonNegative("text_config.bos_token_id", t.bosTokenID)
        try nonNegative("text_config.eos_token_id", t.eosTokenID)
        try nonNegative("text_config.sep_token_id", t.sepTokenID)
        try nonNegative("text_config.pad_token_id", t.padTokenID)
        try probability("text_config.label_smoothing", t.labelSmoothing)

        try positive("image_text_hidden_size", imageTextHiddenSize)
        try positive("projection_dim", projectionDim)
        try probability("label_smoothing", labelSmoothing)
        guard logitScaleInitValue.isFinite else {
            throw fail("logit_scale_init_value", "expected a finite number, got \(logitScaleInitValue)")
        }
    }

    /// A config.json that transformers' BlipConfig.from_pretrained loads back to these values.
    public func jsonData() throws -> Data {
        try validate()
        let t = text, v = vision
        let textObject: [(String, JSONOut)] = [
            ("bos_token_id", .int(t.bosTokenID)),
            ("encoder_hidden_size", .int(t.encoderHiddenSize)),
            ("eos_token_id", .int(t.eosTokenID)),
            ("hidden_act", .string(t.hiddenAct)),
            ("hidden_size", .int(t.hiddenSize)),
            ("intermediate_size", .int(t.intermediateSize)),
            ("label_smoothing", .float(t.labelSmoothing)),
            ("layer_norm_eps", .float(t.layerNormEps)),
            ("max_position_embeddings", .int(t.maxPositionEmbeddings)),
            ("model_type", .string("blip_text_model")),
            ("num_attention_heads", .int(t.numAttentionHeads)),
            ("num_hidden_layers", .int(t.numHiddenLayers)),
            ("pad_token_id", .int(t.padTokenID)),
            ("sep_token_id", .int(t.sepTokenID)),
            ("vocab_size", .int(t.vocabSize)),
        ]
        let visionObject: [(String, JSONOut)] = [
            ("hidden_act", .string(v.hiddenAct)),
            ("hidden_size", .int(v.hiddenSize)),
            ("image_size", .int(v.imageSize)),
            ("intermediate_size", .int(v.intermediateSize)),
            ("layer_norm_eps", .float(v.layerNormEps)),
            ("model_type", .string("blip_vision_model")),
            ("num_attention_heads", .int(v.numAttentionHeads)),
            ("num_hidden_layers", .int(v.numHiddenLayers)),
            ("patch_size", .int(v.patchSize)),
        ]
        let root: [(String, JSONOut)] = [
            ("architectures", .array(architectures.map { .string($0) })),
            ("image_text_hidden_size", .int(imageTextHiddenSize)),
            ("label_smoothing", .float(labelSmoothing)),
            ("logit_scale_init_value", .float(logitScaleInitValue)),
            ("model_type", .string("blip")),
            ("projection_dim", .int(projectionDim)),
            ("text_config", .object(textObject)),
            ("vision_config", .object(visionObject)),
        ]
        var out = ""
        JSONOut.object(root).write(to: &out, indent: 0)
        out += "\n"
        return Data(out.utf8)
    }
}

/// Typed access to one JSON object of the config, with errors that name file and field.
private struct FieldReader {
    let fileName: String
    let path: String  // "" for the top level, else "text_config." etc.
    let object: [String: Any]

    func error(_ key: String, _ message: String) -> CheckpointError {
        CheckpointError("\(fileName): \(path)\(key): \(message)")
    }

    func subObject(_ key: String) throws -> FieldReader {
        guard let raw = object[key] else { throw error(key, "missing") }
        guard let sub = raw as? [String: Any] else {
            throw error(key, "expected an object, got \(JSONDescription.describe(raw))")
        }
        return FieldReader(fileName: fileName, path: "\(path)\(key).", object: sub)
    }

    func int(_ key: String, default value: Int) throws -> Int {
        guard let raw = object[key] else { return value }
        guard let int = JSONDescription.integer(raw) else {
            throw error(key, "expected an integer, got \(JSONDescription.describe(raw))")
        }
        return int
    }

    /// An integer, or a two-element list of equal integers (transformers also types
    /// image_size and patch_size as [height, width]).
    func squareSize(_ key: String, default value: Int) throws -> Int {
        guard let raw = object[key] else { return value }
        if let int = JSONDescription.integer(raw) { return int }
        if let pair = raw as? [Any], pair.count == 2,
            let a = JSONDescription.integer(pair[0]), let b = JSONDescription.integer(pair[1])
        {
            guard a == b else { throw error(key, "non-square sizes are not supported, got [\(a), \(b)]") }
            return a
        }
        throw error(key, "expected an integer, got \(JSONDescription.describe(raw))")
    }

    func float(_ key: String, default value: Float) throws -> Float {
        guard let raw = object[key] else { return value }
        guard let number = JSONDescription.number(raw) else {
            throw error(key, "expected a number, got \(JSONDescription.describe(raw))")
        }
        let float = Float(number)
        guard float.isFinite else { throw error(key, "\(number) is out of range for a 32-bit float") }
        return float
    }

    func string(_ key: String, default value: String) throws -> String {
        guard let raw = object[key] else { return value }
        guard let string = raw as? String else {
            throw error(key, "expected a string, got \(JSONDescription.describe(raw))")
        }
        return string
    }

    func optionalString(_ key: String) throws -> String? {
        guard let raw = object[key], !(raw is NSNull) else { return nil }
        guard let string = raw as? String else {
            throw error(key, "expected a string, got \(JSONDescription.describe(raw))")
        }
        return string
    }

    /// A list of strings; absent or null reads as empty, as transformers' None.
    func stringArray(_ key: String) throws -> [String] {
        guard let raw = object[key], !(raw is NSNull) else { return [] }
        guard let array = raw as? [Any] else {
            throw error(key, "expected a list of strings, got \(JSONDescription.describe(raw))")
        }
        return try array.enumerated().map { index, element in
            guard let string = element as? String else {
                throw error("\(key)[\(index)]", "expected a string, got \(JSONDescription.describe(element))")
            }
            return string
        }
    }
}

/// Minimal ordered JSON writer, laid out like Python's json.dumps(indent=2).
private indirect enum JSONOut {
    case int(Int)
    case float(Float)
    case string(String)
    case array([JSONOut])
    case object([(String, JSONOut)])

    func write(to out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 2)
        switch self {
        case .int(let value): out += String(value)
        case .float(let value): out += "\(value)"  // shortest round-trip form, e.g. 1e-12, 2.6592, 0.0
        case .string(let value): out += DeterministicJSON.quote(value)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(to: &out, indent: indent + 2)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += pad + DeterministicJSON.quote(key) + ": "
                value.write(to: &out, indent: indent + 2)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }
}
