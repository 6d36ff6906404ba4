import Basics
import Dispatch
import Imaging

/// An evaluation image as the index holds it: its set and name, and what the matching reads.
public struct IndexedEvaluationImage: Sendable, Equatable {
    public var evalSet: String
    public var name: String
    public var sha256: String
    public var phash: UInt64
    /// What residual matching compares (`CopyVerifier`); nil unless the index was built with signatures.
    public var signature: CopySignature?
    public init(evalSet: String, name: String, sha256: String, phash: UInt64, signature: CopySignature? = nil) {
        self.evalSet = evalSet; self.name = name; self.sha256 = sha256; self.phash = phash; self.signature = signature
    }
}

/// An evaluation image that could not be read or decoded: reported, never matched.
public struct UnreadableEvaluationImage: Error, Sendable, Equatable {
    public var evalSet: String
    public var name: String
    public var reason: String
}

/// The evaluation images a training image is compared with: their SHA-256 digests for exact
/// copies and their perceptual hashes in Imaging's multi-index Hamming index, so a lookup costs
/// a few table probes rather than a scan of every evaluation image. Built in memory from the
/// files each time it is needed: nothing is half-written by a kill.
public struct EvaluationIndex: Sendable {
    public let images: [IndexedEvaluationImage]
    public let unreadable: [UnreadableEvaluationImage]
    /// The Hamming radius of perceptual-hash matches; nil: no phash matching.
    public let radius: Int?
    private let bySHA256: [String: Int]
    private let hamming: HammingIndex?

    public init(images: [IndexedEvaluationImage], unreadable: [UnreadableEvaluationImage] = [], radius: Int?) {
        self.images = images
        self.unreadable = unreadable
        self.radius = radius
        var first: [String: Int] = [:]
        for (i, image) in images.enumerated() where first[image.sha256] == nil { first[image.sha256] = i }
        bySHA256 = first
        hamming = radius.map { HammingIndex(images.map(\.phash), radius: $0) }
    }

    /// Reads, digests, decodes and hashes every image of `sets` (on all cores). The pHash is
    /// Imaging's, computed from the decoded pixels as the decode stage computes a training
    /// image's, so equal pixels give equal hashes. `signatures`: also each image's `CopySignature`
    /// (about 40 KB an image), for residual matching.
    public static func build(_ sets: [EvaluationSet], radius: Int?, signatures: Bool = false) -> EvaluationIndex {
        let files = sets.flatMap { set in set.images.map { (set: set.name, file: $0) } }
        let results = Locked([Result<IndexedEvaluationImage, UnreadableEvaluationImage>?](repeating: nil, count: files.count))
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            let (set, file) = files[i]
            let result: Result<IndexedEvaluationImage, UnreadableEvaluationImage>
            do {
                let bytes = try readImageBytes(file.path)
                let pixels = try ImageDecoder.decode(bytes)
                result = .success(IndexedEvaluationImage(evalSet: set, name: file.name, sha256: SHA256.hex(bytes),
                                                         phash: PerceptualHash.phash(pixels),
                                                         signature: signatures ? CopySignature(pixels) : nil))
            } catch {
                result = .failure(UnreadableEvaluationImage(evalSet: set, name: file.name, reason: "\(error)"))
            }
            results.withLock { $0[i] = result }
        }
        var images: [IndexedEvaluationImage] = []
        var unreadable: [UnreadableEvaluationImage] = []
        for result in results.current {
            switch result! {
            case .success(let image): images.append(image)
            case .failure(let bad): unreadable.append(bad)
            }
        }
        for set in sets {
            unreadable += set.problems.map { UnreadableEvaluationImage(evalSet: set.name, name: $0.name, reason: $0.reason) }
        }
        return EvaluationIndex(images: images, unreadable: unreadable, radius: radius)
    }

    /// The first evaluation image with the same bytes, else the nearest perceptual hash within
    /// the radius (ties: the first in set order), else nil.
    public func match(sha256: String?, phash: UInt64?, exact: Bool = true) -> ContaminationMatch? {
        if exact, let sha256, let i = bySHA256[sha256] {
            return ContaminationMatch(method: .exact, evalSet: images[i].evalSet, evalImage: images[i].name, distance: 0)
        }
        guard let hamming, let phash else { return nil }
        var best: (index: Int, distance: Int)?
        for i in hamming.neighbors(of: phash) {
            let d = (images[i].phash ^ phash).nonzeroBitCount
            if best == nil || d < best!.distance || (d == best!.distance && i < best!.index) { best = (i, d) }
        }
        return best.map {
            ContaminationMatch(method: .phash, evalSet: images[$0.index].evalSet, evalImage: images[$0.index].name,
                               distance: Double($0.distance))
        }
    }
}
