import Dispatch
import Foundation

/// SIGINT and SIGTERM ask long work to stop cleanly instead of killing the process: the first
/// one prints `message` on standard error (unless it is nil) and calls `onSignal`; a second one
/// then exits at once.
public final class SignalCancellation: @unchecked Sendable {
    /// How a second signal ends the process.
    public enum SecondSignal: Sendable {
        /// `exit(code)` from the handler.
        case exit(Int32)
        /// The signal's default action (the first signal restores it), so the process dies of it.
        case defaultAction
    }

    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "capfilt.signals")
    private var fired = false

    public init(message: String?, second: SecondSignal, _ onSignal: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [self] in
                if fired, case .exit(let code) = second { exit(code) }
                fired = true
                if let message { FileHandle.standardError.write(Data((message + "\n").utf8)) }
                onSignal()
                if case .defaultAction = second { signal(signalNumber, SIG_DFL) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops listening and gives both signals their default action back.
    public func disarm() {
        queue.sync {
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
