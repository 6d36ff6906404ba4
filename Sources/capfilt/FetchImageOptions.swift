import ArgumentParser
import Foundation
import Imaging
import Ingest

extension ExportResizeMode: ExpressibleByArgument {}

/// `capfilt fetch`'s options for also writing each fetched image resized, as a JPEG file: what
/// img2dataset does with `--output_format files`.
struct FetchImageOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Also decode every fetched image, resize it and write it as DIR/<key>.jpg.",
        valueName: "DIR"))
    var images: String?

    @Option(help: "Target side of the resize (default 256).")
    var resize: Int?

    @Option(name: .customLong("resize-mode"), help: ArgumentHelp(
        "How to resize, as img2dataset: no, border (default), keep_ratio, keep_ratio_largest, center_crop.",
        valueName: "mode"))
    var resizeMode: ExportResizeMode?

    @Flag(name: .customLong("resize-only-if-bigger"), help: "Leave images that are not larger than --resize alone.")
    var resizeOnlyIfBigger = false

    @Option(name: .customLong("jpeg-quality"), help: "Quality of the written JPEGs, 1-100 (default 95).")
    var jpegQuality: Int?

    @Option(name: .customLong("image-threads"), help: "Threads that decode, resize and encode (default: the cores available).")
    var imageThreads: Int?

    func validate() throws {
        if images == nil {
            let stray = [resize != nil ? "--resize" : nil, resizeMode != nil ? "--resize-mode" : nil,
                         resizeOnlyIfBigger ? "--resize-only-if-bigger" : nil,
                         jpegQuality != nil ? "--jpeg-quality" : nil, imageThreads != nil ? "--image-threads" : nil]
                .compactMap { $0 }
            if !stray.isEmpty {
                throw ValidationError("\(stray.joined(separator: ", ")) \(stray.count == 1 ? "needs" : "need") --images DIR")
            }
            return
        }
        if let resize, !(1...16384).contains(resize) { throw ValidationError("--resize must be in 1...16384") }
        if let jpegQuality, !(1...100).contains(jpegQuality) { throw ValidationError("--jpeg-quality must be in 1...100") }
        if let imageThreads, imageThreads < 1 { throw ValidationError("--image-threads must be at least 1") }
    }

    /// The fetch job's image settings; nil without --images.
    var settings: FetchImageSettings? {
        guard let images else { return nil }
        return FetchImageSettings(
            directory: images,
            resizer: ExportResizer(imageSize: resize ?? 256, mode: resizeMode ?? .border, resizeOnlyIfBigger: resizeOnlyIfBigger),
            quality: jpegQuality ?? 95,
            threads: imageThreads ?? max(1, ProcessInfo.processInfo.activeProcessorCount))
    }
}
