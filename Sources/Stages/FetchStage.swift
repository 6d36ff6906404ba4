import Catalog
import Foundation
import Ingest
import Pipeline

/// Downloads every sample's image (or reads its local file) into the shard's content-addressed
/// blob store with the libcurl fetcher, hundreds in flight, and records one fetch row and one
/// status per sample (the closed set of docs/fetch.md). Results land every 512 samples or two
/// seconds; a kill loses only the transfers in flight, which a rerun fetches again.
final class FetchStage: StreamingSampleStage {
    let options: FetchOptions
    let durable: Bool

    static let type = StageType(
        name: "fetch", kind: .perSample, summary: "Download images into the blob store.",
        parameters: [
            ParameterSpec("max_in_flight", .int(1...10_000), default: .int(256), affectsResults: false),
            ParameterSpec("per_host", .int(1...1000), default: .int(8), affectsResults: false),
            ParameterSpec("timeout", .double(0.1...3600), default: .double(30), affectsResults: false),
            ParameterSpec("connect_timeout", .double(0.1...600), default: .double(10), affectsResults: false),
            ParameterSpec("retries", .int(0...20), default: .int(2), affectsResults: false),
            ParameterSpec("max_bytes", .int(1...(1 << 34)), default: .int(20 * 1024 * 1024)),
            ParameterSpec("allow_private", .bool, default: .bool(false),
                          help: "allow private and loopback addresses (off for web sources)"),
            ParameterSpec("robots", .bool, default: .bool(true), help: "honour X-Robots-Tag noai / noimageai"),
            ParameterSpec("user_agent", .string, optional: true, affectsResults: false),
            ParameterSpec("fsync", .bool, default: .bool(true), affectsResults: false),
        ],
        requires: ["ingest"],
        make: { setup in FetchStage(setup.parameters) })

    init(_ p: StageParameters) {
        var o = FetchOptions()
        o.maxInFlight = p.int("max_in_flight") ?? 256
        o.maxPerHost = p.int("per_host") ?? 8
        o.totalTimeout = p.double("timeout") ?? 30
        o.connectTimeout = min(p.double("connect_timeout") ?? 10, o.totalTimeout)
        o.retry.maxRetries = p.int("retries") ?? 2
        o.maxBodyBytes = p.int("max_bytes") ?? 20 * 1024 * 1024
        o.addresses = (p.bool("allow_private") ?? false) ? .allowAll : AddressPolicy()
        o.robots.enabled = p.bool("robots") ?? true
        if let ua = p.string("user_agent") { o.userAgent = ua }
        options = o
        durable = p.bool("fsync") ?? true
    }

    func run(pending: PendingSamples, context: StageContext, commit: BatchCommitter) throws {
        let store = try BlobStore(root: context.workspace.blobFolder(context.shard), durable: durable)
        let fetcher = Fetcher(options: options, store: store)
        let requests = pending.lazy.compactMap { s -> FetchRequest? in
            let key = String(s.id)
            if let url = s.url, !url.isEmpty { return FetchRequest(key: key, url: url) }
            if let path = s.localPath, !path.isEmpty { return .localFile(key: key, path: path) }
            // Readers never yield a sample without either; a URL-less row would fail here.
            return FetchRequest(key: key, url: "")
        }
        fetcher.run(requests) { result in
            guard let id = Int64(result.key) else { return }
            let record = FetchRecord(
                sampleID: id, status: result.status.rawValue, attempts: result.attempts, bytes: result.bytes,
                sha256: result.sha256, httpCode: result.httpCode, latencySeconds: result.latencySeconds,
                finalURL: result.finalURL, contentType: result.contentType, error: result.error, blobPath: result.blob)
            commit.add(mark: ProgressMark(sampleID: id, status: result.status.rawValue, reason: result.error)) { session in
                try session.recordFetch(record, runID: context.runID)
            }
        }
    }
}
