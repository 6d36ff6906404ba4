import Basics
import Foundation

/// The samples to fetch, read lazily (the fetcher pulls them as it has room).
final class FetchSampleReader: Sequence {
    private var lines: LineReader
    private let skip: Set<String>
    private var seen: Set<String> = []
    private(set) var malformed = 0
    private(set) var duplicates = 0
    private let decoder = JSONDecoder()

    init(path: String, skip: Set<String>) throws {
        lines = try LineReader(path: path)
        self.skip = skip
    }

    func makeIterator() -> AnyIterator<FetchRequest> {
        AnyIterator { [self] in nextRequest() }
    }

    private func nextRequest() -> FetchRequest? {
        // A read error ends the input, as the end of the file would.
        while let next = try? lines.next() {
            if next.tooLong {
                malformed += 1
                continue
            }
            let line = lines.input.buffer[next.range]
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            guard let sample = try? decoder.decode(ManifestSample.self, from: Data(line)) else {
                malformed += 1
                continue
            }
            if skip.contains(sample.key) { continue }
            if !seen.insert(sample.key).inserted {
                duplicates += 1
                continue
            }
            let expected = sample.metadata["sha256"].flatMap { SHA256.isHexDigest($0) ? $0 : nil }
            return FetchRequest.forSample(key: sample.key, url: sample.url, localPath: sample.localPath, member: sample.member,
                                          sourceFailure: sample.sourceFailure, expectedSHA256: expected)
        }
        return nil
    }
}
