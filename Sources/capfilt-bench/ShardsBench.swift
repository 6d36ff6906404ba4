import ArgumentParser
import DemoData
import Foundation

/// `capfilt-bench shards`: ingest of img2dataset-layout shards (docs/benchmarks-ingest.md).
/// Writes N shards of M samples (failed rows in the Parquet sidecars included) unless the folder
/// already holds them, then runs the `capfilt` beside this binary, `capfilt run --only ingest`
/// (and `--only fetch`), as child processes, and reports samples per second and each child's
/// peak resident memory. Nothing touches the network.
struct ShardsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "Measure ingest (and fetch) of img2dataset-layout WebDataset shards.")

    @Option(help: "Folder of the shards (written when it has no 00000.tar).") var folder: String
    @Option(help: "Shards to write.") var shards = 100
    @Option(help: "Samples per shard, failed ones included.") var samples = 1000
    @Option(name: .customLong("image-side"), help: "Side of the generated JPEGs, in pixels.") var imageSide = 64
    @Option(name: .customLong("failure-every"), help: "One sample in this many failed to download (0: none).") var failureEvery = 10
    @Option(help: "Working folder of the benchmark's pipeline (emptied first).") var workdir: String
    @Flag(help: "Also time the fetch stage, which copies every member into the blob store.") var fetch = false
    @Option(help: "The capfilt binary (default: the one beside this one).") var capfilt: String?

    struct Result: Encodable {
        var stage: String
        var samples: Int
        var seconds: Double
        var samplesPerSecond: Double
        /// User + system CPU seconds of the child: on a shared machine, the part that is its own.
        var cpuSeconds: Double
        var peakRSSMiB: Double
    }

    func run() throws {
        // The pipeline file lives in the work folder: its paths must not be relative to here.
        func absolute(_ path: String) -> String {
            ((path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
        }
        let folder = absolute(self.folder)
        if !FileManager.default.fileExists(atPath: folder + "/00000.tar") {
            let started = monotonicSeconds()
            let summary = try Img2DatasetShards.write(
                to: folder, options: .init(shards: shards, samplesPerShard: samples, failureEvery: failureEvery, imageSide: imageSide))
            FileHandle.standardError.write(Data(String(format: "wrote %d samples (%d failed) in %.1f s\n",
                                                       summary.samples, summary.failed, monotonicSeconds() - started).utf8))
        }
        let work = absolute(workdir)
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let last = String(format: "%05d", shards - 1)
        let pipeline = work + "/shards.yaml"
        try """
            dataset: shards-bench
            workdir: \(work)/run
            shards: 1
            threads: 2
            stages:
              ingest:
                manifests:
                  - path: \(folder)
                    format: img2dataset
                    shards: "{00000..\(last)}.tar"
                    source: laion
              fetch:
                needs: [ingest]
                fsync: false

            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let binary = capfilt ?? (URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/capfilt")
        for stage in fetch ? ["ingest", "fetch"] : ["ingest"] {
            let started = monotonicSeconds()
            let (status, peak, cpu) = try runChild(binary, ["run", pipeline, "--only", stage, "--plain"])
            let seconds = monotonicSeconds() - started
            guard status == 0 else { throw BenchError("capfilt run --only \(stage) exited with \(status)") }
            let n = shards * samples
            try printSortedJSON(Result(stage: stage, samples: n, seconds: seconds, samplesPerSecond: Double(n) / seconds,
                                       cpuSeconds: cpu, peakRSSMiB: Double(peak) / 1_048_576))
        }
    }

    /// Runs a program to its end (its output to /dev/null); returns its exit status and peak
    /// resident bytes and CPU seconds (from `wait4`).
    private func runChild(_ path: String, _ arguments: [String]) throws -> (Int32, Int, Double) {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return (exit, Int(usage.ru_maxrss) * 1024, cpu)
    }
}
