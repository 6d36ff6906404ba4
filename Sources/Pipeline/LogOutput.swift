import Basics
import Foundation
import Logging

/// How capfilt writes its log lines on standard error: swift-log's plain text, or one JSON
/// object a line (`capfilt run --log-format json`, or `CAPFILT_LOG_FORMAT=json`).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json

    /// The environment variable that chooses the format when the command line does not.
    public static let environmentVariable = "CAPFILT_LOG_FORMAT"
}

/// The one live status line at the bottom of a terminal (a stage's progress), and the log lines
/// printed while it is shown: a log line first clears it and then draws it again below itself,
/// so the two never end up glued together on one line. Everything goes through one lock, so a
/// redraw cannot land in the middle of a log line.
public final class TerminalLine: @unchecked Sendable {
    /// Standard error, which both the logs and the progress line use.
    public static let standardError = TerminalLine { FileHandle.standardError.write(Data($0.utf8)) }

    /// Carriage return and erase-to-end-of-line: the cursor back to column 0 of a clean line.
    public static let clearLine = "\r\u{1B}[K"

    private let lock = NSLock()
    private let write: @Sendable (String) -> Void
    private var live: String?

    public init(write: @escaping @Sendable (String) -> Void) { self.write = write }

    /// Draws `line` as the live line, replacing the one shown.
    public func show(_ line: String) {
        lock.withLock {
            live = line
            write(Self.clearLine + line)
        }
    }

    /// Takes the live line away (the cursor stays at the start of the cleared line).
    public func clear() {
        lock.withLock {
            guard live != nil else { return }
            live = nil
            write(Self.clearLine)
        }
    }

    /// Writes whole log lines (ending in a newline) above the live line.
    public func print(_ text: String) {
        lock.withLock { write(Self.compose(log: text, live: live)) }
    }

    /// What goes to the terminal for `text` (whole lines) while `live` is shown: clear the live
    /// line, the text, then the live line again.
    public static func compose(log text: String, live: String?) -> String {
        guard let live else { return text }
        let lines = text.hasSuffix("\n") ? text : text + "\n"
        return clearLine + lines + live
    }
}

/// capfilt's log handler: every line goes to standard error through `TerminalLine`, as text (the
/// layout of swift-log's `StreamLogHandler`) or as one JSON object a line.
///
/// A JSON line holds, in this order, `time` (ISO 8601, UTC, milliseconds), `level`, `stage` (the
/// `stage` metadata that the pipeline runner gives each stage's logger, null outside a stage),
/// `message`, `label` and `metadata` (the rest of the metadata, keys sorted).
public struct CapfiltLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    public let format: LogFormat
    let output: TerminalLine

    public init(label: String, format: LogFormat = .text, output: TerminalLine = .standardError) {
        self.label = label
        self.format = format
        self.output = output
        metadataProvider = LoggingSystem.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The metadata `stage` key: the stage a line is about.
    public static let stageKey = "stage"
    /// Metadata the pipeline runner sets on a stage's logger. Text lines leave it out, since the
    /// messages name their stage (and shard) already.
    static let runnerKeys: Set<String> = [stageKey, "shard"]

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        if let error = event.error { all["error"] = .string("\(error)") }
        let text: String
        switch format {
        case .json:
            text = Self.jsonLine(time: Date(), level: event.level, label: label, message: "\(event.message)", metadata: all)
        case .text:
            text = Self.textLine(time: Date(), level: event.level, label: label, source: event.source, message: "\(event.message)",
                                 metadata: all)
        }
        output.print(text + "\n")
    }

    /// One JSON log line, without its newline.
    public static func jsonLine(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var rest = metadata
        let stage = rest.removeValue(forKey: stageKey)
        let object: JSONValue = .orderedObject([
            ("time", .string(jsonTime(time))),
            ("level", .string(level.rawValue)),
            ("stage", stage.map(json) ?? .null),
            ("message", .string(message)),
            ("label", .string(label)),
            ("metadata", .object(rest.mapValues(json))),
        ])
        return DeterministicJSON(escaping: .lineBreaksAndTabs).encode(object)
    }

    /// One text log line, without its newline: swift-log's layout,
    /// `2024-05-01T12:00:00+0000 info capfilt: key=value [Pipeline] message`.
    public static func textLine(time: Date, level: Logger.Level, label: String, source: String, message: String,
                                metadata: Logger.Metadata) -> String {
        let rest = metadata.filter { !runnerKeys.contains($0.key) }
        let pretty = rest.isEmpty ? "" : " " + rest.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(textTime(time)) \(level)\(label.isEmpty ? "" : " ")\(label):\(pretty) [\(source)] \(message)"
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case let .string(s): return .string(s)
        case let .stringConvertible(c): return .string(c.description)
        case let .array(a): return .array(a.map(json))
        case let .dictionary(d): return .object(d.mapValues(json))
        }
    }

    private static func jsonTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    private static func textTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        return formatter.string(from: date)
    }
}
