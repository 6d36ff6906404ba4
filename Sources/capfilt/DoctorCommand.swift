import ArgumentParser
import Basics
import Foundation
import Tensor

/// Prints what capfilt found on this machine and how fast its matrix products run here.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the CPU, the kernels chosen for it, and a 2-second sgemm probe against the machine's peak.")

    @Option(help: "Engine threads for the probe.") var threads = 2
    @Option(help: "Seconds the sgemm probe runs.") var seconds = 2.0
    @Flag(help: "One JSON object instead of text.") var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        let check = MachineCheck.run(threads: threads, seconds: seconds)
        guard json else {
            check.lines.forEach { print($0) }
            if case .failure = check.blas { throw ExitCode(2) }
            return
        }
        var kernels: [(String, JSONValue)] = [
            ("elementwise", .string(check.elementwisePath.rawValue)),
            ("bf16_products", .string(BF16Products.active.rawValue)), ("bf16_products_reason", .string(BF16Products.reason)),
        ]
        switch check.blas {
        case .success(let s):
            kernels += [
                ("openblas_core", .string(s.runningCore)),
                ("openblas_core_requested", s.requestedCore.map { .string($0) } ?? .null),
                ("openblas_core_source", .string(s.environmentCore != nil ? "environment" : s.chosenCore != nil ? "cpuid" : "library")),
                ("openblas_library", .string(s.library)), ("openblas_config", .string(s.configuration)),
            ]
        case .failure(let e):
            kernels.append(("openblas_error", .string(e.description)))
        }
        Output.json(.orderedObject([
            ("cpu", .orderedObject([
                ("model", .string(check.cpu.brand)), ("vendor", .string(check.cpu.vendor)),
                ("family", .int(check.cpu.family)), ("model_number", .int(check.cpu.model)),
                ("features", .array(check.cpu.features.map { .string($0) })),
            ])),
            ("kernels", .orderedObject(kernels)),
            ("threads", .int(check.threads)),
            ("sgemm", .orderedObject([
                ("m", .int(check.probeShape.m)), ("n", .int(check.probeShape.n)), ("k", .int(check.probeShape.k)),
                ("gflops", .printed(check.probeGFLOPS)), ("sustained_gflops", .printed(check.probeSustainedGFLOPS)),
                ("seconds", .printed(check.probeSeconds)),
            ])),
            ("peak_gflops", .printed(check.peakGFLOPS)),
            ("peak_fraction", .printed(check.peakFraction)),
        ]))
    }
}
