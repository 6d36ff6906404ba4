import ArgumentParser
import Tensor

/// The benchmarks behind `make bench`, kept out of the `capfilt` product. Each subcommand times
/// one thing through the libraries' public API and prints one JSON line.
@main
struct CapfiltBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capfilt-bench",
        abstract: "Time capfilt's model, image, pipeline and training paths (used by `make bench`).",
        subcommands: [MEDBench.self, ImagesBench.self, PipelineBench.self, TrainBench.self, ShardsBench.self])
}

extension Precision: ExpressibleByArgument {}
