import ArgumentParser
import Foundation
import Pipeline
import Stages

/// `capfilt stages`: the stage types a pipeline file can name, or with `--markdown` the whole
/// parameter reference (docs/parameters.md is this output).
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages", abstract: "List the stage types, or print every stage's parameters as Markdown.")

    @Flag(help: "Print the parameter reference (every stage, key, type, default, whether it changes results).")
    var markdown = false

    func run() throws {
        let registry = StandardStages.registry
        if markdown {
            print(registry.parameterReference(), terminator: "")
            return
        }
        for type in registry.types.values.sorted(by: { $0.name < $1.name }) {
            print(type.name.padding(toLength: 16, withPad: " ", startingAt: 0) + type.summary)
        }
    }
}
