import Foundation
import Pipeline
import TestFixtures
import XCTest

/// kill -9 while a gate judges a LAION-like manifest, resume: the catalog must be the one an
/// uninterrupted run leaves (every sample judged once, every caption drop recorded once).
final class GateCrashTests: XCTestCase {
    func testKillNineInTheGateThenResumeGivesIdenticalResults() throws {
        let folder = temporaryFolder("gate-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A CSV with LAION's columns: sizes, similarity, punsafe, pwatermark; some rows break
        // each rule, some carry text where a number belongs.
        var csv = "url,caption,width,height,similarity,punsafe,pwatermark\n"
        var rng = SplitMix(seed: 44)
        let rows = 8_000
        for i in 0..<rows {
            let words = 1 + Int(rng.next() % 12)
            let caption = (0..<words).map { "w\(($0 + i) % 50)" }.joined(separator: " ")
            let unsafe = i % 197 == 0 ? "n/a" : String(Double(rng.next() % 1000) / 1000)
            csv += "https://img\(i % 300).host\(i % 41).example/p/\(i).jpg,\(caption),\(32 + rng.next() % 600),\(32 + rng.next() % 600),"
                + "\(Double(rng.next() % 500) / 1000),\(unsafe),\(Double(rng.next() % 1000) / 1000)\n"
        }
        try Data(csv.utf8).write(to: folder.appendingPathComponent("laion.csv"))
        try Data("# hosts\nhost7.example\nHOST8.example.\n".utf8).write(to: folder.appendingPathComponent("domains.txt"))
        let work = folder.appendingPathComponent("work")
        let pipeline = folder.appendingPathComponent("gate.yaml").path
        try """
        dataset: gate-crash
        workdir: \(work.path)
        stages:
          ingest:
            manifests:
              - {path: laion.csv, format: csv, source: laion}
          gate:
            needs: [ingest]
            batch_size: 64
            domain_blocklist: domains.txt
            min_side: 100
            max_aspect_ratio: 3
            min_similarity: 0.05
            max_punsafe: 0.9
            max_pwatermark: 0.95
            min_words: 2
            max_chars: 40
        """.write(toFile: pipeline, atomically: true, encoding: .utf8)

        let reference = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try RunSnapshot(work)
        for rule in ["domain_blocklist", "min_side", "max_aspect_ratio", "min_similarity", "max_punsafe", "max_pwatermark"] {
            XCTAssertTrue(expected.catalog.contains("status=\"\(rule)\""), "no sample dropped by \(rule)")
        }
        XCTAssertTrue(expected.catalog.contains("rule=\"min_words\""), "no caption dropped by min_words")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/last-run.json")))
        let gateSeconds = max(summary.stages.first { $0.stage == "gate" }?.seconds ?? 0, 0.05)
        try FileManager.default.removeItem(at: work)

        // Ingest once, then kill the gate at random moments until three kills landed inside it.
        XCTAssertEqual(try CapfiltProcess.run(["run", "--plain", "--only", "ingest", pipeline]).status, 0)
        // Inside the gate when it had not logged its end (`gate: N ok, M failed in S s`).
        let killed = try CapfiltProcess.killInside("gate", endPattern: #"gate: \d+ ok, \d+ failed in"#, arguments: ["run", "--plain", pipeline],
                                                   window: gateSeconds / 3, timeout: 120, rng: &rng)
        XCTAssertGreaterThan(killed, 0, "no kill landed inside the gate")
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        try RunSnapshot(work).assertSame(as: expected)
    }
}
