import Foundation
import TestFixtures
import XCTest

/// The built capfilt binary run to completion with a chosen PATH, its output captured.
struct CapfiltRun {
    var status: Int32
    var stdout: String
    var stderr: String

    /// `path` goes first on the PATH; `onlyPath` is the whole PATH.
    static func run(_ arguments: [String], path: String? = nil, onlyPath: String? = nil) throws -> CapfiltRun {
        let process = Process()
        process.executableURL = CapfiltProcess.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        if let path { environment["PATH"] = path + ":" + (environment["PATH"] ?? "/usr/bin:/bin") }
        if let onlyPath { environment["PATH"] = onlyPath }
        process.environment = environment
        let folder = temporaryFolder("out")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Files, not pipes: nothing to drain while the run goes on.
        let out = folder.appendingPathComponent("stdout"), err = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return CapfiltRun(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                          stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

/// Stand-ins for sbatch, squeue and sacct in a folder put first on the PATH. sbatch logs its
/// arguments and prints job ids from 500 up; with `execute`, it also runs the script at once
/// (each array task in turn, with SLURM_ARRAY_TASK_ID set), as a cluster with free nodes would.
/// squeue prints `squeue.txt` when present; sacct fails as on a cluster without accounting.
struct FakeSlurm {
    let folder: URL

    init(execute: Bool) throws {
        folder = temporaryFolder("fake-slurm")
        let log = folder.appendingPathComponent("sbatch.log").path
        let next = folder.appendingPathComponent("next-id").path
        let run = execute ? """
            script=""; for a in "$@"; do script="$a"; done
            spec=$(sed -n 's/^#SBATCH --array=//p' "$script" | sed 's/%.*//')
            if [ -n "$spec" ]; then
              for part in $(echo "$spec" | tr ',' ' '); do
                lo=${part%-*}; hi=${part#*-}
                for i in $(seq "$lo" "$hi"); do SLURM_ARRAY_TASK_ID=$i bash "$script" >/dev/null 2>&1 || echo "task $i failed" >&2; done
              done
            else
              bash "$script" >/dev/null 2>&1 || echo "job failed" >&2
            fi
            """ : ""
        try write("sbatch", """
            #!/bin/bash
            echo "$*" >> '\(log)'
            id=$(cat '\(next)' 2>/dev/null || echo 500)
            echo $((id + 1)) > '\(next)'
            \(run)
            echo "$id"
            """)
        try write("squeue", """
            #!/bin/bash
            echo "$*" >> '\(folder.appendingPathComponent("squeue.log").path)'
            cat '\(folder.appendingPathComponent("squeue.txt").path)' 2>/dev/null
            exit 0
            """)
        try write("sacct", """
            #!/bin/bash
            echo "Slurm accounting storage is disabled" >&2
            exit 1
            """)
        try write("scancel", """
            #!/bin/bash
            echo "$*" >> '\(folder.appendingPathComponent("scancel.log").path)'
            """)
    }

    private func write(_ name: String, _ text: String) throws {
        let path = folder.appendingPathComponent(name).path
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    var sbatchCalls: [String] {
        ((try? String(contentsOf: folder.appendingPathComponent("sbatch.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    func setSqueue(_ text: String) throws {
        try text.write(to: folder.appendingPathComponent("squeue.txt"), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// Every file under `<work>/export`, by relative path.
func exportedFiles(_ work: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let export = work.appendingPathComponent("export")
    guard let enumerator = FileManager.default.enumerator(atPath: export.path) else { return [:] }
    while let name = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        let path = export.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: path))
        }
    }
    return files
}

func assertSameExport(_ a: [String: Data], _ b: [String: Data], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(a.isEmpty, "nothing was exported", file: file, line: line)
    XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
    for (name, data) in a { XCTAssertEqual(b[name], data, "\(name) differs", file: file, line: line) }
}
