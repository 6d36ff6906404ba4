import Foundation

/// The demo's results.json: the evaluate stage writes it; the demo adds its own wall time
/// (all invocations together, a resumed run included) and prints the key figures.
enum DemoResults {
    static func addSeconds(_ seconds: Double, workdir: String) throws {
        let total = workdir + "/demo-seconds.txt"
        let before = (try? String(contentsOfFile: total, encoding: .utf8)).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        let sum = before + seconds
        try String(format: "%.1f\n", sum).write(toFile: total, atomically: true, encoding: .utf8)
        let path = workdir + "/results.json"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("  \"seconds\": ") else { return String(line) }
            return String(format: "  \"seconds\": %.1f", sum) + (line.hasSuffix(",") ? "," : "")
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func summary(path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path),
              let r = try? JSONSerialization.jsonObject(with: data) as? [String: Double] else { return "no results.json yet" }
        func v(_ k: String) -> Double { r[k] ?? .nan }
        let main = String(format: """
            filter: precision %.3f, recall %.3f; synthetic captions dropped %.1f%%
            captioner: BLEU-4 %.3f, CIDEr %.3f
            R@1 image-to-text: noisy %.1f -> bootstrapped %.1f; text-to-image: %.1f -> %.1f
            R@5 image-to-text: noisy %.1f -> bootstrapped %.1f; text-to-image: %.1f -> %.1f
            time: %.0f s
            """, v("filter_precision"), v("filter_recall"), 100 * v("synthetic_noise_ratio"), v("bleu4"), v("cider"),
            v("r1_i2t_noisy"), v("r1_i2t_bootstrapped"), v("r1_t2i_noisy"), v("r1_t2i_bootstrapped"),
            v("r5_i2t_noisy"), v("r5_i2t_bootstrapped"), v("r5_t2i_noisy"), v("r5_t2i_bootstrapped"), v("seconds"))
        guard r["synthetic_kept_false_ratio"] != nil else { return main }
        return main + String(format: "\nsynthetic captions: %.1f%% false, %.1f%% of the %.0f kept",
                             100 * v("synthetic_false_ratio"), 100 * v("synthetic_kept_false_ratio"), v("synthetic_kept"))
    }
}
