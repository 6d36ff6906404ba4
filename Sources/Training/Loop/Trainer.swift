import Foundation

/// The one training loop of capfilt, behind `capfilt pretrain|finetune` and the training stages:
/// seeded batches from (seed, step), AdamW with the learning-rate schedule, optional gradient
/// clipping, a loss log line per step, checkpoints and resume, and a cancellation point between
/// steps. The order of operations per step is fixed (zero gradients, forward and backward, clip,
/// update), so the same settings give bit-identical weights through either front door.
public struct Trainer {
    public var schedule: LearningRateSchedule
    public var weightDecay: Float
    /// Maximum global gradient norm; 0: no clipping.
    public var gradientClip: Double

    /// Called before each step; throws to stop the run between steps (Ctrl-C).
    public var checkCancelled: () throws -> Void = {}
    /// Called after each step.
    public var afterStep: (TrainerStep) throws -> Void = { _ in }
    /// Lines for the user: resumes, unreadable images replaced.
    public var note: (String) -> Void = { _ in }

    public init(schedule: LearningRateSchedule, weightDecay: Float, gradientClip: Double) {
        self.schedule = schedule; self.weightDecay = weightDecay; self.gradientClip = gradientClip
    }

    /// Trains `objective` up to global step `stop` (the schedule may span more), from `resumeFrom`
    /// (a checkpoint folder) or from step 0. Writes `log`; with `checkpoints`, saves every
    /// `checkpoints.every` steps and after the last one.
    @discardableResult
    public func run(_ objective: TrainingObjective, loader: TrainingDataLoader, stop: Int, log: URL,
                    checkpoints: TrainingCheckpoints? = nil, resumeFrom checkpoint: URL? = nil) throws -> TrainerOutcome {
        let checkpointed = objective as? CheckpointedObjective
        precondition(checkpoints == nil && checkpoint == nil || checkpointed != nil, "checkpoints need a CheckpointedObjective")
        let perEpoch = loader.batchesPerEpoch
        let optimizer = AdamW(parameters: objective.parameters, weightDecay: weightDecay)
        var step = 0
        if let checkpoint, let checkpointed {
            step = try checkpointed.loadState(from: checkpoint.appendingPathComponent(TrainingCheckpoints.stateFile), optimizer: optimizer)
            note("resumed from \(checkpoint.path) at step \(step)")
        }
        let lossLog = try LossLog(url: log, keepingThrough: step)
        let names = objective.termNames + objective.statNames
        let terms = objective.termNames.count
        let throughput = Throughput(batchSize: loader.options.batchSize, firstStep: step)
        // The mean of each value over the last tenth of the steps: what a stage reports.
        let tailStart = stop - max(1, stop / 10)
        var sums = [Double](repeating: 0, count: names.count), summed = 0
        let stream = loader.stream(from: step)
        while step < stop {
            try checkCancelled()
            let batch = stream.next()
            for i in batch.unreadable { note("unreadable image replaced: \(loader.pairs[i].imagePath)") }
            let lr = schedule.learningRate(at: step)
            objective.parameters.forEach { $0.zeroGrad() }
            let values = objective.forwardBackward(batch, step: step, stepsPerEpoch: perEpoch)
            let norm = gradientClip > 0 ? optimizer.clipGradients(maxNorm: gradientClip) : nil
            optimizer.update(learningRate: lr)
            if step >= tailStart {
                for (i, v) in values.enumerated() { sums[i] += v }
                summed += 1
            }
            step += 1
            let record = TrainerStep(step: step, epoch: (step - 1) / perEpoch, learningRate: lr, names: names,
                                     values: values, loss: values.prefix(terms).reduce(0, +), gradientNorm: norm,
                                     samplesPerSecond: throughput.samplesPerSecond(at: step))
            try lossLog.append(step: step, epoch: record.epoch, lr: lr, values: Array(zip(names, values)), loss: record.loss,
                               gradNorm: norm, samplesPerSecond: record.samplesPerSecond)
            try afterStep(record)
            if let checkpoints, let checkpointed, checkpoints.every > 0 && step % checkpoints.every == 0 && step < stop {
                try checkpoints.save(checkpointed, optimizer: optimizer, step: step)
            }
        }
        if let checkpoints, let checkpointed { try checkpoints.save(checkpointed, optimizer: optimizer, step: step) }
        return TrainerOutcome(steps: step, tailMeans: sums.map { $0 / Double(max(1, summed)) })
    }
}

/// One finished step (1-based), as the log and a progress display see it.
public struct TrainerStep: Sendable {
    public let step: Int
    public let epoch: Int
    public let learningRate: Double
    /// The loss terms, then the stats.
    public let names: [String]
    public let values: [Double]
    /// The sum of the loss terms.
    public let loss: Double
    public let gradientNorm: Double?
    public let samplesPerSecond: Double
}

/// Where a run ended and what its last steps looked like.
public struct TrainerOutcome: Sendable {
    public let steps: Int
    /// Each value's mean over the last tenth of the steps up to the stop (or the part of them run).
    public let tailMeans: [Double]
}

/// Samples per second since the run (or resume) started.
struct Throughput {
    let batchSize: Int, firstStep: Int
    private let start = Date()

    init(batchSize: Int, firstStep: Int) { self.batchSize = batchSize; self.firstStep = firstStep }

    func samplesPerSecond(at step: Int) -> Double {
        let elapsed = Date().timeIntervalSince(start)
        return elapsed > 0 ? Double((step - firstStep) * batchSize) / elapsed : 0
    }
}
