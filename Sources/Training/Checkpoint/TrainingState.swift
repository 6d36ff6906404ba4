import Foundation
import MED
import Tensor

/// The whole state of a pre-training run in one safetensors file, so that a run stopped after
/// step k and resumed continues exactly: parameters (Hugging Face names), momentum encoders
/// (`momentum.*`), feature queues (`queue.image`, `queue.text`, rows), AdamW moments
/// (`optimizer.m.*`, `optimizer.v.*`), and in the metadata the step, the queue pointer, the
/// queue's image ids and the optimizer's step count. The parity fixture's state.safetensors is this format without an optimizer.
extension BlipPretrainingModel {
    public func saveTrainingState(to url: URL, step: Int, optimizer: AdamW?) throws {
        var tensors = (parameters + momentumParameters).flatMap { stateTensors($0, prefix: "", $0.value) }
        let q = settings.queueSize, width = imageQueue.dim(1)
        tensors.append(("queue.image", [q, width], imageQueue.toArray()))
        tensors.append(("queue.text", [q, width], textQueue.toArray()))
        var metadata = ["format": "capfilt-training-state-1", "step": String(step), "queue_pointer": String(queuePointer),
                        "queue_ids": queueIDs.map(String.init).joined(separator: ",")]
        if let optimizer {
            precondition(optimizer.parameters.count == parameters.count, "the optimizer must hold this model's parameters")
            tensors += optimizerStateTensors(optimizer)
            metadata["optimizer_step"] = String(optimizer.step)
        }
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: url)
    }

    /// Restores a state written by `saveTrainingState`; returns its step. With an optimizer, the
    /// file must hold its moments.
    @discardableResult
    public func loadTrainingState(from url: URL, optimizer: AdamW?) throws -> Int {
        let file = try SafeTensorsFile(url: url)
        try loadParameters(parameters, from: file)
        try loadParameters(momentumParameters, from: file)
        let pointer = Int(file.metadata["queue_pointer"] ?? "0") ?? 0
        let ids = file.metadata["queue_ids"].map { $0.split(separator: ",").compactMap { Int($0) } }
        if let ids, ids.count != settings.queueSize {
            throw CheckpointError("\(url.lastPathComponent): metadata 'queue_ids' has \(ids.count) ids, expected \(settings.queueSize)")
        }
        setQueues(image: try file.floats("queue.image"), text: try file.floats("queue.text"), pointer: pointer, ids: ids)
        if let optimizer { try loadOptimizerState(optimizer, from: file, url: url) }
        return Int(file.metadata["step"] ?? "0") ?? 0
    }
}

extension Parameter {
    /// A parameter whose value is an existing tensor (to load optimizer moments by name).
    convenience init(_ parts: [String], viewing tensor: Tensor) {
        self.init(parts, value: tensor)
    }
}
