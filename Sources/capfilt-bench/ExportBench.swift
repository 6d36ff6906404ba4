import ArgumentParser
import Basics
import Export
import Foundation
import Ingest
import Training

/// `capfilt-bench export`: a nightly update of a WebDataset export. A first generation of
/// `--samples` samples is written; then `--removed-share` of them leave and `--new-share` new
/// ones arrive, and the export is updated (`WebDatasetUpdate`) and, for comparison, rebuilt
/// whole. Reports the bytes each writes and checks that a reader of the updated index (applying
/// its exclusions) sees exactly the rebuild's samples: the same keys, and the same bytes in every
/// member (compared by SHA-256). Prints one JSON line; `--report` also writes a markdown table.
struct ExportBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Time an incremental (nightly) export update against a rebuild.")

    @Option var samples = 100_000
    @Option(name: .customLong("new-share")) var newShare = 0.01
    @Option(name: .customLong("removed-share")) var removedShare = 0.005
    @Option(name: .customLong("image-bytes"), help: "Mean image size; sizes vary from half to 1.5 times it.") var imageBytes = 12_000
    @Option(name: .customLong("distinct-images"), help: "Image files the samples share (as an image's several captions do).")
    var distinctImages = 5_000
    @Option(name: .customLong("samples-per-shard")) var samplesPerShard = 10_000
    @Option(help: "Scratch folder (removed at the end).") var folder = NSTemporaryDirectory() + "capfilt-export-bench"
    @Option var seed: UInt64 = 7
    @Option(help: "Also write the results as markdown here.") var report: String?

    func validate() throws {
        guard samples >= 100, distinctImages >= 1, imageBytes >= 16, samplesPerShard >= 1 else {
            throw ValidationError("--samples >= 100, --distinct-images >= 1, --image-bytes >= 16, --samples-per-shard >= 1")
        }
        guard (0..<1).contains(newShare), (0..<1).contains(removedShare) else { throw ValidationError("shares are in [0, 1)") }
    }

    func run() throws {
        try? FileManager.default.removeItem(atPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = SplitMix(seed: seed)
        let images = try writeImages(&rng)
        var options = WebDatasetOptions(samplesPerShard: samplesPerShard)
        options.durable = false
        options.writeSampleLists = true

        func sample(_ i: Int) -> ShardSample {
            let metadata = SampleMetadata(
                key: "web/\(i)", source: "web", origin: i % 3 == 0 ? "synthetic" : "web",
                caption: "a photo of scene \(i) with \(i % 7) objects", url: "https://example.com/\(i).jpg",
                sha256: String(repeating: "ab", count: 32), width: 384, height: 384,
                scores: ["itm": Double(i % 1000) / 1000, "itc": Double(i % 500) / 1000])
            return .capfilt(metadata, image: .file(images[i % images.count]))
        }

        // Generation 1: the whole export.
        let exportFolder = folder + "/export"
        let firstIDs = Array(0..<samples)
        let (first, firstSeconds) = try timed { try update(exportFolder, firstIDs.map(sample), options) }
        let exportBytes = first.bytesWritten

        // The nightly change: some samples leave, new ones arrive.
        let removedCount = Int((Double(samples) * removedShare).rounded())
        let newCount = Int((Double(samples) * newShare).rounded())
        var removed = Set<Int>()
        while removed.count < removedCount { removed.insert(Int(rng.next() % UInt64(samples))) }
        let secondIDs = firstIDs.filter { !removed.contains($0) } + Array(samples..<(samples + newCount))
        let (second, updateSeconds) = try timed { try update(exportFolder, secondIDs.map(sample), options) }

        // The same dataset exported whole.
        let rebuildFolder = folder + "/rebuild"
        let (rebuildBytes, rebuildSeconds) = try timed { () -> Int in
            let writer = try WebDatasetWriter(directory: rebuildFolder, options: options)
            for id in secondIDs { try writer.add(sample(id)) }
            let summary = try writer.finish()
            return summary.shards.reduce(0) { $0 + $1.bytes }
        }
        let updatedView = try readerView(exportFolder)
        let rebuiltView = try readerView(rebuildFolder)
        let differing = Set(updatedView.keys).union(rebuiltView.keys).filter { updatedView[$0] != rebuiltView[$0] }.count

        let share = Double(second.bytesWritten) / Double(exportBytes)
        let result: JSONValue = .orderedObject([
            ("samples", .int(samples)), ("removed", .int(removedCount)), ("new", .int(newCount)),
            ("shards_before", .int(first.summary.shards.count)), ("shards_after", .int(second.summary.shards.count)),
            ("export_bytes", .int(exportBytes)), ("first_export_seconds", .double(firstSeconds)),
            ("update_bytes_written", .int(second.bytesWritten)), ("update_share", .double(share)),
            ("update_seconds", .double(updateSeconds)), ("update_written_samples", .int(second.written)),
            ("update_removed_samples", .int(second.removed)), ("retired_shards", .int(second.retiredShards)),
            ("rebuild_tar_bytes", .int(rebuildBytes)), ("rebuild_seconds", .double(rebuildSeconds)),
            ("reader_samples", .int(updatedView.count)), ("rebuild_samples", .int(rebuiltView.count)),
            ("differing_samples", .int(differing)),
        ])
        Output.json(result)
        if let report { try writeReport(report, result: result, share: share, differing: differing,
                                        updated: updatedView.count, rebuilt: rebuiltView.count) }
        if differing > 0 || updatedView.count != rebuiltView.count { throw ExitCode(1) }
    }

    private func update(_ folder: String, _ dataset: [ShardSample], _ options: WebDatasetOptions) throws -> WebDatasetUpdate.Outcome {
        let u = try WebDatasetUpdate(directory: folder, options: options)
        for s in dataset { try u.observe(s) }
        for s in dataset { try u.write(s) }
        return try u.finish()
    }

    private func writeImages(_ rng: inout SplitMix) throws -> [String] {
        let dir = folder + "/images"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try (0..<distinctImages).map { i in
            let size = imageBytes / 2 + Int(rng.next() % UInt64(imageBytes))
            var bytes = [UInt8](repeating: 0, count: size)
            for j in stride(from: 0, to: size, by: 8) {
                withUnsafeBytes(of: rng.next()) { word in for k in 0..<min(8, size - j) { bytes[j + k] = word[k] } }
            }
            let path = dir + "/\(i).jpg"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    /// key -> member -> SHA-256 of its bytes, for every sample a reader of the index sees.
    private func readerView(_ folder: String) throws -> [String: [String: String]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/shards.json"))
        guard let index = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let shards = index["shards"] as? [[String: Any]] else { throw ValidationError("\(folder): no index") }
        var view: [String: [String: String]] = [:]
        for shard in shards {
            let excluded = Set(shard["excluded"] as? [String] ?? [])
            let reader = try TarReader(path: folder + "/" + (shard["name"] as? String ?? ""))
            while let member = try reader.nextMember() {
                let (key, ext) = WebDatasetKey.split(member.name)
                guard !excluded.contains(key) else { continue }
                view[key, default: [:]][ext] = SHA256.hex(reader.read(member)!)
            }
        }
        return view
    }

    private func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = monotonicSeconds()
        let value = try body()
        return (value, monotonicSeconds() - start)
    }

    private func writeReport(_ path: String, result: JSONValue, share: Double, differing: Int, updated: Int, rebuilt: Int) throws {
        let cpu = cpuDescription()
        let date = ISO8601DateFormatter().string(from: Date())
        let text = """
        # Benchmark: a nightly update of a WebDataset export

        Generated by `capfilt-bench export --report` (`make bench`) on \(date), \(cpu), \
        \(ProcessInfo.processInfo.activeProcessorCount) cores. \(samples) samples (\(distinctImages) image files of \
        \(imageBytes / 2) to \(imageBytes * 3 / 2) bytes shared between them, a caption and a json each), \
        \(samplesPerShard) per shard; then \(removedShare * 100)% removed and \(newShare * 100)% new.

        - Bytes written by the update: **\(String(format: "%.2f", share * 100))%** of the export's bytes (goal: <= 3%).
        - A reader of the updated index sees \(updated) samples, the rebuild holds \(rebuilt); samples that differ \
        in keys or in any member's bytes (SHA-256): **\(differing)**.

        \(markdownTable(result))

        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
