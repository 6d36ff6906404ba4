import Foundation
import Pipeline
import Training

/// The step loop of the training stages: seeded batches, AdamW with warm-up and cosine decay,
/// gradient clipping, one loss line per step in `losses.jsonl`. A stage that stops part-way
/// starts again from its initial weights (the stage is short; its output folder appears only
/// when complete).
struct StageTrainingLoop {
    var steps: Int
    var learningRate: Double
    var warmupSteps: Int
    var weightDecay: Float = 0.05
    var gradientClip: Double = 1

    /// Runs `steps` steps of `step` (which adds gradients and returns the loss terms, and may
    /// return extra logged values after them); returns the mean of each over the last tenth of
    /// the steps.
    func run(loader: TrainingDataLoader, parameters: [Parameter], termNames: [String], context: DatasetContext,
             log: URL, step: (LoadedBatch, Int) -> [Double]) throws -> [Double] {
        let schedule = LearningRateSchedule(peak: learningRate, warmupSteps: warmupSteps, totalSteps: steps, decay: .cosine)
        let optimizer = AdamW(parameters: parameters, weightDecay: weightDecay)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let file = try FileHandle(forWritingTo: log)
        defer { try? file.close() }
        context.progress.setTotal(steps)
        let stream = loader.stream(from: 0)
        let tail = max(1, steps / 10)
        var sums = [Double](repeating: 0, count: termNames.count)
        for s in 0..<steps {
            // Ctrl-C: stop between steps; the stage's folder is not written, so it starts again.
            if context.isCancelled { throw StageCancelled() }
            let batch = stream.next()
            parameters.forEach { $0.zeroGrad() }
            let terms = step(batch, s)
            if gradientClip > 0 { _ = optimizer.clipGradients(maxNorm: gradientClip) }
            let lr = schedule.learningRate(at: s)
            optimizer.update(learningRate: lr)
            let fields = zip(termNames, terms).map { "\"\($0)\":\(String(format: "%.6f", $1))" }.joined(separator: ",")
            file.write(Data("{\"step\":\(s + 1),\"lr\":\(lr),\(fields)}\n".utf8))
            if s >= steps - tail { for (i, t) in terms.enumerated() { sums[i] += t } }
            context.progress.addDone(1)
            if (s + 1) % 100 == 0 || s + 1 == steps {
                context.logger.info("\(context.name): step \(s + 1)/\(steps) \(zip(termNames, terms).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: " "))")
            }
        }
        return sums.map { $0 / Double(tail) }
    }
}
