import ArgumentParser
import Foundation
import Pipeline

extension InspectView: ExpressibleByArgument {}
extension InspectFormat: ExpressibleByArgument {}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "What was dropped, what failed and why: dropped texts, failures, duplicates, manifest problems.",
        discussion: """
            Views: dropped (texts the filter dropped: key, origin, text, ITM score, threshold, \
            reason, a synthetic caption's rank among its image's captions and ranking score), failures (samples that failed a stage: stage, status, error, URL, key), \
            duplicates (with the sample kept in their place, kind, distance), problems (malformed \
            manifest rows: file, line, reason). Without a view, how many rows each view has. \
            Reads every shard catalog; safe while a run writes. See docs/pipeline.md.
            """)

    @OptionGroup var options: PipelineOptions
    @Argument(help: "dropped, failures, duplicates or problems (omitted: the count of each).") var view: InspectView?
    @Option(help: "Only rows of this stage.") var stage: String?
    @Option(help: "Only this status (failures: e.g. http_404; duplicates: exact, near or url).") var status: String?
    @Option(help: "Only samples of this manifest source.") var source: String?
    @Option(help: "Only rows whose reason contains this text (any case).") var reason: String?
    @Option(help: "table (aligned columns), csv or jsonl.") var format: InspectFormat = .table
    @Option(help: "A random sample of this many matching rows (in catalog order).") var sample: Int?
    @Option(help: "Seed of --sample (the same seed draws the same rows).") var seed: UInt64 = 0
    @Option(help: "At most this many rows.") var limit: Int?

    func validate() throws {
        if let sample, sample < 0 { throw ValidationError("--sample must be at least 0") }
        if let limit, limit < 0 { throw ValidationError("--limit must be at least 0") }
    }

    func run() throws {
        let runner = PipelineRunner(pipeline: try options.load())
        let filter = InspectFilter(stage: stage, status: status, source: source, reason: reason)
        do {
            guard let view else {
                for v in InspectView.allCases {
                    let n = try runner.inspect(v, filter: filter, limit: 0).matched
                    print("\(v.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0))\(n)")
                }
                return
            }
            let table = try runner.inspect(view, filter: filter, sample: sample, seed: seed, limit: limit)
            print(table.render(format), terminator: "")
            if table.rows.count < table.matched {
                Output.error("\(table.rows.count) of \(table.matched) matching rows")
            }
        } catch let e as InspectError {
            Output.error("error: \(e)")
            throw ExitCode(2)
        }
    }
}
