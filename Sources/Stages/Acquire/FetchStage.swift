import Catalog
import Foundation
import Ingest
import Pipeline

/// Downloads every sample's image (or reads its local file, or copies its member out of a
/// WebDataset shard) into the shard's content-addressed blob store with the libcurl fetcher,
/// hundreds in flight, and records one fetch row and one status per sample (the closed set of
/// docs/fetch.md). Results land every 512 samples or two
/// seconds; a kill loses only the transfers in flight, which a rerun fetches again. SIGINT or
/// SIGTERM abandon those transfers at once, leaving their samples pending.
final class FetchStage: StreamingSampleStage {
    let options: FetchOptions
    let durable: Bool

    /// The stage's parameters, each declared once.
    enum Keys {
        static let maxInFlight = StageParameter("max_in_flight", .int(1...10_000), default: 256, affectsResults: false, help: "transfers at once")
        static let perHost = StageParameter("per_host", .int(1...1000), default: 8, affectsResults: false, help: "transfers at once per host")
        static let timeout = StageParameter("timeout", .double(0.1...3600), default: 30.0, affectsResults: false, help: "seconds a transfer may take in all")
        static let connectTimeout = StageParameter("connect_timeout", .double(0.1...600), default: 10.0, affectsResults: false, help: "seconds to connect")
        static let retries = StageParameter("retries", .int(0...20), default: 2, affectsResults: false, help: "retries of a transient failure (with back-off)")
        static let maxBytes = StageParameter("max_bytes", .int(1...(1 << 34)), default: 20 * 1024 * 1024, help: "largest body accepted, in MiB")
        static let allowPrivate = StageParameter("allow_private", .bool, default: false, help: "allow private and loopback addresses (off for web sources)")
        static let robots = StageParameter("robots", .bool, default: true, help: "honour X-Robots-Tag noai / noimageai")
        static let userAgent = StageParameter<String?>.optional("user_agent", .string, affectsResults: false, help: "User-Agent header (default: capfilt's, with its URL)")
        static let fsync = StageParameter("fsync", .bool, default: true, affectsResults: false, help: "flush every image to disk before it is recorded")

        static let all = [maxInFlight.spec, perHost.spec, timeout.spec, connectTimeout.spec, retries.spec, maxBytes.spec, allowPrivate.spec, robots.spec, userAgent.spec, fsync.spec]
    }

    static let type = StageType(
        name: "fetch", kind: .perSample, summary: "Download images into the blob store.",
        parameters: Keys.all,
        requires: ["ingest"],
        make: { setup in FetchStage(setup.parameters) })

    init(_ p: StageParameters) {
        var o = FetchOptions()
        o.maxInFlight = p[Keys.maxInFlight]
        o.maxPerHost = p[Keys.perHost]
        o.totalTimeout = p[Keys.timeout]
        o.connectTimeout = min(p[Keys.connectTimeout], o.totalTimeout)
        o.retry.maxRetries = p[Keys.retries]
        o.maxBodyBytes = p[Keys.maxBytes] * 1024 * 1024
        o.addresses = (p[Keys.allowPrivate]) ? .allowAll : AddressPolicy()
        o.robots.enabled = p[Keys.robots]
        if let ua = p[Keys.userAgent] { o.userAgent = ua }
        options = o
        durable = p[Keys.fsync]
    }

    func run(pending: PendingSamples, context: StageContext, commit: BatchCommitter) throws {
        let store = try BlobStore(root: context.workspace.blobFolder(context.shard), durable: durable)
        let fetcher = Fetcher(options: options, store: store)
        let requests = pending.lazy.map { s -> FetchRequest in
            // Shard members are read from their shard and failures the shard's maker met are
            // recorded: neither touches the network.
            var member: ArchiveMember?
            if let offset = s.memberOffset, let size = s.memberSize { member = ArchiveMember(offset: offset, size: size) }
            return FetchRequest.forSample(key: String(s.id), url: s.url, localPath: s.localPath, member: member,
                                          sourceFailure: s.sourceFailure)
        }
        // SIGINT / SIGTERM abandon the transfers on the wire at once (a slow server would keep
        // the run going for up to `timeout`); they get no mark, so they stay pending.
        _ = context.whileRunning(onCancel: { fetcher.cancel() }) {
            fetcher.run(requests) { result in
                guard let id = Int64(result.key) else { return }
                let record = FetchRecord(
                    sampleID: id, status: SampleStatus(result.status), attempts: result.attempts, bytes: result.bytes,
                    sha256: result.sha256, httpCode: result.httpCode, latencySeconds: result.latencySeconds,
                    finalURL: result.finalURL, contentType: result.contentType, error: result.error, blobPath: result.blob)
                // `local` is a success: the sample's mark is `ok`, what downstream stages wait for.
                let mark = result.status.isSuccess ? SampleStatus.ok : SampleStatus(result.status)
                commit.add(mark: ProgressMark(sampleID: id, status: mark, reason: result.error)) { session in
                    try session.recordFetch(record, runID: context.runID)
                }
            }
        }
    }
}

extension SampleStatus {
    /// The status a fetch's outcome is recorded with: its own word (`ok`, `http_404`, `timeout`, …).
    init(_ fetch: FetchStatus) { self.init(rawValue: fetch.rawValue) }
}
