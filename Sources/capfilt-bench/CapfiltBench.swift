import ArgumentParser
import Tensor

/// The benchmarks behind `make bench`, kept out of the `capfilt` product. Each subcommand times
/// one thing through the libraries' public API and prints one JSON line.
@main
struct CapfiltBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capfilt-bench",
        abstract: "Time capfilt's model, best-of-N captioning, image, pipeline, training, gate, shard, export and semantic-dedup paths (used by `make bench`).",
        subcommands: [MEDBench.self, CaptionCountBench.self, ImagesBench.self, PipelineBench.self, TrainBench.self, GatesBench.self, ShardsBench.self,
                      ExportBench.self, SemanticDedupBench.self])
}

extension Precision: ExpressibleByArgument {}
