import ArgumentParser
import Basics
import Foundation
import Ingest

/// Reads a dataset manifest into normalised samples. Until the catalog exists, samples go to a
/// JSON Lines file and skipped rows to `<out>.rejects.jsonl`. Both appear only complete: on an
/// error neither is written (an older file of the same name stays as it was).
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Read a dataset manifest into normalised samples (JSON Lines).",
        discussion: """
            Formats: \(ManifestFormat.allCases.map(\.rawValue).joined(separator: ", ")).
            The format is detected from the content when --format is not given; .gz files are \
            read as they are. See docs/ingest.md.
            """)

    @Argument(help: "Manifest file (a folder for vg and sbu).") var manifest: String
    @Option(help: "Manifest format (detected when omitted).") var format: String?
    @Option(help: "Source name written into samples (default: from the format).") var source: String?
    @Option(name: .customLong("image-root"), help: "Folder local image paths resolve under (default: the manifest's folder).")
    var imageRoot: String?
    @Option(name: .customLong("url-col"), help: "URL column / key (default url; Parquet URL or url).") var urlCol: String?
    @Option(name: .customLong("caption-col"), help: "Caption column / key (default caption; Parquet TEXT or caption).")
    var captionCol: String?
    @Option(help: "Second file of vg (image_data.json) or sbu (the captions file).") var companion: String?
    @Option(name: .customLong("key-prefix"), help: "Prepended to every key (several files of one source).")
    var keyPrefix = ""
    @Option(help: "Override the format's origin: human or web.") var origin: String?
    @Option(name: .customLong("metadata-cols"), help: "Comma-separated extra columns to keep (default: all).")
    var metadataCols: String?
    @Option(help: "webdataset: the shard files under the folder, e.g. '{00000..00127}.tar' (default: every .tar).")
    var shards: String?
    @Option(help: "Output JSON Lines file; rejects go next to it as <name>.rejects.jsonl.") var out: String?
    @Flag(name: .customLong("dry-run"), help: "Read and count only; write nothing.") var dryRun = false

    func validate() throws {
        guard dryRun || out != nil else { throw ValidationError("--out is required (or --dry-run)") }
        if let format, ManifestFormat(name: format) == nil {
            throw ValidationError("unknown --format \(format); one of \(ManifestFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let origin, SampleOrigin(rawValue: origin) == nil {
            throw ValidationError("--origin must be human or web")
        }
    }

    var options: ManifestOptions {
        ManifestOptions(
            source: source, imageRoot: imageRoot, urlColumn: urlCol, captionColumn: captionCol,
            companionPath: companion, keyPrefix: keyPrefix, origin: origin.flatMap(SampleOrigin.init(rawValue:)),
            metadataColumns: metadataCols.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
            shards: shards)
    }

    static func rejectsPath(for out: String) -> String {
        (out.hasSuffix(".jsonl") ? String(out.dropLast(6)) : out) + ".rejects.jsonl"
    }

    func run() throws {
        let started = Date()
        var samplesOut: LineFile?
        var rejectsOut: LineFile?
        var samples = 0, malformed = 0
        var reasons: [String: Int] = [:]
        do {
            let chosen = try format.flatMap(ManifestFormat.init(name:)) ?? ManifestFormat.detect(path: manifest, options: options)
            var reader = try openManifest(path: manifest, format: chosen, options: options)
            if !dryRun, let out {
                samplesOut = try LineFile(path: out)
                rejectsOut = try LineFile(path: IngestCommand.rejectsPath(for: out))
            }
            Output.error("reading \(manifest) as \(chosen.rawValue)")
            while let record = try reader.next() {
                switch record {
                case .sample(let s):
                    samples += 1
                    if let samplesOut { s.appendJSONLine(to: &samplesOut.buffer); try samplesOut.flushIfFull() }
                case .malformed(let p):
                    malformed += 1
                    reasons[p.reason, default: 0] += 1
                    if let rejectsOut { p.appendJSONLine(to: &rejectsOut.buffer); try rejectsOut.flushIfFull() }
                }
            }
            try samplesOut?.commit()
            try rejectsOut?.commit()
        } catch let e as ManifestError {
            samplesOut?.discard()
            rejectsOut?.discard()
            Output.error("error: \(e)")
            throw ExitCode(2)
        } catch {
            samplesOut?.discard()
            rejectsOut?.discard()
            throw error
        }
        let seconds = Date().timeIntervalSince(started)
        let rate = seconds > 0 ? Int(Double(samples + malformed) / seconds) : 0
        Output.line("samples: \(samples)")
        Output.line("malformed: \(malformed)")
        for (reason, count) in reasons.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).prefix(10) {
            Output.line("  \(count)\t\(reason)")
        }
        if reasons.count > 10 { Output.line("  ... \(reasons.count - 10) more reasons") }
        Output.line(String(format: "seconds: %.2f (%d rows/s)", seconds, rate))
        if let out, !dryRun {
            Output.line("wrote: \(out)")
            Output.line("rejects: \(IngestCommand.rejectsPath(for: out))")
        }
    }
}

/// A file written through a 1 MiB buffer under a temporary name beside its final one, and
/// renamed into place by `commit` (Basics' DurableFile), so a failed run leaves no partial file.
private final class LineFile {
    var buffer: [UInt8] = []
    private let descriptor: Int32
    private let temporary: String
    private let path: String
    private var pending = true   // the temporary file exists and is open

    init(path: String) throws {
        do {
            (descriptor, temporary) = try DurableFile.createTemporary(in: DurableFile.folder(of: path))
        } catch {
            throw ManifestError.io(file: path, reason: "cannot create the file (\(error))")
        }
        self.path = path
        buffer.reserveCapacity(1 << 20)
    }

    func flushIfFull() throws {
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try writeAll(descriptor, buffer)
        } catch {
            throw ManifestError.io(file: path, reason: "write failed: \(error)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and renames the file into place.
    func commit() throws {
        try flush()
        pending = false
        do {
            try DurableFile.commit(descriptor: descriptor, temporary: temporary, to: path, durable: true)
        } catch {
            throw ManifestError.io(file: path, reason: "cannot finish the file (\(error))")
        }
    }

    /// Removes the temporary file (after an error); nothing once committed.
    func discard() {
        guard pending else { return }
        pending = false
        close(descriptor)
        unlink(temporary)
    }
}
