import Foundation

/// The loss log: one JSON object per step (step, epoch, lr, loss, each term and stat, grad_norm,
/// samples_per_s), appended and flushed as steps finish. A resumed run first drops the lines
/// after its checkpoint's step, so the log reads as one uninterrupted run.
public final class LossLog {
    private let handle: FileHandle

    public init(url: URL, keepingThrough step: Int) throws {
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

    deinit { try? handle.close() }

    /// `values` are the named loss terms, then the named stats; `loss` sums the terms alone.
    public func append(step: Int, epoch: Int, lr: Double, values: [(name: String, value: Double)], loss: Double,
                       gradNorm: Double?, samplesPerSecond: Double) throws {
        // Values with 17 significant digits, so a resumed run's lines can be compared exactly.
        var fields = ["\"step\":\(step)", "\"epoch\":\(epoch)", "\"lr\":\(number(lr))", "\"loss\":\(number(loss))"]
        for (n, v) in values { fields.append("\"\(n)\":\(number(v))") }
        if let gradNorm { fields.append("\"grad_norm\":\(number(gradNorm))") }
        fields.append("\"samples_per_s\":\(String(format: "%.2f", samplesPerSecond))")
        try handle.write(contentsOf: Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
    }

    private func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
}
