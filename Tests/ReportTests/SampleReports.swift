import Foundation

@testable import Report

/// Reports used by the tests and by the example page (ExampleReportTests).
enum SampleReports {
    /// A 16x12 gradient JPEG, used as every thumbnail when no others are given.
    static let tinyJPEG: [UInt8] = Array(Data(base64Encoded: """
        /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCjZ6V0+Wt2z0rp8tbFnbR8fLW5Z20fHy1ln+OlqcPDmYz0P//Z
        """, options: .ignoreUnknownCharacters)!)

    static let threshold = 0.5

    /// Deterministic scores in [0, 1]: a mix of two bumps, `lowShare` of them near `low`.
    static func scores(count: Int, low: Double, high: Double, lowShare: Double, seed: UInt64) -> [Double] {
        var state = seed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(UInt64(1) << 53)
        }
        return (0..<count).map { _ in
            let centre = uniform() < lowShare ? low : high
            // Sum of three uniforms: a bell of width ±0.3 around the centre.
            let x = centre + (uniform() + uniform() + uniform() - 1.5) * 0.2
            return min(1, max(0, x))
        }
    }

    /// A run as the pipeline would describe it, with `sampleCount` samples. `thumbnails` are
    /// used in turn; by default every sample shows the tiny gradient.
    static func realistic(sampleCount: Int = 12, thumbnails: [[UInt8]] = [tinyJPEG], sourcesAreURLs: Bool = true) -> RunReport {
        let captions: [(web: String, synthetic: String, webITM: Double, synITM: Double)] = [
            ("Golden retriever puppy playing fetch on the beach at sunset", "a dog running on the beach with a ball", 0.94, 0.97),
            ("IMG_20190612_104512.jpg", "a red double decker bus on a city street", 0.03, 0.92),
            ("Buy now! 50% off summer collection – free shipping", "a woman in a white dress standing in a field", 0.08, 0.88),
            ("Fresh homemade margherita pizza with basil", "a pizza with tomatoes and basil on a wooden table", 0.91, 0.95),
            ("Stock photo 4471 royalty free", "a cup of coffee next to a laptop on a desk", 0.11, 0.81),
            ("View from our hotel room in Lisbon", "a view of a city with red roofs and the sea", 0.63, 0.90),
            ("Product shot", "a pair of white sneakers on a white background", 0.22, 0.44),
            ("Children playing football in the park after school", "a group of kids playing soccer on a field", 0.88, 0.93),
            ("DSC_0042", "a bowl of fruit on a kitchen counter", 0.02, 0.76),
            ("Our new kitchen renovation, before and after photos", "a kitchen with white cabinets and a stove", 0.57, 0.86),
            ("Click here to subscribe to the newsletter", "a black and white cat sleeping on a couch", 0.01, 0.96),
            ("Snowy mountain peak reflected in a calm alpine lake", "a mountain with snow reflected in a lake", 0.97, 0.98),
        ]
        var samples: [SampleItem] = []
        for i in 0..<sampleCount {
            let c = captions[i % captions.count]
            let key = String(format: "cc3m-%08d", 1_204_511 + i * 7919)
            let source = sourcesAreURLs ? "https://images.example.org/photos/\(i)/full.jpg?w=1024&sig=a1b2" : "shards/00003/\(key).jpg"
            func decision(_ itm: Double) -> (TextDecision, String) {
                itm >= threshold
                    ? (.kept, "itm \(String(format: "%.2f", itm)) ≥ \(threshold)")
                    : (.dropped, "itm \(String(format: "%.2f", itm)) < \(threshold)")
            }
            let (webDecision, webReason) = decision(c.webITM)
            let (synDecision, synReason) = decision(c.synITM)
            var texts = [
                SampleText(origin: .web, text: c.web, itm: c.webITM, itc: 0.18 + c.webITM * 0.3, decision: webDecision, reason: webReason),
                SampleText(origin: .synthetic, text: c.synthetic, itm: c.synITM, itc: 0.2 + c.synITM * 0.28, decision: synDecision, reason: synReason),
            ]
            if i % 4 == 0 {
                texts.append(SampleText(origin: .human, text: "A person annotated this image by hand.", itm: 0.83, itc: 0.43, decision: .kept, reason: "human text, not filtered"))
            }
            if i == 6 { texts.append(SampleText(origin: .synthetic, text: "a shoe", itm: nil, itc: nil)) }
            samples.append(SampleItem(key: key, source: source, thumbnail: thumbnails[i % thumbnails.count], texts: texts))
        }
        // Best-of-N: five nucleus-sampled captions of the first two images, ranked by ITM, keep_top 2.
        let candidateCaptions = [
            ("a dog running on the beach with a ball", 0.97), ("a golden dog on the sand at sunset", 0.93),
            ("a dog <and> a ball & the sea", 0.61), ("a brown animal near water", 0.55), ("a picture of a beach", 0.31),
        ]
        let candidates = samples.prefix(2).map { item in
            SampleItem(key: item.key, source: item.source, thumbnail: item.thumbnail, texts: candidateCaptions.enumerated().map { i, c in
                let passes = c.1 >= threshold, kept = passes && i < 2
                let reason = String(format: "itm %.3f %@ %g, rank %d of 5 by itm", c.1, passes ? ">=" : "<", threshold, i + 1)
                    + (passes && !kept ? " (keep_top 2)" : "")
                return SampleText(origin: .synthetic, text: c.0, itm: c.1, itc: 0.2 + c.1 * 0.28, decision: kept ? .kept : .dropped,
                                  reason: reason, rank: i + 1, rankScore: c.1, rankBy: "itm")
            })
        }
        let webScores = scores(count: 48_000, low: 0.12, high: 0.8, lowShare: 0.42, seed: 1)
        let syntheticScores = scores(count: 48_000, low: 0.2, high: 0.88, lowShare: 0.12, seed: 2)
        let webDropped = webScores.filter { $0 < threshold }.count
        let synDropped = syntheticScores.filter { $0 < threshold }.count
        return RunReport(
            title: "CapFilt run report",
            dataset: "cc3m-subset-50k",
            runID: "2025-03-14T09-26-53Z-7f3a",
            startedAt: Date(timeIntervalSince1970: 1_741_944_413),
            finishedAt: Date(timeIntervalSince1970: 1_741_944_413 + 7_384),
            pipelineFile: "pipelines/capfilt-cc3m.yaml",
            stages: [
                StageSummary(stage: "ingest", done: 50_000, pending: 0, failed: 0, statusCounts: [StatusCount("parsed", 50_000)], seconds: 3.4),
                StageSummary(stage: "fetch", done: 48_112, pending: 0, failed: 1_888,
                             statusCounts: [StatusCount("ok", 48_112), StatusCount("http_404", 1_203), StatusCount("timeout", 402), StatusCount("not_an_image", 283)], seconds: 1_915),
                StageSummary(stage: "decode", done: 48_004, pending: 0, failed: 108, statusCounts: [StatusCount("ok", 48_004), StatusCount("too_small", 97), StatusCount("corrupt", 11)], seconds: 212.6),
                StageSummary(stage: "dedup", done: 48_004, pending: 0, failed: 0,
                             statusCounts: [StatusCount("unique", 47_210), StatusCount("exact_duplicate", 512), StatusCount("near_duplicate", 282)], seconds: 4.1),
                StageSummary(stage: "caption", done: 47_210, pending: 0, failed: 0, statusCounts: [StatusCount("captioned", 47_210)], seconds: 3_902),
                StageSummary(stage: "filter", done: 46_000, pending: 1_210, failed: 0, statusCounts: [StatusCount("scored", 46_000)], seconds: 1_180.5),
                StageSummary(stage: "export", done: 0, pending: 47_210, failed: 0, seconds: nil),
            ],
            texts: [
                OriginCounts(origin: .web, total: webScores.count, kept: webScores.count - webDropped, dropped: webDropped),
                OriginCounts(origin: .synthetic, total: syntheticScores.count, kept: syntheticScores.count - synDropped, dropped: synDropped),
                OriginCounts(origin: .human, total: 1_250, kept: 1_250, dropped: 0),
            ],
            histograms: [
                ScoreHistogram(title: "Web texts: ITM probability", origin: .web, scores: webScores, threshold: threshold),
                ScoreHistogram(title: "Synthetic texts: ITM probability", origin: .synthetic, scores: syntheticScores, threshold: threshold),
            ],
            evaluation: [
                EvaluationMetric(name: "Filter precision", value: 0.912, description: "share of dropped texts that annotators marked as not matching"),
                EvaluationMetric(name: "Filter recall", value: 0.847, description: "share of non-matching texts the filter dropped"),
                EvaluationMetric(name: "BLEU-4", value: 0.3521, description: "captioner on the held-out split, against human captions"),
                EvaluationMetric(name: "CIDEr", value: 1.1734, description: "captioner on the held-out split"),
                EvaluationMetric(name: "R@1 (image→text)", value: 0.6215),
                EvaluationMetric(name: "R@5 (image→text)", value: 0.8630),
                EvaluationMetric(name: "R@1 (text→image)", value: nil, description: "not computed in this run"),
            ],
            samples: samples,
            candidates: candidates,
            notes: ["Filter threshold: ITM ≥ 0.5 keeps a text.", "Synthetic captions: nucleus sampling, p = 0.9, one per image."])
    }
}
