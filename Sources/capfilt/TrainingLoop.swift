import Foundation
import Training

/// How `capfilt pretrain|finetune` runs the Training module's trainer: the schedule and optimiser
/// from the options, checkpoints and the loss log under --output, progress on stderr.
struct TrainingLoop {
    let options: TrainingRunOptions
    let loader: TrainingDataLoader
    let objective: CheckpointedObjective

    func run(resumeFrom checkpoint: URL?) throws {
        let output = URL(fileURLWithPath: options.output)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let total = options.steps ?? options.epochs * loader.batchesPerEpoch
        let stop = min(total, options.maxSteps ?? total)
        let schedule = LearningRateSchedule(peak: options.lr, warmupSteps: options.warmupSteps, totalSteps: total,
                                            decay: LearningRateSchedule.Decay(rawValue: options.schedule)!, minimum: options.minLR)
        var trainer = Trainer(schedule: schedule, weightDecay: options.weightDecay, gradientClip: options.gradClip)
        // The first step after a resume is known once the checkpoint is read: progress starts then.
        var progress: TrainingProgress?
        trainer.note = trainingNote
        trainer.afterStep = { step in
            let display = progress ?? TrainingProgress(terms: objective.termNames, totalSteps: total, batchSize: options.batchSize,
                                                       firstStep: step.step - 1, interactive: isatty(STDERR_FILENO) == 1,
                                                       every: options.logEvery)
            progress = display
            display.report(step: step.step, terms: step.values, rate: step.samplesPerSecond, lr: step.learningRate)
        }
        let outcome = try trainer.run(objective, loader: loader, stop: stop, log: output.appendingPathComponent("losses.jsonl"),
                                      checkpoints: TrainingCheckpoints(output: output, every: options.checkpointEvery),
                                      resumeFrom: checkpoint)
        progress?.finish()
        trainingNote("saved \(TrainingCheckpoints.folder(output, step: outcome.steps).path)")
    }
}
