import Foundation

/// Checkpoint folders of a run: OUTPUT/checkpoint-NNNNNN/ with the Hugging Face folder(s) and
/// training-state.safetensors, written under a temporary name and renamed when complete, so a run
/// killed while saving leaves the previous checkpoint whole.
public struct TrainingCheckpoints: Sendable {
    public static let stateFile = "training-state.safetensors"

    public let output: URL
    /// A checkpoint every this many steps besides the last one (0: only the last).
    public let every: Int

    public init(output: URL, every: Int) { self.output = output; self.every = every }

    public static func folder(_ output: URL, step: Int) -> URL {
        output.appendingPathComponent("checkpoint-" + String(format: "%06d", step))
    }

    /// The newest complete checkpoint, if any.
    public static func newest(in output: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") }.sorted().reversed()
            .map { output.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent(stateFile).path) }
    }

    public func save(_ objective: CheckpointedObjective, optimizer: AdamW, step: Int) throws {
        let fm = FileManager.default
        let final = Self.folder(output, step: step)
        let temporary = output.appendingPathComponent(".checkpoint-in-progress")
        try? fm.removeItem(at: temporary)
        try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
        try objective.saveModel(in: temporary)
        try objective.saveState(to: temporary.appendingPathComponent(Self.stateFile), step: step, optimizer: optimizer)
        try? fm.removeItem(at: final)
        try fm.moveItem(at: temporary, to: final)
    }
}
