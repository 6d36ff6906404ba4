import Dispatch

/// Data-parallel loops for the element-wise kernels.
public enum Parallel {
    /// Worker count of the engine's one pool; set by `setEngineThreads`.
    nonisolated(unsafe) public static var threads: Int = 1

    /// Runs `body(range)` over `0..<count` split into contiguous chunks, one per worker.
    /// Small loops (`count * costPerItem` below ~32k) run inline: dispatch costs microseconds.
    @inline(__always)
    public static func forRanges(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, count)
        if workers <= 1 || count * costPerItem < 32_768 {
            if count > 0 { body(0..<count) }
            return
        }
        let chunk = (count + workers - 1) / workers
        withoutActuallyEscaping(body) { body in
            // The kernels hand disjoint ranges of raw buffers to the workers; that is the whole
            // synchronisation contract, which the type system cannot see.
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = w * chunk, hi = min(count, lo + chunk)
                if lo < hi { work.value(lo..<hi) }
            }
        }
    }
}

/// Sets the engine's worker count; OpenBLAS itself stays single-threaded (see BLAS.swift).
/// Loads OpenBLAS first if nothing did yet (commands call `BLAS.load()` earlier for a clear error).
public func setEngineThreads(_ n: Int) {
    BLAS.threads = 1
    Parallel.threads = max(1, n)
}

package struct UncheckedSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
