import Foundation

/// Runs Slurm's client commands (sbatch, squeue, sacct, scancel), found on the PATH, and
/// returns what they printed.
public struct SlurmTools: Sendable {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The commands a submission runs: sbatch submits, squeue tells which shards are still
    /// queued, scancel drops a stale whole-dataset step. (sacct is asked too where it exists; a
    /// cluster without accounting works without it.)
    public static let submissionCommands = ["sbatch", "squeue", "scancel"]

    /// The folders searched, as `/usr/bin/env` searches them (nil: the process's PATH).
    public var searchPath: String?

    public init(searchPath: String? = nil) { self.searchPath = searchPath }

    /// The executable `tool` on the PATH, or nil when there is none.
    public func locate(_ tool: String) -> String? {
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (folder.isEmpty ? "." : String(folder)) + "/" + tool
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    /// Those of `tools` that are not on the PATH, in the order given.
    public func missing(_ tools: [String] = SlurmTools.submissionCommands) -> [String] {
        tools.filter { locate($0) == nil }
    }

    public func run(_ tool: String, _ arguments: [String]) throws -> Output {
        let process = Process()
        // env searches the PATH, as a shell would.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty command cannot block on a full pipe.
        let errText = ErrorText()
        let group = DispatchGroup()
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async(group: group) { errText.set(errHandle.readDataToEndOfFile()) }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errText.get(), as: UTF8.self))
    }
}

/// Standard error, read on another thread.
private final class ErrorText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
