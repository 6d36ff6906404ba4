import Foundation
import XCTest

/// Runs the built executables (they sit next to the test bundle in .build/<config>/).
struct CLIResult { let status: Int32; let stdout: String; let stderr: String }

enum CLI {
    /// A built executable of the package (`capfilt`, `capfilt-bench`).
    static func executable(_ name: String) -> URL {
        // On Linux the bundle URL is the products folder itself; on macOS it is the .xctest bundle.
        var folder = Bundle(for: CaptionCLITests.self).bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent(name)
    }

    /// Tests/MEDTests/Fixtures/med, read in place.
    static var medFixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MEDTests/Fixtures/med")
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil, executable: String = "capfilt") throws -> CLIResult {
        let process = Process()
        process.executableURL = Self.executable(executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }

    static func jsonLines(_ s: String) -> [[String: Any]] {
        s.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-cli-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
