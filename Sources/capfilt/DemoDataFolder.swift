import DemoData
import Foundation

/// Writes the demo's data once: a marker with the options says the folder is complete and
/// made with the same sizes by the same generator, so a rerun (a resume) does not rewrite 5,000 images.
enum DemoDataFolder {
    static func prepare(options: DemoDataOptions, root: String) throws {
        let marker = root + "/.generated"
        let signature = "\(options) \(DemoDataWriter.generator)"
        if let existing = try? String(contentsOfFile: marker, encoding: .utf8), existing == signature { return }
        FileHandle.standardError.write(Data("generating the demo data in \(root)\n".utf8))
        try? FileManager.default.removeItem(atPath: marker)
        _ = try DemoDataWriter.write(DemoDataset(options: options), to: root)
        try signature.write(toFile: marker, atomically: true, encoding: .utf8)
    }
}
