import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs shard tasks on this machine as child processes of the capfilt binary
/// (`capfilt run PIPELINE --shard I/N`), at most `parallel` at once: the same tasks a Slurm
/// array runs, so both executors leave the same catalogs and the same exports. Separate
/// processes (not threads) keep each shard's model memory, lock and failure its own.
public final class LocalExecutor: @unchecked Sendable {
    public let binary: String
    public let pipeline: String
    public let shardCount: Int
    public let parallel: Int
    /// Passed to every task after `--shard I/N` (e.g. `--only caption`, `--plain`).
    public let arguments: [String]

    private let lock = NSLock()
    private var running: [Int: Process] = [:]
    private var statuses: [Int: Int32] = [:]
    private var stopped = false

    public init(binary: String, pipeline: String, shardCount: Int, parallel: Int, arguments: [String] = []) {
        self.binary = binary; self.pipeline = pipeline; self.shardCount = shardCount
        self.parallel = max(1, parallel); self.arguments = arguments
    }

    /// Runs `shards` and returns each one's exit status (shards never started because of `stop()`
    /// are left out). Children share this process's standard output and error.
    public func run(_ shards: [Int]) throws -> [Int: Int32] {
        var queue = shards[...]
        let finished = DispatchSemaphore(value: 0)
        var active = 0
        while true {
            while active < parallel, let shard = queue.first, !isStopped {
                queue = queue.dropFirst()
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = ["run", pipeline, "--shard", "\(shard)/\(shardCount)"] + arguments
                process.standardInput = FileHandle.nullDevice
                process.terminationHandler = { [weak self] p in
                    // Recorded here, where the exit is certain, not by polling isRunning.
                    if let self { self.lock.lock(); self.statuses[shard] = p.terminationStatus; self.running[shard] = nil; self.lock.unlock() }
                    finished.signal()
                }
                lock.lock(); running[shard] = process; lock.unlock()
                do { try process.run() } catch {
                    lock.lock(); running[shard] = nil; lock.unlock()
                    stop()
                    throw error
                }
                active += 1
            }
            if active == 0 { break }
            finished.wait()
            active -= 1
        }
        lock.lock(); defer { lock.unlock() }
        return statuses
    }

    /// Starts no more tasks and asks the running ones to stop after their batches in flight
    /// (SIGTERM, which a shard task handles like an interrupt).
    public func stop() {
        lock.lock(); defer { lock.unlock() }
        stopped = true
        for p in running.values where p.isRunning { kill(p.processIdentifier, SIGTERM) }
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    /// The running binary's absolute path: tasks run the very same build.
    public static var currentBinary: String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
