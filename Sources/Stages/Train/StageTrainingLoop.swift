import Foundation
import Pipeline
import Training

/// How the training stages run the Training module's trainer: warm-up and cosine decay over
/// `steps`, gradient clipping, the loss log in the stage's folder, stage progress and a log line
/// every 100 steps, Ctrl-C between steps. A stage that stops part-way starts again from its
/// initial weights (the stage is short; its output folder appears only when complete), so it
/// writes no checkpoints.
struct StageTrainingLoop {
    var steps: Int
    var learningRate: Double
    var warmupSteps: Int
    var weightDecay: Float = 0.05
    var gradientClip: Double = 1

    /// Runs `steps` steps of `objective`; returns the mean of each loss term and stat over the
    /// last tenth of the steps.
    func run(_ objective: TrainingObjective, loader: TrainingDataLoader, context: DatasetContext, log: URL) throws -> [Double] {
        let schedule = LearningRateSchedule(peak: learningRate, warmupSteps: warmupSteps, totalSteps: steps, decay: .cosine)
        var trainer = Trainer(schedule: schedule, weightDecay: weightDecay, gradientClip: gradientClip)
        // Ctrl-C: stop between steps; the stage's folder is not written, so it starts again.
        trainer.checkCancelled = { if context.isCancelled { throw StageCancelled() } }
        trainer.note = { context.logger.info("\(context.name): \($0)") }
        trainer.afterStep = { step in
            context.progress.addDone(1)
            if step.step % 100 == 0 || step.step == steps {
                let values = zip(step.names, step.values).map { "\($0) \(String(format: "%.3f", $1))" }
                context.logger.info("\(context.name): step \(step.step)/\(steps) \(values.joined(separator: " "))")
            }
        }
        context.progress.setTotal(steps)
        return try trainer.run(objective, loader: loader, stop: steps, log: log).tailMeans
    }
}
