import Foundation

/// The loss log: one JSON object per step (step, epoch, lr, loss, each term, grad_norm,
/// samples_per_s), appended and flushed as steps finish. A resumed run first drops the lines
/// after its checkpoint's step, so the log reads as one uninterrupted run.
final class LossLog {
    private let handle: FileHandle

    init(url: URL, keepingThrough step: Int) throws {
        let fm = FileManager.default
        var kept = ""
        if step > 0, let text = try? String(contentsOf: url, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let s = object["step"] as? Int, s <= step else { continue }
                kept += line + "\n"
            }
        }
        try Data(kept.utf8).write(to: url, options: .atomic)
        guard fm.fileExists(atPath: url.path), let handle = FileHandle(forWritingAtPath: url.path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    func append(step: Int, epoch: Int, lr: Double, names: [String], terms: [Double], gradNorm: Double?,
                samplesPerSecond: Double) throws {
        // Losses with 17 significant digits, so a resumed run's lines can be compared exactly.
        var fields = ["\"step\":\(step)", "\"epoch\":\(epoch)", "\"lr\":\(number(lr))",
                      "\"loss\":\(number(terms.reduce(0, +)))"]
        for (n, t) in zip(names, terms) { fields.append("\"\(n)\":\(number(t))") }
        if let gradNorm { fields.append("\"grad_norm\":\(number(gradNorm))") }
        fields.append("\"samples_per_s\":\(String(format: "%.2f", samplesPerSecond))")
        try handle.write(contentsOf: Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
    }

    private func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
}

/// The progress display on stderr: a live line on a terminal, plain lines every N steps otherwise.
final class TrainingProgress {
    let terms: [String]
    let totalSteps: Int, batchSize: Int, firstStep: Int
    let interactive: Bool, every: Int
    private let start = Date()

    init(terms: [String], totalSteps: Int, batchSize: Int, firstStep: Int, interactive: Bool, every: Int) {
        self.terms = terms; self.totalSteps = totalSteps; self.batchSize = batchSize; self.firstStep = firstStep
        self.interactive = interactive; self.every = every
    }

    func samplesPerSecond(at step: Int) -> Double {
        let elapsed = Date().timeIntervalSince(start)
        return elapsed > 0 ? Double((step - firstStep) * batchSize) / elapsed : 0
    }

    func report(step: Int, terms values: [Double], lr: Double) {
        let rate = samplesPerSecond(at: step)
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
