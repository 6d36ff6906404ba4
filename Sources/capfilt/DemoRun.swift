import Dispatch
import Foundation
import Logging
import Pipeline

/// Runs a pipeline one stage at a time in pipeline order. The runner does all per-sample stages
/// before the whole-dataset ones; the demo's caption and filter stages need models that
/// whole-dataset training stages write, so each stage gets its own run. Every stage resumes on
/// its own, so an interrupted demo continues where it stopped.
struct DemoRun {
    let definition: PipelineDefinition
    let interactive: Bool

    func run() throws -> (ran: [String], cancelled: Bool) {
        let runner = PipelineRunner(pipeline: definition, logger: Logger(label: "capfilt"))
        let cancellation = runner.cancellation
        let interrupts = SignalCancellation { cancellation.cancel() }
        defer { interrupts.disarm() }
        var ran: [String] = []
        for stage in definition.stages {
            var options = RunOptions(only: stage.name)
            options.command = "capfilt demo"
            options.interactive = interactive
            let summary = try runner.run(options)
            ran += summary.ranStages
            if summary.cancelled || cancellation.isCancelled { return (ran, true) }
        }
        return (ran, false)
    }
}
