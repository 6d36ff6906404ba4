import Foundation

/// A fixed set of worker threads fed from a bounded queue. `submit` blocks while the queue is
/// full, so a fast producer (the fetcher's results queue) slows down instead of piling up work:
/// the fetcher then stops starting transfers, and memory stays bounded.
final class FetchWorkPool: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private let condition = NSCondition()
    private var jobs: [Job?]
    private var head = 0
    private var count = 0
    private var closed = false
    private let exited = DispatchSemaphore(value: 0)
    private let workers: Int

    /// - Parameters:
    ///   - workers: threads running jobs.
    ///   - capacity: jobs waiting at most (on top of those running).
    init(workers: Int, capacity: Int, name: String) {
        precondition(workers >= 1 && capacity >= 1)
        self.workers = workers
        jobs = Array(repeating: nil, count: capacity)
        for index in 0..<workers {
            let thread = Thread { [self] in work() }
            thread.name = "\(name).\(index)"
            // Decoders keep their state on the heap; the default stack is plenty.
            thread.start()
        }
    }

    /// Queues a job; waits while `capacity` jobs are already waiting.
    func submit(_ job: @escaping Job) {
        condition.lock()
        while count == jobs.count { condition.wait() }
        precondition(!closed, "submit after finish")
        jobs[(head + count) % jobs.count] = job
        count += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs what is queued, then stops the workers; returns when they have exited.
    func finish() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
        for _ in 0..<workers { exited.wait() }
    }

    private func work() {
        while let job = next() { job() }
        exited.signal()
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed { condition.wait() }
        guard count > 0 else { return nil }
        let job = jobs[head]
        jobs[head] = nil
        head = (head + 1) % jobs.count
        count -= 1
        condition.broadcast()
        return job
    }
}
