import Foundation

/// The progress display on stderr: a live line on a terminal, plain lines every N steps otherwise.
final class TrainingProgress {
    let terms: [String]
    let totalSteps: Int, batchSize: Int, firstStep: Int
    let interactive: Bool, every: Int

    init(terms: [String], totalSteps: Int, batchSize: Int, firstStep: Int, interactive: Bool, every: Int) {
        self.terms = terms; self.totalSteps = totalSteps; self.batchSize = batchSize; self.firstStep = firstStep
        self.interactive = interactive; self.every = every
    }

    /// `rate`: samples per second since the run (or resume) started.
    func report(step: Int, terms values: [Double], rate: Double, lr: Double) {
        let remaining = rate > 0 ? Double((totalSteps - step) * batchSize) / rate : 0
        let parts = zip(terms, values).map { "\($0) \(String(format: "%.4f", $1))" }.joined(separator: " ")
        let line = String(format: "step %d/%d  loss %.4f (", step, totalSteps, values.reduce(0, +)) + parts
            + String(format: ")  lr %.3g  %.1f samples/s  ETA ", lr, rate) + duration(remaining)
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        } else if step % every == 0 || step == firstStep + 1 || step == totalSteps {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
