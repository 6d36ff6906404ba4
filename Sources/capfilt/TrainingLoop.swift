import Foundation
import Tensor
import Training

/// What a training command trains: one step on a batch, and its checkpoints.
protocol TrainingObjective: AnyObject {
    /// The loss terms this objective reports, in order (e.g. itc, itm, lm).
    var termNames: [String] { get }
    var parameters: [Parameter] { get }
    /// Forward and backward of step `step` (0-based, global): adds gradients, returns the loss terms.
    func forwardBackward(_ batch: LoadedBatch, step: Int, stepsPerEpoch: Int) -> [Double]
    /// Hugging Face folder(s) under `folder`.
    func saveModel(in folder: URL) throws
    func saveState(to url: URL, step: Int, optimizer: AdamW) throws
    func loadState(from url: URL, optimizer: AdamW) throws -> Int
}

/// Checkpoint folders of a run: OUTPUT/checkpoint-NNNNNN/ with the Hugging Face folder(s) and
/// training-state.safetensors, written under a temporary name and renamed when complete.
enum TrainingCheckpoints {
    static let stateFile = "training-state.safetensors"

    static func folder(_ output: URL, step: Int) -> URL {
        output.appendingPathComponent("checkpoint-" + String(format: "%06d", step))
    }

    /// The newest complete checkpoint, if any.
    static func newest(in output: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") }.sorted().reversed()
            .map { output.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent(stateFile).path) }
    }

    static func save(_ objective: TrainingObjective, optimizer: AdamW, step: Int, output: URL) throws {
        let fm = FileManager.default
        let final = folder(output, step: step)
        let temporary = output.appendingPathComponent(".checkpoint-in-progress")
        try? fm.removeItem(at: temporary)
        try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
        try objective.saveModel(in: temporary)
        try objective.saveState(to: temporary.appendingPathComponent(stateFile), step: step, optimizer: optimizer)
        try? fm.removeItem(at: final)
        try fm.moveItem(at: temporary, to: final)
    }
}

/// The loop every training command runs: seeded batches from (seed, step), AdamW with the
/// schedule, optional clipping, a loss log line per step, checkpoints, resume.
struct TrainingLoop {
    let options: TrainingRunOptions
    let loader: TrainingDataLoader
    let objective: TrainingObjective

    func run(resumeFrom checkpoint: URL?) throws {
        let output = URL(fileURLWithPath: options.output)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let perEpoch = loader.batchesPerEpoch
        let total = options.steps ?? options.epochs * perEpoch
        let stop = min(total, options.maxSteps ?? total)
        let schedule = LearningRateSchedule(peak: options.lr, warmupSteps: options.warmupSteps, totalSteps: total,
                                            decay: LearningRateSchedule.Decay(rawValue: options.schedule)!, minimum: options.minLR)
        let optimizer = AdamW(parameters: objective.parameters, weightDecay: options.weightDecay)
        var step = 0
        if let checkpoint {
            step = try objective.loadState(from: checkpoint.appendingPathComponent(TrainingCheckpoints.stateFile), optimizer: optimizer)
            trainingNote("resumed from \(checkpoint.path) at step \(step)")
        }
        let log = try LossLog(url: output.appendingPathComponent("losses.jsonl"), keepingThrough: step)
        let progress = TrainingProgress(terms: objective.termNames, totalSteps: total, batchSize: options.batchSize,
                                        firstStep: step, interactive: isatty(STDERR_FILENO) == 1, every: options.logEvery)
        let stream = loader.stream(from: step)
        while step < stop {
            let batch = stream.next()
            for i in batch.unreadable { trainingNote("unreadable image replaced: \(loader.pairs[i].imagePath)") }
            let lr = schedule.learningRate(at: step)
            objective.parameters.forEach { $0.zeroGrad() }
            let terms = objective.forwardBackward(batch, step: step, stepsPerEpoch: perEpoch)
            let norm = options.gradClip > 0 ? optimizer.clipGradients(maxNorm: options.gradClip) : nil
            optimizer.update(learningRate: lr)
            step += 1
            try log.append(step: step, epoch: (step - 1) / perEpoch, lr: lr, names: objective.termNames, terms: terms,
                           gradNorm: norm, samplesPerSecond: progress.samplesPerSecond(at: step))
            progress.report(step: step, terms: terms, lr: lr)
            if options.checkpointEvery > 0 && step % options.checkpointEvery == 0 && step < stop {
                try TrainingCheckpoints.save(objective, optimizer: optimizer, step: step, output: output)
            }
        }
        progress.finish()
        try TrainingCheckpoints.save(objective, optimizer: optimizer, step: step, output: output)
        trainingNote("saved \(TrainingCheckpoints.folder(output, step: step).path)")
    }
}
