import Basics
import Dispatch
import Foundation
internal import CCurl

/// Downloads many URLs at once with libcurl's multi interface and puts the bodies into a
/// `BlobStore`.
///
/// One `run` starts one event-loop thread that owns every libcurl handle of that run: it keeps
/// up to `maxInFlight` transfers on the wire (at most `maxPerHost` to one host), schedules
/// retries on a timer heap without blocking, and hands finished transfers to a serial queue that
/// commits bodies to the store and calls `onResult`. The caller's thread reads the request
/// sequence and blocks while the fetcher is `maxInFlight` requests ahead, so a sequence that
/// reads a manifest lazily is never held in memory.
///
/// A `Fetcher` is `Sendable`: `cancel()` and `progress()` may be called from any thread while
/// `run` is blocked on another.
public final class Fetcher: Sendable {
    public let options: FetchOptions
    public let store: BlobStore
    private let runs = Locked<[ObjectIdentifier: RunShared]>([:])
    static let commitLanes = 8

    public init(options: FetchOptions = FetchOptions(), store: BlobStore) {
        var options = options
        options.maxInFlight = max(1, options.maxInFlight)
        options.maxPerHost = max(1, options.maxPerHost)
        options.backlogFactor = max(1, options.backlogFactor)
        self.options = options
        self.store = store
    }

    /// Fetches every request and calls `onResult` exactly once per request, on a serial queue
    /// (never concurrently), in about the order transfers finish. The calling thread reads
    /// `requests` and blocks; it returns when all results have been delivered, or soon after
    /// `cancel()` (results already committed are still delivered; the rest get none).
    @discardableResult
    public func run<S: Sequence>(_ requests: S, onResult: @escaping @Sendable (FetchResult) -> Void) -> FetchSummary
    where S.Element == FetchRequest {
        CurlGlobal.initialize()
        let shared = RunShared(inputCapacity: max(16, options.maxInFlight))
        let id = ObjectIdentifier(shared)
        runs.withLock { $0[id] = shared }
        defer { _ = runs.withLock { $0.removeValue(forKey: id) } }

        let started = DispatchTime.now().uptimeNanoseconds
        let summary = Locked(FetchSummary())
        let results = DispatchQueue(label: "capfilt.fetch.results")
        let finished = DispatchSemaphore(value: 0)
        let options = self.options
        let store = self.store

        // Bodies are committed on a few lanes in parallel (file creation and fsync are the slow
        // part on most disks); results are then delivered one at a time on `results`.
        let lanes = (0..<Self.commitLanes).map { DispatchQueue(label: "capfilt.fetch.commit.\($0)") }
        let finishDelivery: @Sendable (FetchResult) -> Void = { result in
            summary.withLock { summary in
                summary.counts[result.status, default: 0] += 1
                summary.results += 1
                summary.attempts += result.attempts
                summary.bytes += result.bytes
            }
            shared.resultDelivered(result)
            onResult(result)
        }
        let deliver: @Sendable (FetchResult, BodyCommit) -> Void = { result, commit in
            let ticket = shared.willCommit()
            if case .none = commit {
                results.async { finishDelivery(result) }
                return
            }
            lanes[ticket % lanes.count].async {
                var committed = result
                commit.apply(to: &committed, store: store)
                let delivered = committed
                results.async { finishDelivery(delivered) }
            }
        }

        let thread = Thread {
            let loop = FetchLoop(options: options, store: store, shared: shared, deliver: deliver)
            loop.run()
            finished.signal()
        }
        thread.name = "capfilt.fetch.loop"
        thread.start()

        // Archive members and failures the source recorded are answered here, on the caller's
        // thread, and committed on the same lanes as downloads; at most `maxInFlight` of them wait
        // for their commit at once, so a fast disk read cannot pile bodies up in memory.
        for request in requests {
            if request.isLocal {
                guard shared.reserveLocal(limit: options.maxInFlight) else { break }
                let (result, commit) = LocalAnswer.answer(request, options: options)
                deliver(result, commit)
                continue
            }
            if !shared.push(request) { break }
        }
        shared.closeInput()
        finished.wait()
        for lane in lanes { lane.sync {} }
        results.sync {}

        return summary.withLock { summary in
            summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            summary.cancelled = shared.isCancelled
            return summary
        }
    }

    /// Stops every run of this fetcher: transfers on the wire are abandoned, unread requests are
    /// not read, and neither gets a result. Results already delivered stand.
    public func cancel() {
        for shared in runs.withLock({ Array($0.values) }) { shared.cancel() }
    }

    /// Counters of the runs in progress (zero when none is).
    public func progress() -> FetchProgress {
        var total = FetchProgress()
        for shared in runs.withLock({ Array($0.values) }) {
            let p = shared.progress()
            total.submitted += p.submitted; total.inFlight += p.inFlight
            total.waitingForHost += p.waitingForHost; total.waitingForRetry += p.waitingForRetry
            total.finished += p.finished; total.succeeded += p.succeeded
            total.bytes += p.bytes; total.attempts += p.attempts
        }
        return total
    }
}

/// What to do with a body once its transfer is finished; runs on the results queue.
enum BodyCommit: Sendable {
    case none
    case memory([UInt8], sha256: String)
    case file(TemporaryBlob, sha256: String)

    func apply(to result: inout FetchResult, store: BlobStore) {
        let stored: StoredBlob
        do {
            switch self {
            case .none: return
            case let .memory(bytes, sha256): stored = try store.put(bytes, sha256: sha256, expectedSHA256: nil)
            case let .file(temporary, sha256): stored = try store.commit(temporary, sha256: sha256)
            }
        } catch {
            result.status = .ioError
            result.error = "store: \(error)"
            result.blob = nil
            return
        }
        result.blob = stored.path
    }

    func discard() {
        if case let .file(temporary, _) = self {
            close(temporary.descriptor)
            unlink(temporary.path)
        }
    }
}

/// The state one run shares between the caller's thread (feeding requests), the loop thread and
/// the results queue. Everything is behind `condition`.
final class RunShared: @unchecked Sendable {
    private let condition = NSCondition()
    private let inputCapacity: Int
    private var input: [FetchRequest] = []
    private var inputHead = 0
    private var inputClosed = false
    private var cancelled = false
    /// The loop's multi handle while it exists, for curl_multi_wakeup (safe from any thread).
    private var multi: OpaquePointer?
    private var counters = FetchProgress()
    /// Results handed to the results queue and not yet delivered.
    private var committing = 0
    private var commitTickets = 0
    private var committingLimit = Int.max

    init(inputCapacity: Int) { self.inputCapacity = inputCapacity }

    // Caller side.

    /// Blocks while the input buffer is full. Returns false once the run is cancelled.
    func push(_ request: FetchRequest) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while input.count - inputHead >= inputCapacity && !cancelled { condition.wait() }
        if cancelled { return false }
        input.append(request)
        counters.submitted += 1
        wakeLocked()
        return true
    }

    /// Counts a request answered without the loop, first blocking while `limit` results are
    /// waiting for their commit. Returns false once the run is cancelled.
    func reserveLocal(limit: Int) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while committing >= limit && !cancelled { condition.wait() }
        if cancelled { return false }
        counters.submitted += 1
        return true
    }

    func closeInput() {
        condition.lock(); defer { condition.unlock() }
        inputClosed = true
        wakeLocked()
    }

    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        wakeLocked()
    }

    var isCancelled: Bool {
        condition.lock(); defer { condition.unlock() }
        return cancelled
    }

    func progress() -> FetchProgress {
        condition.lock(); defer { condition.unlock() }
        return counters
    }

    // Loop side.

    func attach(multi: OpaquePointer?, committingLimit: Int) {
        condition.lock(); defer { condition.unlock() }
        self.multi = multi
        self.committingLimit = committingLimit
    }

    struct Intake {
        var requests: [FetchRequest]
        var closed: Bool
        var cancelled: Bool
        var committing: Int
    }

    /// Takes up to `limit` buffered requests and reports the run's state; also publishes the
    /// loop's gauges.
    func take(limit: Int, inFlight: Int, waitingForHost: Int, waitingForRetry: Int, attempts: Int) -> Intake {
        condition.lock(); defer { condition.unlock() }
        counters.inFlight = inFlight
        counters.waitingForHost = waitingForHost
        counters.waitingForRetry = waitingForRetry
        counters.attempts = attempts
        let available = input.count - inputHead
        let count = cancelled ? 0 : min(max(0, limit), available)
        let taken = Array(input[inputHead..<(inputHead + count)])
        inputHead += count
        if inputHead > 1024 && inputHead * 2 > input.count {
            input.removeFirst(inputHead)
            inputHead = 0
        }
        if count > 0 { condition.broadcast() }
        return Intake(requests: taken, closed: inputClosed && inputHead == input.count,
                      cancelled: cancelled, committing: committing)
    }

    /// Counts a result on its way to delivery; returns a running number.
    func willCommit() -> Int {
        condition.lock(); defer { condition.unlock() }
        committing += 1
        commitTickets += 1
        return commitTickets
    }

    func detach() {
        condition.lock(); defer { condition.unlock() }
        multi = nil
        condition.broadcast()
    }

    // Results side.

    func resultDelivered(_ result: FetchResult) {
        condition.lock(); defer { condition.unlock() }
        counters.finished += 1
        if result.status.isSuccess { counters.succeeded += 1 }
        counters.bytes += result.bytes
        committing -= 1
        if committing == committingLimit - 1 { wakeLocked() }
        condition.broadcast()   // a caller in `reserveLocal` may go on
    }

    private func wakeLocked() {
        if let multi { curl_multi_wakeup(multi) }
    }
}

/// libcurl's process-wide setup, done once.
enum CurlGlobal {
    private static let done: Bool = {
        // CURL_GLOBAL_ALL (SSL | WIN32); the macro does not import.
        curl_global_init(3) == CURLE_OK
    }()

    static func initialize() { _ = done }
}
