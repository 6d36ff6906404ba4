import Foundation

/// What a trainer trains: one forward and backward pass per batch, adding gradients to
/// `parameters` (the ones the optimiser updates).
public protocol TrainingObjective: AnyObject {
    /// The loss terms, in the order `forwardBackward` returns them (e.g. itc, itm, lm).
    var termNames: [String] { get }
    /// Values logged after the loss terms but not part of the loss (e.g. temperature, accuracy).
    var statNames: [String] { get }
    var parameters: [Parameter] { get }
    /// Forward and backward of global step `step` (0-based): the loss terms, then the stats.
    func forwardBackward(_ batch: LoadedBatch, step: Int, stepsPerEpoch: Int) -> [Double]
}

extension TrainingObjective {
    public var statNames: [String] { [] }
}

/// An objective whose run can stop and resume: its Hugging Face folder(s) and its training state
/// (weights, optimiser moments, queues) at a step.
public protocol CheckpointedObjective: TrainingObjective {
    /// Hugging Face folder(s) under `folder`.
    func saveModel(in folder: URL) throws
    func saveState(to url: URL, step: Int, optimizer: AdamW) throws
    /// Restores the state saved at a step; returns that step.
    func loadState(from url: URL, optimizer: AdamW) throws -> Int
}
