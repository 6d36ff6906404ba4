import Foundation
import XCTest

@testable import MED

final class BlipConfigTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("blip-config-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private static let fixtureFolders = [
        "blip_tiny_captioning", "blip_default_retrieval", "blip_hub_captioning", "blip_hub_retrieval",
    ]

    private func fixtureConfig(_ folder: String) throws -> URL {
        try XCTUnwrap(
            Bundle.module.url(forResource: "config", withExtension: "json", subdirectory: "Fixtures/checkpoint/\(folder)"),
            "missing fixture \(folder)/config.json")
    }

    /// The values transformers resolved when it loaded each fixture (expected_configs.json).
    private func expectedConfig(_ folder: String) throws -> BlipConfig {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "expected_configs", withExtension: "json", subdirectory: "Fixtures/checkpoint"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let top = try XCTUnwrap(all[folder] as? [String: Any])
        let t = try XCTUnwrap(top["text_config"] as? [String: Any])
        let v = try XCTUnwrap(top["vision_config"] as? [String: Any])
        func int(_ o: [String: Any], _ k: String) throws -> Int { try XCTUnwrap(o[k] as? Int, k) }
        func float(_ o: [String: Any], _ k: String) throws -> Float { Float(try XCTUnwrap(o[k] as? Double, k)) }
        func string(_ o: [String: Any], _ k: String) throws -> String { try XCTUnwrap(o[k] as? String, k) }
        return BlipConfig(
            architectures: try XCTUnwrap(top["architectures"] as? [String]),
            vision: BlipVisionConfig(
                hiddenSize: try int(v, "hidden_size"), intermediateSize: try int(v, "intermediate_size"),
                numHiddenLayers: try int(v, "num_hidden_layers"), numAttentionHeads: try int(v, "num_attention_heads"),
                imageSize: try int(v, "image_size"), patchSize: try int(v, "patch_size"),
                layerNormEps: try float(v, "layer_norm_eps"), hiddenAct: try string(v, "hidden_act")),
            text: BlipTextConfig(
                vocabSize: try int(t, "vocab_size"), hiddenSize: try int(t, "hidden_size"),
                encoderHiddenSize: try int(t, "encoder_hidden_size"), intermediateSize: try int(t, "intermediate_size"),
                numHiddenLayers: try int(t, "num_hidden_layers"), numAttentionHeads: try int(t, "num_attention_heads"),
                maxPositionEmbeddings: try int(t, "max_position_embeddings"), layerNormEps: try float(t, "layer_norm_eps"),
                hiddenAct: try string(t, "hidden_act"), bosTokenID: try int(t, "bos_token_id"),
                eosTokenID: try int(t, "eos_token_id"), sepTokenID: try int(t, "sep_token_id"),
                padTokenID: try int(t, "pad_token_id"), labelSmoothing: try float(t, "label_smoothing")),
            imageTextHiddenSize: try int(top, "image_text_hidden_size"),
            projectionDim: try int(top, "projection_dim"),
            labelSmoothing: try float(top, "label_smoothing"),
            logitScaleInitValue: try float(top, "logit_scale_init_value"))
    }

    private func writeConfig(_ json: String, name: String = "config.json") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(json.utf8).write(to: url)
        return url
    }

    private func parseError(_ json: String, name: String = "config.json", file: StaticString = #filePath, line: UInt = #line)
        -> String
    {
        do {
            let config = try BlipConfig(contentsOf: try writeConfig(json, name: name))
            XCTFail("parsed without error: \(config)", file: file, line: line)
            return ""
        } catch {
            let message = "\(error)"
            XCTAssertTrue(error is CheckpointError, "unexpected error type \(error)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "not one line: \(message)", file: file, line: line)
            return message
        }
    }

    /// A minimal valid config with `text` and `vision` spliced into the sub-configs.
    private func config(text: String = "", vision: String = "", top: String = "") -> String {
        """
        {\(top)\(top.isEmpty ? "" : ",") "text_config": {\(text)}, "vision_config": {\(vision)}}
        """
    }

    // MARK: - Files transformers wrote

    func testFixturesParseToTheValuesTransformersResolves() throws {
        for folder in Self.fixtureFolders {
            let parsed = try BlipConfig(contentsOf: try fixtureConfig(folder))
            XCTAssertEqual(parsed, try expectedConfig(folder), folder)
        }
    }

    func testTinyCaptioningConfig() throws {
        let c = try BlipConfig(contentsOf: try fixtureConfig("blip_tiny_captioning"))
        XCTAssertEqual(c.architectures, ["BlipForConditionalGeneration"])
        XCTAssertEqual(
            c.vision,
            BlipVisionConfig(
                hiddenSize: 24, intermediateSize: 48, numHiddenLayers: 3, numAttentionHeads: 2, imageSize: 32,
                patchSize: 8, layerNormEps: 1e-6, hiddenAct: "gelu"))
        XCTAssertEqual(
            c.text,
            BlipTextConfig(
                vocabSize: 99, hiddenSize: 32, encoderHiddenSize: 24, intermediateSize: 37, numHiddenLayers: 2,
                numAttentionHeads: 4, maxPositionEmbeddings: 64, layerNormEps: 1e-6, hiddenAct: "gelu",
                bosTokenID: 90, eosTokenID: 3, sepTokenID: 91, padTokenID: 1, labelSmoothing: 0.1))
        XCTAssertEqual(c.imageTextHiddenSize, 12)
        XCTAssertEqual(c.projectionDim, 16)
        XCTAssertEqual(c.labelSmoothing, 0.2)
        XCTAssertEqual(c.logitScaleInitValue, 2.5)
        XCTAssertEqual(c.vision.gridSize, 4)
    }

    func testDefaultAndHubConfigs() throws {
        let defaults = try BlipConfig(contentsOf: try fixtureConfig("blip_default_retrieval"))
        XCTAssertEqual(defaults, BlipConfig(architectures: ["BlipForImageTextRetrieval"]))
        XCTAssertEqual(defaults.text.numAttentionHeads, 8)
        XCTAssertEqual(defaults.text.layerNormEps, 1e-12)
        XCTAssertEqual(defaults.vision.layerNormEps, 1e-5)

        let captioning = try BlipConfig(contentsOf: try fixtureConfig("blip_hub_captioning"))
        XCTAssertEqual(captioning, .blipBase(architectures: ["BlipForConditionalGeneration"]))
        XCTAssertEqual(captioning.text.numAttentionHeads, 12)
        XCTAssertEqual(captioning.text.encoderHiddenSize, 768)
        XCTAssertEqual(captioning.text.sepTokenID, 102)
        XCTAssertEqual(captioning.text.bosTokenID, 30522)
        let retrieval = try BlipConfig(contentsOf: try fixtureConfig("blip_hub_retrieval"))
        XCTAssertEqual(retrieval, .blipBase(architectures: ["BlipForImageTextRetrieval"]))
        XCTAssertEqual(retrieval.imageTextHiddenSize, 256)
    }

    // MARK: - Omitted fields

    func testOmittedFieldsTakeTransformersClassDefaults() throws {
        let c = try BlipConfig(data: Data(config().utf8))
        XCTAssertEqual(c, BlipConfig())
        XCTAssertEqual(c.architectures, [])
        XCTAssertEqual(c.text, .transformersDefaults)
        XCTAssertEqual(c.vision, .transformersDefaults)
        XCTAssertEqual(c.text.numAttentionHeads, 8)

        let partial = try BlipConfig(data: Data(config(text: #""num_attention_heads": 12"#, vision: #""image_size": 224"#).utf8))
        XCTAssertEqual(partial.text, .blipBase)
        XCTAssertEqual(partial.vision.imageSize, 224)
        XCTAssertEqual(partial.vision.patchSize, 16)
        XCTAssertEqual(partial.architectures, [])

        let nullArchitectures = try BlipConfig(data: Data(config(top: #""architectures": null"#).utf8))
        XCTAssertEqual(nullArchitectures.architectures, [])
    }

    func testEncoderHiddenSizeFollowsTheVisionHiddenSize() throws {
        let c = try BlipConfig(data: Data(config(
            text: #""encoder_hidden_size": 12"#, vision: #""hidden_size": 64, "num_attention_heads": 4"#).utf8))
        XCTAssertEqual(c.text.encoderHiddenSize, 64)
        let omitted = try BlipConfig(data: Data(config(vision: #""hidden_size": 96, "num_attention_heads": 4"#).utf8))
        XCTAssertEqual(omitted.text.encoderHiddenSize, 96)
    }

    func testUnknownKeysAreIgnoredAndSquareListSizesAccepted() throws {
        let c = try BlipConfig(data: Data(config(
            text: #""hidden_dropout_prob": 0.1, "id2label": {"0": "A"}, "layer_norm_eps": 1"#,
            vision: #""image_size": [224, 224], "patch_size": [16, 16], "num_channels": 3"#,
            top: #""model_type": "blip", "torch_dtype": "float32", "_commit_hash": null"#).utf8))
        XCTAssertEqual(c.vision.imageSize, 224)
        XCTAssertEqual(c.vision.patchSize, 16)
        XCTAssertEqual(c.text.layerNormEps, 1)
    }

    // MARK: - Errors

    func testStructuralErrors() throws {
        XCTAssertEqual(parseError(#"{"vision_config": {}}"#), "config.json: text_config: missing")
        XCTAssertEqual(parseError(#"{"text_config": {}}"#), "config.json: vision_config: missing")
        XCTAssertEqual(parseError(#"{"text_config": null, "vision_config": {}}"#),
                       "config.json: text_config: expected an object, got null")
        XCTAssertEqual(parseError(#"{"text_config": {}, "vision_config": [1, 2]}"#),
                       "config.json: vision_config: expected an object, got [1, 2]")
        XCTAssertEqual(parseError("[1, 2]"), "config.json: expected a JSON object at the top level, got [1, 2]")
        XCTAssertTrue(parseError("{\"text_config\": {").hasPrefix("config.json: not valid JSON"))
        XCTAssertTrue(parseError("hello", name: "weights.json").hasPrefix("weights.json: not valid JSON"))
        XCTAssertEqual(parseError(#"{"model_type": "blip-2", "text_config": {}, "vision_config": {}}"#),
                       #"config.json: model_type: expected "blip", got "blip-2""#)
        XCTAssertEqual(parseError(config(top: #""architectures": "BlipForConditionalGeneration""#)),
                       #"config.json: architectures: expected a list of strings, got "BlipForConditionalGeneration""#)
        XCTAssertEqual(parseError(config(top: #""architectures": [1]"#)),
                       "config.json: architectures[0]: expected a string, got 1")

        let absent = directory.appendingPathComponent("absent", isDirectory: true).appendingPathComponent("config.json")
        XCTAssertThrowsError(try BlipConfig(contentsOf: absent)) { error in
            XCTAssertTrue("\(error)".hasPrefix("config.json: cannot read"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    func testFieldErrorsNameFileAndField() throws {
        let cases: [(String, String)] = [
            (config(text: #""hidden_size": "abc""#), #"config.json: text_config.hidden_size: expected an integer, got "abc""#),
            (config(text: #""hidden_size": 768.0"#), "config.json: text_config.hidden_size: expected an integer, got 768.0"),
            (config(text: #""hidden_size": true"#), "config.json: text_config.hidden_size: expected an integer, got true"),
            (config(text: #""hidden_size": null"#), "config.json: text_config.hidden_size: expected an integer, got null"),
            (config(text: #""vocab_size": 0"#), "config.json: text_config.vocab_size: expected a positive integer, got 0"),
            (config(vision: #""hidden_size": -5"#), "config.json: vision_config.hidden_size: expected a positive integer, got -5"),
            (config(vision: #""num_hidden_layers": 0"#),
             "config.json: vision_config.num_hidden_layers: expected a positive integer, got 0"),
            (config(text: #""num_attention_heads": 7"#),
             "config.json: text_config.num_attention_heads: 7 does not divide hidden_size 768"),
            (config(vision: #""hidden_size": 100"#),
             "config.json: vision_config.num_attention_heads: 12 does not divide hidden_size 100"),
            (config(vision: #""image_size": 380"#), "config.json: vision_config.patch_size: 16 does not divide image_size 380"),
            (config(vision: #""image_size": [384, 256]"#),
             "config.json: vision_config.image_size: non-square sizes are not supported, got [384, 256]"),
            (config(vision: #""hidden_act": "relu""#),
             #"config.json: vision_config.hidden_act: unsupported activation "relu" (only "gelu" is implemented)"#),
            (config(text: #""hidden_act": "gelu_new""#),
             #"config.json: text_config.hidden_act: unsupported activation "gelu_new" (only "gelu" is implemented)"#),
            (config(text: #""hidden_act": 5"#), "config.json: text_config.hidden_act: expected a string, got 5"),
            (config(text: #""layer_norm_eps": "x""#), #"config.json: text_config.layer_norm_eps: expected a number, got "x""#),
            (config(vision: #""layer_norm_eps": 0.0"#), "config.json: vision_config.layer_norm_eps: expected a positive number, got 0.0"),
            (config(text: #""layer_norm_eps": 1e300"#), "config.json: text_config.layer_norm_eps: 1e+300 is out of range for a 32-bit float"),
            (config(text: #""label_smoothing": 1.5"#), "config.json: text_config.label_smoothing: expected a number in [0, 1], got 1.5"),
            (config(text: #""bos_token_id": null"#), "config.json: text_config.bos_token_id: expected an integer, got null"),
            (config(text: #""eos_token_id": [2, 102]"#), "config.json: text_config.eos_token_id: expected an integer, got [2, 102]"),
            (config(text: #""pad_token_id": -1"#), "config.json: text_config.pad_token_id: expected a non-negative integer, got -1"),
            (config(text: #""encoder_hidden_size": 0"#), "config.json: text_config.encoder_hidden_size: expected a positive integer, got 0"),
            (config(text: #""encoder_hidden_size": "768""#), #"config.json: text_config.encoder_hidden_size: expected an integer, got "768""#),
            (config(top: #""projection_dim": 0"#), "config.json: projection_dim: expected a positive integer, got 0"),
            (config(top: #""image_text_hidden_size": 2.5"#), "config.json: image_text_hidden_size: expected an integer, got 2.5"),
            (config(top: #""label_smoothing": -0.5"#), "config.json: label_smoothing: expected a number in [0, 1], got -0.5"),
            (config(top: #""logit_scale_init_value": false"#), "config.json: logit_scale_init_value: expected a number, got false"),
        ]
        for (json, expected) in cases {
            XCTAssertEqual(parseError(json), expected, json)
        }
        XCTAssertEqual(parseError(config(text: #""hidden_size": "abc""#), name: "blip.json"),
                       #"blip.json: text_config.hidden_size: expected an integer, got "abc""#)
    }

    // MARK: - Writing

    func testJSONDataRoundTrips() throws {
        var configs = try Self.fixtureFolders.map { try BlipConfig(contentsOf: try fixtureConfig($0)) }
        configs.append(.blipBase(architectures: []))
        var odd = BlipConfig.blipBase(architectures: ["BlipForConditionalGeneration", "Other\"Name"])
        odd.text.layerNormEps = 3.3e-7
        odd.text.labelSmoothing = 0.1
        odd.logitScaleInitValue = -1.25
        configs.append(odd)
        for config in configs {
            let data = try config.jsonData()
            XCTAssertEqual(try BlipConfig(data: data), config)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(object["model_type"] as? String, "blip")
            XCTAssertEqual((object["text_config"] as? [String: Any])?["model_type"] as? String, "blip_text_model")
            XCTAssertEqual((object["vision_config"] as? [String: Any])?["model_type"] as? String, "blip_vision_model")
            XCTAssertEqual((object["text_config"] as? [String: Any])?["num_attention_heads"] as? Int, config.text.numAttentionHeads)
        }
        let text = String(decoding: try BlipConfig.blipBase(architectures: ["BlipForConditionalGeneration"]).jsonData(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\n  \"architectures\": [\n    \"BlipForConditionalGeneration\"\n  ],\n"), text)
        XCTAssertTrue(text.contains("\"layer_norm_eps\": 1e-12,"), text)
        XCTAssertTrue(text.contains("\"layer_norm_eps\": 1e-05,"), text)
        XCTAssertTrue(text.contains("\"label_smoothing\": 0.0,"), text)
        XCTAssertTrue(text.hasSuffix("}\n"))
    }

    func testJSONDataRejectsConfigsTransformersWouldLoadDifferently() {
        var mismatch = BlipConfig.blipBase(architectures: [])
        mismatch.text.encoderHiddenSize = 512
        XCTAssertThrowsError(try mismatch.jsonData()) { error in
            XCTAssertTrue("\(error)".contains("text_config.encoder_hidden_size"), "\(error)")
        }
        var relu = BlipConfig.blipBase(architectures: [])
        relu.vision.hiddenAct = "relu"
        XCTAssertThrowsError(try relu.jsonData()) { error in
            XCTAssertTrue("\(error)".contains("vision_config.hidden_act"), "\(error)")
        }
        var nan = BlipConfig()
        nan.logitScaleInitValue = .nan
        XCTAssertThrowsError(try nan.jsonData())
    }
}
