import Basics
import Foundation
import Imaging
import Tensor

/// Peak resident set size of this process (getrusage reports KiB on Linux, bytes on macOS).
func peakResidentBytes() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss)
    #endif
}

/// User + system CPU seconds of the whole process (all threads), so that time spent waiting for
/// a core that other work shares is not counted.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The median of some timings (the upper one of an even count).
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// One JSON line on standard output (Basics' deterministic writer: keys in the order given).
enum Output {
    static func json(_ value: JSONValue) { FileHandle.standardOutput.write(Data((value.lineText + "\n").utf8)) }
}

/// One line on standard output: an Encodable value as JSON with sorted keys.
func printSortedJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

/// A benchmark that cannot run (an unreadable input): one line on standard error, exit status 1.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The benchmarks' seeded generator: Imaging's SplitMix64.
typealias SplitMix = SplitMix64

extension SplitMix64 {
    /// Uniform in [0, 1), from the top 53 bits.
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// The CPU a report's figures come from, as CPUID names it (the same source as `capfilt doctor`).
func cpuDescription() -> String {
    let cpu = CPUInfo.current
    return "\(cpu.brand) (family \(cpu.family), model \(cpu.model))"
}

/// A two-column markdown table of a result's fields, in their order.
func markdownTable(_ result: JSONValue) -> String {
    guard case .orderedObject(let fields) = result else { return "" }
    return "| measure | value |\n|---|---|\n" + fields.map { "| `\($0.0)` | \($0.1.lineText) |" }.joined(separator: "\n")
}
