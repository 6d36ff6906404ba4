import Ingest
import XCTest
@testable import DemoData

/// The generated manifests read with capfilt's own readers: detected formats, no malformed row,
/// every sample where the splits put it.
final class IngestReadsManifestsTests: XCTestCase {
    func testEveryManifestReadsCleanlyWithTheIngestReaders() throws {
        try withWrittenDataset("ingest-reads") { dataset, layout in
            let cases: [(String, String?, ManifestFormat, Int)] = [
                (layout.humanManifest, layout.humanImageRoot, .coco, dataset.human.count),
                (layout.validationManifest, layout.validationImageRoot, .coco, dataset.validation.count),
                (layout.webManifest, nil, .cc3m, dataset.web.count),
                (layout.testManifest, layout.testImageRoot, .karpathy, dataset.test.count),
            ]
            for (path, root, format, count) in cases {
                XCTAssertEqual(try ManifestFormat.detect(path: path), format, path)
                var reader = try openManifest(path: path, options: ManifestOptions(imageRoot: root))
                let (samples, problems) = try reader.readAll()
                XCTAssertEqual(problems, [], path)
                XCTAssertEqual(samples.count, count, path)
                for s in samples {
                    XCTAssertFalse(s.captions.isEmpty)
                    if let local = s.localPath { XCTAssertTrue(FileManager.default.fileExists(atPath: local), local) }
                }
            }
        }
    }
}
