import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a catalog (flock on a lock file next to it): a second run on the same
/// catalog fails at once instead of interleaving with the first. The kernel drops the lock when
/// the holder dies, even by kill -9, so a crash never leaves a stale lock behind.
public final class RunLock {
    private let descriptor: Int32
    public let path: String

    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RunLockError.cannotOpen(path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw RunLockError.busy(path)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

public enum RunLockError: Error, CustomStringConvertible {
    case cannotOpen(String)
    case busy(String)

    public var description: String {
        switch self {
        case .cannotOpen(let p): return "cannot open lock file \(p)"
        case .busy(let p): return "another capfilt run holds \(p); wait for it to finish (or stop it) and run again"
        }
    }
}
