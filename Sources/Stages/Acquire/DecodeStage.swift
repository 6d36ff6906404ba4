import Basics
import Catalog
import Dispatch
import Foundation
import Imaging
import Pipeline

/// Validates every fetched image: decodes it, checks its size against limits, records format,
/// dimensions and a 64-bit perceptual hash, and optionally writes a resized JPEG copy. An image
/// shared by several samples (same bytes) is decoded once. Failures get a status: the
/// `ImageError` kind (corrupt, truncated, unsupported_format, too_small, too_large,
/// bad_aspect_ratio, io).
final class DecodeStage: SampleStage, @unchecked Sendable {
    let batchSize: Int
    let limits: DecodeLimits
    let resizer: ExportResizer?
    let quality: Int

    /// The stage's parameters, each declared once.
    enum Keys {
        static let minSide = StageParameter("min_side", .int(1...100_000), default: 16, help: "images with a shorter side are too_small")
        static let maxPixels = StageParameter("max_pixels", .int(1...1_000_000_000), default: 89_478_485, help: "images with more pixels are too_large (Pillow's limit by default)")
        static let maxAspectRatio = StageParameter("max_aspect_ratio", .double(1...10_000), default: 10.0, help: "longer side over shorter side at most; beyond: bad_aspect_ratio")
        static let resize = StageParameter("resize", .int(0...10_000), default: 0, help: "side of a resized copy; 0: none")
        static let resizeMode = StageParameter("resize_mode", default: ExportResizeMode.centerCrop, help: "how the resized copy is made (img2dataset's modes)", appliesWhen: resizing)
        static let jpegQuality = StageParameter("jpeg_quality", .int(1...100), default: 95, help: "quality of the resized copy",
                                                appliesWhen: resizing)
        static let batchSize = StageParameter("batch_size", .int(1...100_000), default: 64, affectsResults: false, help: "images decoded per batch (in parallel)")

        private static let resizing = ParameterCondition("when `resize` is above 0") { $0[resize] > 0 }

        static let all = [minSide.spec, maxPixels.spec, maxAspectRatio.spec, resize.spec, resizeMode.spec, jpegQuality.spec, batchSize.spec]
    }

    static let type = StageType(
        name: "decode", kind: .perSample, summary: "Validate images: decode, dimensions, perceptual hash.",
        parameters: Keys.all,
        requires: ["fetch"],
        make: { setup in DecodeStage(setup.parameters) })

    init(_ p: StageParameters) {
        batchSize = p[Keys.batchSize]
        limits = DecodeLimits(maxPixels: p[Keys.maxPixels], minSide: p[Keys.minSide],
                              maxAspectRatio: p[Keys.maxAspectRatio])
        let side = p[Keys.resize]
        resizer = side > 0 ? ExportResizer(imageSize: side, mode: p[Keys.resizeMode]) : nil
        quality = p[Keys.jpegQuality]
    }

    struct Decoded: Sendable {
        var sha256: String
        var format: String
        var width: Int
        var height: Int
        var phash: UInt64
        var resizedPath: String?
    }

    func process(_ samples: [SampleRecord], context: StageContext) throws -> StageBatch {
        let images: [(sample: SampleRecord, image: ImageRecord?)] = try context.catalog.read { session in
            try samples.map { s in (s, try s.imageSHA256.flatMap { try session.image(sha256: $0) }) }
        }
        let resizedFolder = context.workspace.shardFolder(context.shard) + "/resized"
        let results = Locked([Result<Decoded, StageFailure>?](repeating: nil, count: images.count))
        DispatchQueue.concurrentPerform(iterations: images.count) { i in
            let result = decode(images[i].image, resizedFolder: resizedFolder)
            results.withLock { $0[i] = result }
        }
        var marks: [ProgressMark] = []
        var decoded: [Decoded] = []
        let outcomes = results.current
        for (i, item) in images.enumerated() {
            switch outcomes[i]! {
            case .success(let d):
                marks.append(.ok(item.sample.id))
                decoded.append(d)
            case .failure(let f):
                marks.append(ProgressMark(sampleID: item.sample.id, status: f.status, reason: f.reason))
            }
        }
        return StageBatch(marks: marks) { session in
            for d in decoded {
                try session.recordDecoded(sha256: d.sha256, format: d.format, width: d.width, height: d.height,
                                          phash: d.phash, resizedPath: d.resizedPath)
            }
        }
    }

    private func decode(_ image: ImageRecord?, resizedFolder: String) -> Result<Decoded, StageFailure> {
        guard let image else { return .failure(StageFailure(.noImage, "the sample has no fetched image")) }
        let bytes: [UInt8]
        do { bytes = try readAll(image.blobPath) } catch {
            return .failure(StageFailure(.io, "cannot read \(image.blobPath): \(error)"))
        }
        do {
            let rgb = try ImageDecoder.decode(bytes, limits: limits)
            let format = ImageFormat.sniff(bytes).map { "\($0)" } ?? "unknown"
            var resizedPath: String?
            if let resizer {
                let path = resizedFolder + "/" + image.sha256.prefix(2) + "/" + image.sha256 + ".jpg"
                if !FileManager.default.fileExists(atPath: path) {
                    let jpeg = try ImageEncoder.jpeg(resizer(rgb), quality: quality)
                    try writeAtomically(jpeg, to: path)
                }
                resizedPath = path
            }
            return .success(Decoded(sha256: image.sha256, format: format, width: rgb.width, height: rgb.height,
                                    phash: PerceptualHash.phash(rgb), resizedPath: resizedPath))
        } catch let e as ImageError {
            return .failure(StageFailure(SampleStatus(e), e.reason))
        } catch {
            return .failure(StageFailure(.io, "\(error)"))
        }
    }
}

extension SampleStatus {
    /// The status a decode failure is recorded with.
    init(_ error: ImageError) {
        switch error.kind {
        case .unsupportedFormat: self.init(rawValue: "unsupported_format")
        case .corrupt: self.init(rawValue: "corrupt")
        case .truncated: self.init(rawValue: "truncated")
        case .tooLarge: self.init(rawValue: "too_large")
        case .tooSmall: self.init(rawValue: "too_small")
        case .badAspectRatio: self.init(rawValue: "bad_aspect_ratio")
        case .io: self = .io
        }
    }
}
