import ArgumentParser
import Basics
import Foundation
import Gates
import Imaging

/// `capfilt-bench gates`: writes a URL blocklist of `--entries` lines (10 million by default),
/// plus smaller domain and SHA-256 lists, and `--samples` LAION-like samples (URL, metadata JSON,
/// caption); then times reading the lists and judging every sample with every rule, as the gate
/// stage does (metadata parsed from its JSON each time). Planted samples check the result: every
/// listed URL, domain and digest must be dropped. Prints one JSON line (docs/benchmarks-gates.md).
struct GatesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gates", abstract: "Time blocklist loading and rule gates (docs/benchmarks-gates.md).")

    @Option(help: "Entries of the URL blocklist.") var entries = 10_000_000
    @Option(name: .customLong("domain-entries"), help: "Entries of the domain blocklist.") var domainEntries = 1_000_000
    @Option(name: .customLong("sha256-entries"), help: "Entries of the SHA-256 blocklist.") var sha256Entries = 1_000_000
    @Option(help: "Samples judged.") var samples = 1_000_000
    @Option(help: "Folder for the generated lists (kept when given; a temporary one is removed).") var folder: String?
    @Option var seed: UInt64 = 1

    struct Result: Encodable {
        var urlEntries: Int
        var domainEntries: Int
        var sha256Entries: Int
        var urlListBytes: Int
        var samples: Int
        var loadSeconds: Double
        var urlListLoadSeconds: Double
        var applySeconds: Double
        var totalSeconds: Double
        var cpuSeconds: Double
        var peakResidentBytes: Int
        var dropped: [String: Int]
    }

    func validate() throws {
        guard entries >= 1, samples >= 1, domainEntries >= 1, sha256Entries >= 1 else {
            throw ValidationError("--entries, --domain-entries, --sha256-entries and --samples must be at least 1")
        }
    }

    func run() throws {
        let dir = folder ?? NSTemporaryDirectory() + "capfilt-bench-gates-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let urlPath = dir + "/urls.txt", domainPath = dir + "/domains.txt", digestPath = dir + "/sha256.txt"
        try writeLines(urlPath, count: entries) { Self.listedURL($0) }
        try writeLines(domainPath, count: domainEntries) { "blocked\($0).example\n" }
        try writeLines(digestPath, count: sha256Entries) { Self.digest($0, listed: true) + "\n" }
        let inputs = makeSamples()

        let cpu0 = processCPUSeconds()
        let t0 = monotonicSeconds()
        let urlList = try Blocklist(kind: .url, path: urlPath)
        let t1 = monotonicSeconds()
        let rules = GateRules(
            sample: SampleRules(urlBlocklist: urlList, domainBlocklist: try Blocklist(kind: .domain, path: domainPath),
                                sha256Blocklist: try Blocklist(kind: .sha256, path: digestPath),
                                minSide: 200, minPixels: 50_000, minAspectRatio: 0.33, maxAspectRatio: 3,
                                minSimilarity: 0.28, maxPunsafe: 0.5, maxPwatermark: 0.8),
            text: TextRules(minWords: 2, maxWords: 40, minChars: 5, maxChars: 300))
        let t2 = monotonicSeconds()
        var dropped: [String: Int] = [:]
        for s in inputs {
            let manifest = ManifestMetadata(json: s.metadata)
            let sample = GateSample(url: s.url, sha256: s.sha256, width: manifest.width, height: manifest.height,
                                    similarity: manifest.similarity, punsafe: manifest.punsafe, pwatermark: manifest.pwatermark)
            if let drop = rules.sample.judge(sample) {
                dropped[drop.rule.rawValue, default: 0] += 1
            } else if let drop = rules.text.judge(s.caption) {
                dropped[drop.rule.rawValue, default: 0] += 1
            }
        }
        let t3 = monotonicSeconds()
        let cpu = processCPUSeconds() - cpu0

        // Every planted sample is dropped by its list (a 64-bit key never misses a listed value).
        let planted = inputs.reduce(into: [0, 0, 0]) { n, s in n[0] += s.kind == 1 ? 1 : 0; n[1] += s.kind == 2 ? 1 : 0; n[2] += s.kind == 3 ? 1 : 0 }
        guard dropped["url_blocklist", default: 0] >= planted[0], dropped["domain_blocklist", default: 0] >= planted[1],
              dropped["sha256_blocklist", default: 0] >= planted[2] else {
            throw BenchError("listed samples were not all dropped: planted \(planted), dropped \(dropped)")
        }
        let bytes = (try FileManager.default.attributesOfItem(atPath: urlPath)[.size] as? NSNumber)?.intValue ?? 0
        try printSortedJSON(Result(urlEntries: entries, domainEntries: domainEntries, sha256Entries: sha256Entries, urlListBytes: bytes,
                                   samples: samples, loadSeconds: t2 - t0, urlListLoadSeconds: t1 - t0, applySeconds: t3 - t2,
                                   totalSeconds: t3 - t0, cpuSeconds: cpu, peakResidentBytes: peakResidentBytes(), dropped: dropped))
    }

    /// The i-th listed URL: real-looking hosts and paths, about 60 bytes.
    static func listedURL(_ i: Int) -> String {
        "https://img\(i % 5000).cdn\(i % 97).example.com/photos/\(i)/\(i &* 2_654_435_761 % 1_000_003).jpg\n"
    }

    /// A digest made from a counter (listed ones and others never share one).
    static func digest(_ i: Int, listed: Bool) -> String {
        var h = SHA256()
        h.update(Array("\(listed ? "listed" : "image")-\(i)".utf8))
        return h.finalizeHex()
    }

    struct Input {
        var url: String
        var sha256: String
        var metadata: String
        var caption: String
        /// 0: not listed, 1: a listed URL, 2: a listed domain, 3: a listed digest.
        var kind: Int
    }

    /// One sample in 20 of each listed kind; sizes, scores and captions spread around the bounds.
    func makeSamples() -> [Input] {
        var rng = SplitMix64(seed: seed)
        let words = ["a", "photo", "of", "the", "red", "car", "on", "street", "with", "trees", "and", "people", "at", "night"]
        return (0..<samples).map { i in
            let kind = i % 20 == 0 ? 1 : i % 20 == 1 ? 2 : i % 20 == 2 ? 3 : 0
            let url: String
            switch kind {
            case 1: url = String(Self.listedURL(Int(rng.next() % UInt64(entries))).dropLast())
            case 2: url = "https://www.blocked\(rng.next() % UInt64(domainEntries)).example/p/\(i).jpg"
            default: url = "https://img\(i % 5000).site\(i % 1013).org/p/\(i).jpg"
            }
            let sha = kind == 3 ? Self.digest(Int(rng.next() % UInt64(sha256Entries)), listed: true) : Self.digest(i, listed: false)
            let w = 64 + Int(rng.next() % 1200), h = 64 + Int(rng.next() % 1200)
            let sim = Double(rng.next() % 1000) / 2000, unsafe = Double(rng.next() % 1000) / 1000, mark = Double(rng.next() % 1000) / 1000
            let metadata = #"{"height":"\#(h)","punsafe":"\#(unsafe)","pwatermark":"\#(mark)","similarity":"\#(sim)","width":"\#(w)"}"#
            let caption = (0..<Int(rng.next() % 16)).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
            return Input(url: url, sha256: sha, metadata: metadata, caption: caption, kind: kind)
        }
    }

    /// Writes `count` lines made by `line`, through a 4 MiB buffer.
    func writeLines(_ path: String, count: Int, _ line: (Int) -> String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw BenchError("cannot write \(path)")
        }
        defer { try? out.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4 << 20 + 256)
        for i in 0..<count {
            buffer.append(contentsOf: line(i).utf8)
            if buffer.count >= 4 << 20 { try out.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
        }
        try out.write(contentsOf: buffer)
    }
}
