import Basics
import Dispatch
import Foundation
import Logging
import Pipeline

/// Runs the demo pipeline once. The runner orders the stages itself: the demo's caption and
/// filter stages need models that whole-dataset training stages write, so those run between
/// the per-sample phases (`PipelineRunner.phases`). Every stage resumes on its own, so an
/// interrupted demo continues where it stopped; Ctrl-C stops a training stage between steps.
struct DemoRun {
    let definition: PipelineDefinition
    let interactive: Bool

    func run() throws -> (ran: [String], cancelled: Bool) {
        let runner = PipelineRunner(pipeline: definition, logger: Logger(label: "capfilt"))
        let cancellation = runner.cancellation
        let interrupts = SignalCancellation.afterWorkInFlight { cancellation.cancel() }
        defer { interrupts.disarm() }
        var options = RunOptions()
        options.command = "capfilt demo"
        options.interactive = interactive
        let summary = try runner.run(options)
        return (summary.ranStages, summary.cancelled || cancellation.isCancelled)
    }
}
