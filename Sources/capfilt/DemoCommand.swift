import ArgumentParser
import DemoData
import Foundation
import Logging
import LoopbackHTTP
import Pipeline
import Stages

/// `capfilt demo`: the whole CapFilt bootstrap on data capfilt generates itself (docs/demo.md).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate the bundled benchmark, run pipelines/demo.yaml on it, print the results.",
        discussion: """
            Writes the scenes and manifests under --data (skipped when they are already there with \
            the same sizes), serves the web split on 127.0.0.1:--port (the port the manifest's URLs \
            name, so a resumed run uses the same one), runs the pipeline (its training stages run \
            between the per-sample phases that need their models), and prints the key \
            figures, the report and, last, results.json. Interrupt it and run it again to resume.
            """)

    @Option(help: "The pipeline file.") var pipeline = "pipelines/demo.yaml"
    @Option(help: "Where the generated data goes (the pipeline's manifest paths point into it).") var data = "demo/data"
    @Option(help: "Port of the loopback server for the web images.") var port: UInt16 = 8377
    @Option(name: .customLong("human-images")) var humanImages = 1000
    @Option(name: .customLong("validation-images")) var validationImages = 200
    @Option(name: .customLong("web-images")) var webImages = 3000
    @Option(name: .customLong("test-images")) var testImages = 1000
    @Option(name: .customLong("labelled-images"), help: "Images labelled with shape and position, for pre-training the ViT.")
    var labelledImages = 5000
    @Option(name: .customLong("audit-rows"), help: "Web-like pairs marked as matching or not, for choosing the filter threshold.")
    var auditRows = 1000
    @Option(help: "Seed of the generated data.") var seed: UInt64 = 2022
    @Flag(help: "Scenes with 1 to 3 objects and textures (seven attributes instead of five; docs/demo-results.md).")
    var richScenes = false
    @Flag(help: "Plain log lines even on a terminal.") var plain = false

    func run() throws {
        let started = Date()
        // Log lines go above the live progress line, never glued to it.
        LoggingSystem.bootstrap { label in CapfiltLogHandler(label: label) }
        let options = DemoDataOptions(seed: seed, humanImages: humanImages, humanValidationImages: validationImages,
                                      webImages: webImages, testImages: testImages, labelledImages: labelledImages,
                                      auditRows: auditRows, variety: richScenes ? .rich : .standard, webPort: port)
        try DemoDataFolder.prepare(options: options, root: data)
        let definition: PipelineDefinition
        do {
            definition = try PipelineLoader(registry: StandardStages.registry).load(path: pipeline)
        } catch let e as PipelineError {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        }
        let server = try LoopbackServer(root: DemoDataLayout(root: data).servedRoot, port: port)
        defer { server.stop() }
        let outcome = try DemoRun(definition: definition, interactive: !plain && isatty(STDERR_FILENO) == 1).run()
        server.stop()
        if outcome.cancelled {
            FileHandle.standardError.write(Data("interrupted; run `capfilt demo` again to continue\n".utf8))
            throw ExitCode(130)
        }
        let results = definition.workdir + "/results.json"
        if !outcome.ran.isEmpty { try DemoResults.addSeconds(Date().timeIntervalSince(started), workdir: definition.workdir) }
        FileHandle.standardError.write(Data("done: \(outcome.ran.isEmpty ? "everything was up to date" : "ran " + outcome.ran.joined(separator: ", "))\n".utf8))
        print(DemoResults.summary(path: results))
        print("report: \(definition.workdir)/report/report.html")
        print("results: \(results)")
    }
}
