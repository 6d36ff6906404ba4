import Foundation

/// A Hugging Face model folder: config.json + model.safetensors (vocab.txt is the tokenizer's).
public struct ModelFolder: Sendable {
    public let config: BlipConfig
    public let weights: SafeTensorsFile

    public init(_ folder: URL) throws {
        config = try BlipConfig(contentsOf: folder.appendingPathComponent("config.json"))
        weights = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))
    }
}
