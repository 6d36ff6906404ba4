import Catalog
import Foundation

/// The samples a per-sample stage still has to do, read page by page in id order (constant
/// memory at any dataset size).
public final class PendingSamples: Sequence, @unchecked Sendable {
    let catalog: Catalog
    let stage: String
    let fingerprint: String
    let requires: [StageRequirement]
    let pageSize: Int
    let cancellation: Cancellation

    init(catalog: Catalog, stage: String, fingerprint: String, requires: [StageRequirement], pageSize: Int,
         cancellation: Cancellation) {
        self.catalog = catalog; self.stage = stage; self.fingerprint = fingerprint; self.requires = requires
        self.pageSize = pageSize; self.cancellation = cancellation
    }

    public func makeIterator() -> AnyIterator<SampleRecord> {
        var page: [SampleRecord] = []
        var position = 0
        var lastID: Int64 = 0
        var exhausted = false
        return AnyIterator { [self] in
            if cancellation.isCancelled { return nil }
            if position == page.count {
                guard !exhausted else { return nil }
                page = (try? catalog.read { try $0.pendingSamples(stage: stage, fingerprint: fingerprint, requires: requires,
                                                                   afterID: lastID, limit: pageSize) }) ?? []
                position = 0
                if page.count < pageSize { exhausted = true }
                guard let last = page.last else { return nil }
                lastID = last.id
            }
            defer { position += 1 }
            return page[position]
        }
    }
}

/// Collects finished samples from a streaming stage and commits them in bounded transactions:
/// every `maxBatch` samples or `maxSeconds`, whichever comes first, and at the end.
public final class BatchCommitter: @unchecked Sendable {
    private let lock = NSLock()
    private var pendingWrites: [(CatalogSession) throws -> Void] = []
    private var pendingMarks: [ProgressMark] = []
    private var lastCommit = Date()
    private let context: StageContext
    let maxBatch: Int
    let maxSeconds: Double
    private(set) var firstError: Error?

    init(context: StageContext, maxBatch: Int, maxSeconds: Double) {
        self.context = context; self.maxBatch = maxBatch; self.maxSeconds = maxSeconds
    }

    /// Queues one sample's writes and mark; may commit.
    public func add(mark: ProgressMark, write: @escaping (CatalogSession) throws -> Void) {
        lock.lock()
        pendingWrites.append(write)
        pendingMarks.append(mark)
        let due = pendingMarks.count >= maxBatch || Date().timeIntervalSince(lastCommit) >= maxSeconds
        lock.unlock()
        if due { flush() }
    }

    /// Commits whatever is queued.
    public func flush() {
        lock.lock()
        defer { lock.unlock() }
        guard !pendingMarks.isEmpty else { return }
        let writes = pendingWrites, marks = pendingMarks
        do {
            try context.catalog.write { session in
                for w in writes { try w(session) }
                try session.mark(stage: context.name, fingerprint: context.fingerprint, runID: context.runID, marks)
            }
            context.progress.add(marks)
        } catch {
            if firstError == nil { firstError = error }
        }
        pendingWrites.removeAll(keepingCapacity: true)
        pendingMarks.removeAll(keepingCapacity: true)
        lastCommit = Date()
    }
}

/// Set by SIGINT / SIGTERM: stages stop taking new work, commit what they finished and return.
/// Work that would otherwise run on for a long time (transfers on the wire) registers a handler
/// with `whileRunning(onCancel:_:)` to be stopped at once.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var handlers: [Int: @Sendable () -> Void] = [:]
    private var nextHandler = 0
    public init() {}
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    public func cancel() {
        lock.lock()
        let first = !cancelled
        cancelled = true
        let toCall = first ? handlers.sorted { $0.key < $1.key }.map(\.value) : []
        lock.unlock()
        for handler in toCall { handler() }
    }

    /// Runs `body`; a cancellation while it runs calls `onCancel` (on the cancelling thread), and
    /// one that came before calls it at once.
    public func whileRunning<T>(onCancel: @escaping @Sendable () -> Void, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        let id = nextHandler
        nextHandler += 1
        handlers[id] = onCancel
        let already = cancelled
        lock.unlock()
        if already { onCancel() }
        defer { lock.lock(); handlers[id] = nil; lock.unlock() }
        return try body()
    }
}
