import Foundation
import MED

/// BLIP's pre-training (ITC + ITM + LM) or its retrieval fine-tuning (ITC + ITM with image-id
/// positives) on a `BlipPretrainingModel`.
public final class PretrainingObjective: CheckpointedObjective {
    public enum Task: Sendable { case pretraining, retrieval }

    public let model: BlipPretrainingModel
    public let task: Task
    public let alpha: Float
    public let seed: UInt64
    public let weights: LossWeights
    public let parameters: [Parameter]
    /// Log the ITC temperature after the losses (the stages do; it moves when it is learnt).
    public let reportsTemperature: Bool

    /// `weights` defaults to every term of the task; `parameters` (what the optimiser updates) to
    /// all of the model's.
    public init(model: BlipPretrainingModel, task: Task, alpha: Float, seed: UInt64, weights: LossWeights? = nil,
                parameters: [Parameter]? = nil, reportsTemperature: Bool = false) {
        self.model = model; self.task = task; self.alpha = alpha; self.seed = seed
        self.weights = weights ?? (task == .retrieval ? LossWeights(itc: 1, itm: 1, lm: 0) : .all)
        self.parameters = parameters ?? model.parameters
        self.reportsTemperature = reportsTemperature
    }

    public var termNames: [String] { task == .retrieval ? ["itc", "itm"] : ["itc", "itm", "lm"] }
    public var statNames: [String] { reportsTemperature ? ["temp"] : [] }

    public func forwardBackward(_ batch: LoadedBatch, step: Int, stepsPerEpoch: Int) -> [Double] {
        // BLIP ramps alpha over the first two epochs of pre-training and the first epoch of fine-tuning.
        let a = task == .retrieval ? alpha * min(1, Float(step) / Float(max(1, stepsPerEpoch)))
                                   : PretrainingConfig.rampedAlpha(alpha, step: step, stepsPerEpoch: stepsPerEpoch)
        // Negatives are drawn from a seed derived from the step, so a resumed run draws the same ones.
        let negatives = NegativeSource.sampled(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step))
        let losses = model.forwardBackward(batch.batch, alpha: a, negatives: negatives, weights: weights,
                                           imageIDs: task == .retrieval ? batch.imageIDs : nil)
        let terms = task == .retrieval ? [losses.itc, losses.itm] : [losses.itc, losses.itm, losses.lm]
        return terms + (reportsTemperature ? [Double(model.temperature.value[flat: 0])] : [])
    }

    public func saveModel(in folder: URL) throws {
        switch task {
        case .retrieval:
            try model.save(retrievalFolder: folder.appendingPathComponent("retrieval"), captionerFolder: nil)
        case .pretraining:
            try model.save(retrievalFolder: folder.appendingPathComponent("retrieval"),
                           captionerFolder: folder.appendingPathComponent("captioner"))
        }
    }

    public func saveState(to url: URL, step: Int, optimizer: AdamW) throws {
        try model.saveTrainingState(to: url, step: step, optimizer: optimizer)
    }

    public func loadState(from url: URL, optimizer: AdamW) throws -> Int {
        let file = try SafeTensorsFile(url: url)
        if let shape = file.shape(of: "queue.image"), shape[0] != model.settings.queueSize {
            throw TrainingStateError("\(url.path) has a queue of \(shape[0]) features; run with --queue-size \(shape[0])")
        }
        return try model.loadTrainingState(from: url, optimizer: optimizer)
    }
}

/// A training state that does not fit the run resuming from it.
public struct TrainingStateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
