import ArgumentParser
import Ingest
import Tensor

@main
struct Capfilt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capfilt",
        abstract: "Caption, filter and curate image-text datasets with BLIP (CapFilt).",
        version: CapfiltVersion.current,
        subcommands: [RunCommand.self, StatusCommand.self, InspectCommand.self, RetryCommand.self, StagesCommand.self,
                      CaptionCommand.self, ScoreCommand.self,
                      PreprocessCommand.self, IngestCommand.self, DoctorCommand.self,
                      FetchCommand.self,
                      PretrainCommand.self, FinetuneCommand.self,
                      DemoCommand.self])
}

/// Options every model command shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "Hugging Face model folder (config.json + model.safetensors, optional vocab.txt).")
    var model: String

    @Option(help: "Compute threads (OpenBLAS and element-wise kernels).")
    var threads: Int = 2

    @Option(name: .customLong("batch-size"), help: "Images per forward pass.")
    var batchSize: Int = 4

    @Option(help: "Weight format: fp32 (the checkpoint's values) or bf16 (half the memory; products accumulate in fp32).")
    var precision: Precision = .fp32

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }
}

extension Precision: ExpressibleByArgument {}
