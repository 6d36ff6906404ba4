import Basics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every failure of the Export module, with enough context to name the file or the sample.
public enum ExportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call failed: what was being done, and errno (0 when there is none).
    case io(String, Int32)
    /// A sample key that cannot be written (empty after sanitising, or invalid under `.reject`).
    case invalidKey(String)
    /// A member name that WebDataset could not read back (empty, or containing '/' or NUL).
    case invalidMemberName(key: String, name: String)
    /// A tar member name that is empty or contains NUL.
    case invalidTarName(String)
    /// Two members of one sample with the same name.
    case duplicateMember(key: String, name: String)
    /// A key written twice to one shard: WebDataset would merge the two samples.
    case duplicateKey(String)
    /// A streamed member whose bytes did not match the size announced in its header.
    case sizeMismatch(name: String, expected: Int, actual: Int)
    /// The shard number no longer fits the configured number of digits.
    case tooManyShards(limit: Int)
    /// A call after `finish()`, or after an earlier failure left a half-written file.
    case closed(String)
    /// An option out of range.
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .io(what, code): return code == 0 ? what : "\(what): \(String(cString: strerror(code)))"
        case let .invalidKey(key): return "invalid sample key \(debugQuoted(key))"
        case let .invalidMemberName(key, name): return "sample \(debugQuoted(key)): invalid member name \(debugQuoted(name))"
        case let .invalidTarName(name): return "invalid tar member name \(debugQuoted(name))"
        case let .duplicateMember(key, name): return "sample \(debugQuoted(key)): member \(debugQuoted(name)) given twice"
        case let .duplicateKey(key): return "sample key \(debugQuoted(key)) written twice to one shard"
        case let .sizeMismatch(name, expected, actual): return "\(name): expected \(expected) bytes, got \(actual)"
        case let .tooManyShards(limit): return "more than \(limit) shards: use more digits in the shard names"
        case let .closed(what): return "\(what): writer is finished or failed"
        case let .invalidOption(what): return "invalid option: \(what)"
        }
    }
}

private func debugQuoted(_ s: String) -> String { s.debugDescription }

extension ExportError {
    /// A failed system call, as Basics reports it.
    static func io(_ error: SystemCallError) -> ExportError { .io(error.operation, error.code) }
}
