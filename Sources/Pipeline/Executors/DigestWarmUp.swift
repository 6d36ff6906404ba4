import Foundation

extension PipelineRunner {
    /// Computes every stage's fingerprint once, with the model digests cached in
    /// `<workdir>/model-digests.json`, before shard tasks start: otherwise each of N tasks
    /// starting at once on a fresh workdir would hash the same checkpoints (about 1.8 GB for
    /// BLIP-base captioner + ITM) on its own.
    public func warmDigestCache() throws {
        try workspace.create(nil)
        FileDigest.cacheFile = workspace.root + "/model-digests.json"
        _ = try fingerprints()
    }
}
