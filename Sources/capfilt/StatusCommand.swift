import ArgumentParser
import Foundation
import Catalog
import Pipeline

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Per stage: done, pending and failed samples, by status.")

    @OptionGroup var options: PipelineOptions
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let definition = try options.load()
        let runner = PipelineRunner(pipeline: definition)
        let status = try runner.status()
        // Only a workdir submitted to Slurm (<workdir>/slurm/jobs.json) gets the extra section.
        let slurm = try SlurmRunStatus.make(runner: runner, status: status)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try slurm.map { try encoder.encode(StatusWithSlurm(status: status, slurm: $0)) } ?? encoder.encode(status)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("dataset \(status.dataset)  (\(status.workdir), \(status.shards.count) shard\(status.shards.count == 1 ? "" : "s"))")
        let nameWidth = max(8, status.stages.map(\.name.count).max() ?? 8)
        print("stage".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "        done     failed    pending  statuses")
        for s in status.stages {
            let name = s.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            if let upToDate = s.upToDate {
                print("\(name)  \(upToDate ? "up to date" : "to run")  \(s.summary ?? "")")
                continue
            }
            let statuses = s.byStatus.filter { $0.key != .ok }.sorted { $0.value > $1.value }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print(name + pad(s.done, 12) + pad(s.failed, 11) + pad(s.pending, 11) + "  " + statuses)
        }
        if !status.texts.isEmpty {
            print("")
            print("texts          total       kept    dropped  duplicates   unjudged")
            for t in status.texts {
                print(t.origin.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + pad(t.total, 10) + pad(t.kept, 11)
                      + pad(t.dropped, 11) + pad(t.duplicates, 12) + pad(t.unjudged, 11))
            }
        }
        let failing = status.stages.filter { !($0.reasons ?? []).isEmpty }
        if !failing.isEmpty {
            print("")
            print("top failure reasons (capfilt inspect ... failures / problems lists them all)")
            for s in failing {
                for r in s.reasons ?? [] {
                    let name = s.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    print("\(name)  \(pad(r.count, 8))  \(r.status)" + (r.reason.map { ": \($0)" } ?? ""))
                }
            }
        }
        if let slurm {
            print("")
            print(slurm.table, terminator: "")
        }
    }

    private func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}

/// The status object with a `slurm` member added beside its own.
private struct StatusWithSlurm: Encodable {
    let status: PipelineStatus
    let slurm: SlurmRunStatus
    enum Key: String, CodingKey { case slurm }

    func encode(to encoder: Encoder) throws {
        try status.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(slurm, forKey: .slurm)
    }
}

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-queue the samples that ended with a status (e.g. timeout, http_5xx), for the next run.",
        discussion: """
            Give --status once per status. A status that no sample has (in --stage, or in any \
            stage) is refused with the statuses there are. --status ok is refused unless --force: \
            re-queuing samples that succeeded discards their results.
            """)

    @OptionGroup var options: PipelineOptions
    @Option(name: .customLong("status"), parsing: .singleValue, help: "A status to re-queue (repeat for several).")
    var statuses: [String]
    @Option(help: "Only in this stage (default: every stage).") var stage: String?
    @Flag(help: "Allow --status ok, which discards the results of samples that succeeded.") var force = false

    func validate() throws {
        guard !statuses.isEmpty else { throw ValidationError("give at least one --status") }
    }

    func run() throws {
        let definition = try options.load()
        let result: RetryResult
        do {
            result = try PipelineRunner(pipeline: definition).retry(statuses: statuses.map(SampleStatus.init(rawValue:)), stage: stage, force: force)
        } catch let e as RetryRefusal {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        } catch let e as PipelineError {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        }
        for line in result.lines { print(line) }
        let n = result.total
        print("re-queued \(n) sample\(n == 1 ? "" : "s"); run the pipeline to process \(n == 1 ? "it" : "them")")
    }
}
