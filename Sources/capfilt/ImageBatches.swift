import Basics
import Foundation
import Imaging
import MED
import Tensor

/// One input image after BLIP's test transform, or the reason it could not be read.
struct PreparedImage {
    let path: String
    let pixels: [Float]?     // [3, S, S]
    let error: String?
}

enum ImageInput {
    /// Decodes and transforms each image; a failure is recorded for that image only.
    static func prepare(_ paths: [String], size: Int) -> [PreparedImage] {
        let transform = BlipImageTransform(size: size)
        return paths.map { path in
            do {
                let image = try ImageDecoder.decode(contentsOf: path)
                return PreparedImage(path: path, pixels: transform(image), error: nil)
            } catch {
                return PreparedImage(path: path, pixels: nil, error: "\(error)")
            }
        }
    }

    /// Stacks images' pixels into a [B, 3, S, S] tensor.
    static func stack(_ images: [PreparedImage], size: Int) -> Tensor {
        let per = 3 * size * size
        var values = [Float]()
        values.reserveCapacity(images.count * per)
        for image in images { values += image.pixels! }
        return Tensor(shape: [images.count, 3, size, size], values: values)
    }
}

/// Writes one line to standard output or standard error, unbuffered per line.
enum Output {
    static func line(_ s: String) { FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!) }
    static func error(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

    static func json(_ value: JSONValue) { line(value.lineText) }

    /// Encodable values as one JSON line with sorted keys (stable across runs).
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
