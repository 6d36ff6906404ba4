import Foundation

/// The sbatch settings of a scale-out run. Unset values are left to the cluster's defaults,
/// except the CPUs per task, which default to the pipeline's `threads`.
public struct SlurmOptions: Sendable, Equatable {
    public var partition: String?
    public var time: String?
    public var cpus: Int?
    public var mem: String?
    public var arrayParallelism: Int?
    public var account: String?
    /// The capfilt binary the tasks run; it must be reachable from every node.
    public var binary: String?
    /// Extra `#SBATCH` options, as given (e.g. `--qos=low`).
    public var extraArguments: [String] = []

    public init() {}

    /// Command-line values win over the file's.
    public func overlaid(with other: SlurmOptions) -> SlurmOptions {
        var o = self
        o.partition = other.partition ?? partition
        o.time = other.time ?? time
        o.cpus = other.cpus ?? cpus
        o.mem = other.mem ?? mem
        o.arrayParallelism = other.arrayParallelism ?? arrayParallelism
        o.account = other.account ?? account
        o.binary = other.binary ?? binary
        o.extraArguments = extraArguments + other.extraArguments
        return o
    }

    /// Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (all numbers).
    public static func isValidTime(_ text: String) -> Bool {
        func numbers(_ s: Substring, _ counts: ClosedRange<Int>) -> Bool {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            return counts.contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
        }
        if text == "UNLIMITED" || text == "INFINITE" { return true }
        let dash = text.split(separator: "-", omittingEmptySubsequences: false)
        switch dash.count {
        case 1: return numbers(dash[0], 1...3)
        case 2: return numbers(dash[0], 1...1) && numbers(dash[1], 1...3)
        default: return false
        }
    }

    /// A number with an optional K, M, G or T suffix (megabytes without one).
    public static func isValidMemory(_ text: String) -> Bool {
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
