import Foundation
import XCTest

@testable import Imaging

/// Deterministic 64-bit generator (SplitMix64) so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Flips `count` distinct random bits of `hash`.
private func flip(_ hash: UInt64, bits count: Int, using rng: inout SplitMix64) -> UInt64 {
    var positions = Set<Int>()
    while positions.count < count { positions.insert(Int.random(in: 0..<64, using: &rng)) }
    return positions.reduce(hash) { $0 ^ (1 << UInt64($1)) }
}

/// Random hashes with near-duplicates planted at distances 0 ... radius + 2 (so some fall just
/// outside), complements (all 64 bits different), and the all-zero / all-one hashes.
private func plantedSet(count: Int, radius: Int, seed: UInt64) -> [UInt64] {
    var rng = SplitMix64(state: seed)
    var hashes = (0..<count).map { _ in rng.next() }
    for _ in 0..<(count / 5) {
        let source = hashes[Int.random(in: 0..<hashes.count, using: &rng)]
        hashes.append(flip(source, bits: Int.random(in: 0...(radius + 2), using: &rng), using: &rng))
    }
    hashes += [0, .max, 0, hashes[0], ~hashes[1], ~hashes[2]]
    hashes.shuffle(using: &rng)
    return hashes
}

final class HammingIndexTests: XCTestCase {
    func testAllPairsEqualsBruteForce() {
        for radius in [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16] {
            let hashes = plantedSet(count: 1500, radius: radius, seed: UInt64(radius) + 1)
            let index = HammingIndex(hashes, radius: radius)
            let expected = HammingIndex.bruteForcePairs(hashes, radius: radius)
            XCTAssertEqual(index.allPairs(), expected, "radius \(radius), \(index.layout)")
            XCTAssertGreaterThan(expected.count, 0, "radius \(radius) planted nothing")
        }
    }

    func testEveryLayoutIsExact() {
        // The automatic choice aside, every substring count must give exact results.
        for radius in [0, 1, 3, 7, 9, 16] {
            let hashes = plantedSet(count: 300, radius: radius, seed: 100 + UInt64(radius))
            let expected = HammingIndex.bruteForcePairs(hashes, radius: radius)
            for m in [2, 3, 4, 5, 7, 8, radius + 1, radius + 2, 17, 33, 64] where m >= 2 && m <= 64 {
                let layout = MultiIndexLayout(radius: radius, substrings: m)
                // Skip layouts that enumerate millions of probes per query (m = 2 at radius 9).
                guard layout.estimatedQueryCost(count: 0) < 5_000 else { continue }
                let index = HammingIndex(hashes, radius: radius, layout: layout)
                XCTAssertEqual(index.allPairs(), expected, "radius \(radius), \(index.layout)")
            }
        }
    }

    func testNeighborsEqualLinearScan() {
        var rng = SplitMix64(state: 7)
        for radius in [0, 2, 5, 8, 12] {
            let hashes = plantedSet(count: 3000, radius: radius, seed: 50 + UInt64(radius))
            let index = HammingIndex(hashes, radius: radius)
            var queries = (0..<100).map { _ in hashes[Int.random(in: 0..<hashes.count, using: &rng)] }
            queries += (0..<100).map { _ in
                flip(hashes[Int.random(in: 0..<hashes.count, using: &rng)], bits: Int.random(in: 0...radius + 1, using: &rng), using: &rng)
            }
            queries += [0, .max, ~hashes[0], rng.next()]
            for query in queries {
                let expected = hashes.indices.filter { hammingDistance(hashes[$0], query) <= radius }
                XCTAssertEqual(index.neighbors(of: query), expected, "radius \(radius) query \(PerceptualHash.hex(query))")
            }
        }
    }

    func testRadiusZeroFindsExactDuplicatesOnly() {
        let hashes: [UInt64] = [5, 4, 5, 7, 5, 4, 1 << 63, 1 << 63 | 1]
        let index = HammingIndex(hashes, radius: 0)
        XCTAssertEqual(index.allPairs(), [
            HammingPair(0, 2, distance: 0), HammingPair(0, 4, distance: 0),
            HammingPair(1, 5, distance: 0), HammingPair(2, 4, distance: 0),
        ])
        XCTAssertEqual(index.neighbors(of: 5), [0, 2, 4])
        XCTAssertEqual(index.neighbors(of: 6), [])
        XCTAssertEqual(index.duplicateGroups().groups, [[0, 2, 4], [1, 5]])
    }

    func testComplementsAndBoundaryDistances() {
        let a: UInt64 = 0x0123_4567_89AB_CDEF
        let atRadius = a ^ 0xFF  // 8 bits
        let beyond = a ^ 0x1FF  // 9 bits
        let hashes = [a, ~a, atRadius, beyond, 0, .max]
        let index = HammingIndex(hashes, radius: 8)
        XCTAssertEqual(index.allPairs(), [HammingPair(0, 2, distance: 8), HammingPair(2, 3, distance: 1)])
        XCTAssertEqual(index.neighbors(of: ~a), [1])
        // Radius 32: every pair with at most half the bits different.
        let wide = HammingIndex(hashes, radius: 32)
        XCTAssertEqual(wide.allPairs(), HammingIndex.bruteForcePairs(hashes, radius: 32))
        XCTAssertFalse(wide.allPairs().contains { $0.distance == 64 })
    }

    func testDeterministic() {
        let hashes = plantedSet(count: 2000, radius: 6, seed: 9)
        let first = HammingIndex(hashes, radius: 6)
        let second = HammingIndex(hashes, radius: 6)
        XCTAssertEqual(first.allPairs(), second.allPairs())
        XCTAssertEqual(first.duplicateGroups(), second.duplicateGroups())
        XCTAssertEqual(first.allPairs(), first.allPairs().sorted())
    }

    func testEmptyAndSingleInput() {
        let empty = HammingIndex([], radius: 4)
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.allPairs(), [])
        XCTAssertEqual(empty.neighbors(of: 42), [])
        XCTAssertEqual(empty.duplicateGroups(), DuplicateGroups(count: 0, pairs: []))
        XCTAssertEqual(empty.duplicateGroups().keptIDs, [])
        let single = HammingIndex([42], radius: 4)
        XCTAssertEqual(single.allPairs(), [])
        XCTAssertEqual(single.neighbors(of: 43), [0])
        XCTAssertEqual(single.duplicateGroups().representative, [0])
    }

    func testGroupsAreConnectedComponentsWithSmallestRepresentative() {
        // A chain 4 - 1 - 6 (each step 3 bits, ends 6 apart) and a pair 2 - 5.
        let base: UInt64 = 0xF0F0_F0F0_0F0F_0F0F
        var hashes = [UInt64](repeating: 0, count: 7)
        hashes[4] = base
        hashes[1] = base ^ 0b111
        hashes[6] = base ^ 0b111_111
        hashes[0] = ~base
        hashes[2] = 0x1234_5678_0000_0000
        hashes[5] = 0x1234_5678_0000_0001
        hashes[3] = 0x0000_0000_1234_5678 ^ 0xFFFF
        let groups = HammingIndex(hashes, radius: 3).duplicateGroups()
        XCTAssertEqual(groups.groups, [[1, 4, 6], [2, 5]])
        XCTAssertEqual(groups.representative, [0, 1, 2, 3, 1, 2, 1])
        XCTAssertEqual(groups.keptIDs, [0, 1, 2, 3])
    }

    func testLayoutCoversAllBitsAndSatisfiesPigeonhole() {
        var rng = SplitMix64(state: 3)
        for radius in MultiIndexLayout.supportedRadii {
            for m in [2, 3, 5, radius + 1, 64] where (2...64).contains(m) {
                let layout = MultiIndexLayout(radius: radius, substrings: m)
                XCTAssertEqual(layout.parts.first?.offset, 0)
                XCTAssertTrue(layout.parts.allSatisfy { $0.width <= 32 && $0.radius >= 0 })
                // Every difference of at most `radius` bits is found by some searched part.
                for _ in 0..<200 {
                    let difference = flip(0, bits: Int.random(in: 0...radius, using: &rng), using: &rng)
                    let found = layout.parts.contains { part in
                        let mask: UInt64 = (UInt64(1) << UInt64(part.width)) - 1
                        return ((difference >> UInt64(part.offset)) & mask).nonzeroBitCount <= part.radius
                    }
                    XCTAssertTrue(found, "\(layout) misses \(PerceptualHash.hex(difference))")
                }
            }
        }
        XCTAssertEqual(MultiIndexLayout(radius: 3, substrings: 4).parts.map(\.width), [16, 16, 16, 16])
        XCTAssertEqual(MultiIndexLayout(radius: 0, substrings: 2).parts.count, 1)
        XCTAssertEqual(MultiIndexLayout(radius: 8, substrings: 3).parts.map(\.width), [22, 21, 21])
        XCTAssertEqual(MultiIndexLayout(radius: 8, substrings: 3).parts.map(\.radius), [2, 2, 2])
        XCTAssertEqual(MultiIndexLayout.automatic(radius: 8, count: 1_000_000).substrings, 3)
        XCTAssertEqual(MultiIndexLayout.automatic(radius: 0, count: 1_000_000).substrings, 2)
    }

    func testBallMasks() {
        for (width, radius) in [(1, 0), (1, 1), (8, 3), (21, 2), (16, 4), (32, 2)] {
            let masks = hammingBallMasks(width: width, radius: radius)
            XCTAssertEqual(masks.count, hammingBallSize(width: width, radius: radius))
            XCTAssertEqual(Set(masks).count, masks.count)
            XCTAssertTrue(masks.allSatisfy { $0.nonzeroBitCount <= radius && (width == 32 || $0 >> UInt32(width) == 0) })
        }
        XCTAssertEqual(hammingBallSize(width: 21, radius: 2), 1 + 21 + 210)
    }

    func testMemoryIsSmallPerHash() {
        let hashes = plantedSet(count: 1 << 16, radius: 8, seed: 11)
        let index = HammingIndex(hashes, radius: 8)
        let perHash = Double(index.memoryBytes) / Double(hashes.count)
        // 8 bytes of hash, and per table an 8-byte entry and at most 4 bytes of directory.
        XCTAssertLessThanOrEqual(perHash, 8 + Double(index.layout.parts.count) * 12 + 1, "\(index.layout)")
    }
}

// MARK: - Scaling benchmark (scripts/bench_hamming.sh)

/// Wall-clock and this thread's CPU seconds of `body`: on a shared machine the CPU time is the
/// steadier of the two.
private func timed<T>(_ body: () -> T) -> (result: T, wall: Double, cpu: Double) {
    func now(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
    let wall0 = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_THREAD_CPUTIME_ID)
    let result = body()
    return (result, now(CLOCK_MONOTONIC) - wall0, now(CLOCK_THREAD_CPUTIME_ID) - cpu0)
}

extension HammingIndexTests {
    /// Build time, query throughput, all-pairs time and memory of the index on random hashes with
    /// planted near-duplicates, against brute force where that is feasible. Runs only with
    /// CAPFILT_BENCH_HAMMING=1; CAPFILT_BENCH_HAMMING_SIZES, _RADII, _BRUTE_MAX override the
    /// defaults and CAPFILT_BENCH_HAMMING_OUT names a file for the markdown table.
    func testScalingBenchmark() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["CAPFILT_BENCH_HAMMING"] == "1" else {
            throw XCTSkip("set CAPFILT_BENCH_HAMMING=1 to run the near-duplicate index benchmark")
        }
        func list(_ name: String, _ fallback: [Int]) -> [Int] {
            environment[name].map { $0.split(separator: ",").compactMap { Int($0) } } ?? fallback
        }
        let sizes = list("CAPFILT_BENCH_HAMMING_SIZES", [10_000, 100_000, 1_000_000])
        let radii = list("CAPFILT_BENCH_HAMMING_RADII", [4, 8])
        let bruteMax = list("CAPFILT_BENCH_HAMMING_BRUTE_MAX", [100_000])[0]
        let queryCount = 20_000
        func f(_ x: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", x) }

        var rows = [
            "| N | radius | searched substrings | memory | build | queries/s | all pairs, wall (CPU) | pairs (planted found) | brute force, wall (CPU) | speed-up (CPU) |",
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for radius in radii {
            // Brute-force CPU seconds per comparison on the largest size run, for the O(N²)
            // extrapolation beyond it.
            var bruteSecondsPerComparison: Double?
            for n in sizes {
                var rng = SplitMix64(state: UInt64(n) &* 31 &+ UInt64(radius))
                // 1% planted pairs at distance 1 ... radius, each overwriting a random position.
                var hashes = (0..<n).map { _ in rng.next() }
                var planted: [(Int, Int)] = []
                for _ in 0..<(n / 100) {
                    let a = Int.random(in: 0..<n, using: &rng)
                    let b = Int.random(in: 0..<n, using: &rng)
                    guard a != b else { continue }
                    hashes[b] = flip(hashes[a], bits: Int.random(in: 1...max(1, radius), using: &rng), using: &rng)
                    planted.append((min(a, b), max(a, b)))
                }

                let build = timed { HammingIndex(hashes, radius: radius) }
                let index = build.result

                // Half random hashes (almost never a match), half perturbed copies of indexed ones.
                let queries = (0..<queryCount).map { k in
                    k % 2 == 0 ? rng.next() : flip(hashes[Int.random(in: 0..<n, using: &rng)], bits: radius / 2, using: &rng)
                }
                let querying = timed { queries.reduce(0) { $0 + index.neighbors(of: $1).count } }
                XCTAssertGreaterThanOrEqual(querying.result, queryCount / 2)

                let all = timed { index.allPairs() }
                let pairs = all.result
                let found = Set(pairs.map { [$0.first, $0.second] })
                // A later plant may overwrite an earlier one; count the pairs still within radius.
                let intact = planted.filter { hammingDistance(hashes[$0.0], hashes[$0.1]) <= radius }
                let plantedFound = intact.filter { found.contains([$0.0, $0.1]) }.count
                XCTAssertEqual(plantedFound, intact.count)

                let comparisons = Double(n) * Double(n - 1) / 2
                var bruteText = "not run"
                var speedUp = "–"
                if n <= bruteMax {
                    let brute = timed { HammingIndex.bruteForcePairs(hashes, radius: radius) }
                    XCTAssertEqual(brute.result, pairs, "N \(n) radius \(radius)")
                    bruteSecondsPerComparison = brute.cpu / comparisons
                    bruteText = "\(f(brute.wall, 2)) s (\(f(brute.cpu, 2)) s)"
                    speedUp = "\(f(brute.cpu / all.cpu, 0))x"
                } else if let perComparison = bruteSecondsPerComparison {
                    let estimate = perComparison * comparisons
                    bruteText = "~\(f(estimate, 0)) s CPU, extrapolated O(N²), not run"
                    speedUp = "~\(f(estimate / all.cpu, 0))x"
                }
                let row = "| \(n) | \(radius) | "
                    + index.layout.parts.map { "\($0.width)b r\($0.radius)" }.joined(separator: ", ")
                    + " | \(f(Double(index.memoryBytes) / 1_048_576, 1)) MB (\(f(Double(index.memoryBytes) / Double(n), 1)) B/hash)"
                    + " | \(f(build.wall, 3)) s | \(f(Double(queryCount) / querying.cpu, 0))"
                    + " | \(f(all.wall, 3)) s (\(f(all.cpu, 3)) s) | \(pairs.count) (\(plantedFound)/\(intact.count))"
                    + " | \(bruteText) | \(speedUp) |"
                rows.append(row)
                print(row)
            }
        }
        let table = rows.joined(separator: "\n") + "\n"
        print(table)
        if let out = environment["CAPFILT_BENCH_HAMMING_OUT"] {
            try table.write(toFile: out, atomically: true, encoding: .utf8)
        }
    }
}
