import ArgumentParser
import Foundation
import Logging
import Pipeline

/// `capfilt bench-pipeline PIPELINE.yaml --stage decode`: the runner's overhead per sample
/// against calling the stage directly (see docs/benchmarks-pipeline.md).
struct BenchPipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-pipeline",
        abstract: "Measure the pipeline runner's overhead on one per-sample stage (JSON on stdout).",
        shouldDisplay: false)

    @OptionGroup var options: PipelineOptions
    @Option(help: "The per-sample stage to measure (everything upstream must be done).") var stage: String
    @Option(help: "Passes of each kind; the best is kept.") var repeats = 3

    func run() throws {
        let definition = try options.load()
        var logger = Logger(label: "capfilt")
        logger.logLevel = .warning
        let result = try PipelineRunner(pipeline: definition, logger: logger).measureOverhead(stage: stage, repeats: repeats)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
