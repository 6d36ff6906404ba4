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

/// The two Hugging Face BLIP classes capfilt runs, by their `architectures` name.
public enum BlipArchitecture: String, Sendable, CaseIterable {
    /// The captioner: ViT + image-grounded text decoder + LM head.
    case captioning = "BlipForConditionalGeneration"
    /// The filter: ViT + text encoder + ITC projections + ITM head.
    case retrieval = "BlipForImageTextRetrieval"
}

/// Checks a model folder against the model a command or stage will build from it, before it is
/// needed and without reading a tensor: config.json (parsed, and its `architectures` if it
/// names any), then model.safetensors' header against every tensor name and shape the model
/// reads for that config.
public enum ModelFolderCheck {
    /// Every problem found, one line each, each starting with the file it is in; empty when the
    /// folder will load. A config or header that cannot be read is one problem (the tensors
    /// cannot be checked without it).
    public static func problems(folder: URL, for architecture: BlipArchitecture) -> [String] {
        let config: BlipConfig
        do { config = try BlipConfig(contentsOf: folder.appendingPathComponent("config.json")) } catch {
            return ["\(error)"]
        }
        var problems: [String] = []
        if !config.architectures.isEmpty, !config.architectures.contains(architecture.rawValue) {
            problems.append("config.json: architectures is \(config.architectures.joined(separator: ", ")), "
                            + "expected \(architecture.rawValue)")
        }
        let weights: SafeTensorsFile
        do { weights = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors")) } catch {
            return problems + ["\(error)"]
        }
        switch architecture {
        case .captioning: problems += BlipCaptioningModel.checkpointProblems(config: config, weights: weights)
        case .retrieval: problems += BlipRetrievalModel.checkpointProblems(config: config, weights: weights)
        }
        return problems
    }

    /// The first problem on one line, with how many more there are: what a person reads first
    /// is what to fix first, and the count says whether the folder is wrong as a whole.
    public static func summary(_ problems: [String]) -> String? {
        guard let first = problems.first else { return nil }
        let line = first.split(separator: "\n").first.map(String.init) ?? first
        return problems.count > 1 ? "\(line) (and \(problems.count - 1) more)" : line
    }
}
