import Foundation
import TestFixtures
import XCTest
#if canImport(Glibc)
import Glibc
#endif

extension CapfiltProcess {
    /// Starts `arguments` again and again and kills each run (SIGKILL) at a random moment within
    /// `window` seconds after `stage` logged "started", until `kills` kills landed inside the stage
    /// (`endPattern`, its end line, not yet logged) or `attempts` runs were made. A run that ends
    /// without starting the stage (nothing left to do) must succeed, and ends the loop. Returns
    /// the kills that landed inside the stage.
    static func killInside(_ stage: String, endPattern: String, arguments: [String], window: Double, timeout: Double,
                           rng: inout SplitMix, kills: Int = 3, attempts: Int = 20,
                           file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        var killed = 0
        for _ in 0..<attempts where killed < kills {
            let process = try CapfiltProcess(arguments)
            guard process.waitFor(["\(stage): started"], timeout: timeout) != nil else {
                XCTAssertEqual(process.wait(), 0, process.stderr, file: file, line: line)
                break
            }
            usleep(useconds_t(Double(rng.next() % 1000) / 1000 * window * 1_000_000))
            let wasRunning = process.kill()
            usleep(20_000)  // the last lines it wrote
            if wasRunning, process.stderr.range(of: endPattern, options: .regularExpression) == nil {
                killed += 1
            }
        }
        return killed
    }
}
