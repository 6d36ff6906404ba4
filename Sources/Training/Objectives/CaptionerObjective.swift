import Foundation

/// The captioner's LM loss, the prompt's tokens not predicted.
public final class CaptionerObjective: CheckpointedObjective {
    public let model: BlipCaptionerTrainingModel
    public let promptLength: Int

    public init(model: BlipCaptionerTrainingModel, promptLength: Int) { self.model = model; self.promptLength = promptLength }

    public var termNames: [String] { ["lm"] }
    public var parameters: [Parameter] { model.parameters }

    public func forwardBackward(_ batch: LoadedBatch, step: Int, stepsPerEpoch: Int) -> [Double] {
        [model.forwardBackward(batch.batch, promptLength: promptLength)]
    }

    public func saveModel(in folder: URL) throws { try model.save(folder: folder.appendingPathComponent("captioner")) }

    public func saveState(to url: URL, step: Int, optimizer: AdamW) throws {
        try model.saveTrainingState(to: url, step: step, optimizer: optimizer)
    }

    public func loadState(from url: URL, optimizer: AdamW) throws -> Int {
        try model.loadTrainingState(from: url, optimizer: optimizer)
    }
}
