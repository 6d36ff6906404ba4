#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: what was being done, to which path, and the `errno` it left.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        code == 0 ? operation : "\(operation): \(String(cString: strerror(code)))"
    }
}

/// Runs a system call again while it fails with EINTR (a signal arrived before it did anything);
/// returns its result otherwise, with `errno` as the call left it.
@inline(__always)
public func retryingInterrupts<Result: BinaryInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

/// Writes every byte, in chunks of at most 1 GiB (some kernels cap one write near 2 GiB),
/// across short writes and interruptions. Throws the `errno` of the first real failure.
public func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
    guard var base = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
        let written = retryingInterrupts { systemWrite(descriptor, base, min(remaining, 1 << 30)) }
        if written < 0 { throw SystemCallError("write") }
        base += written
        remaining -= written
    }
}

/// `writeAll` for an array.
public func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) throws(SystemCallError) {
    let failure: SystemCallError? = bytes.withUnsafeBytes { raw in
        do throws(SystemCallError) {
            try writeAll(descriptor, raw)
            return nil
        } catch {
            return error
        }
    }
    if let failure { throw failure }
}

/// Fills `buffer` from `descriptor` at `offset` (pread), across short reads and interruptions;
/// false at end of file or on a failed read.
public func readAll(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
    guard let base = buffer.baseAddress else { return true }
    var done = 0
    while done < buffer.count {
        let n = retryingInterrupts { pread(descriptor, base + done, buffer.count - done, off_t(offset + done)) }
        if n <= 0 { return false }
        done += n
    }
    return true
}

/// Exactly `count` bytes of `descriptor` at `offset`, or nil (a short file, a failed read).
public func readAll(_ descriptor: Int32, count: Int, at offset: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: count)
    let complete = out.withUnsafeMutableBytes { readAll(descriptor, into: $0, at: offset) }
    return complete ? out : nil
}

/// Named apart from functions called `write`, which would shadow the C function.
@inline(__always)
private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}
