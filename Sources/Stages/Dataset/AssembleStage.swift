import Catalog
import Foundation
import Imaging
import MED
import Pipeline

/// The bootstrapped set: per image, the human texts plus the web and synthetic texts the filter
/// kept, without duplicate images, repeated texts, captions a gate dropped or images a
/// decontaminate stage found in an evaluation set.
final class AssembleStage: DatasetStage {
    static let type = StageType(
        name: "assemble", kind: .wholeDataset, summary: "Build the bootstrapped set of image-text pairs.",
        parameters: [], requires: ["filter"],
        make: { _ in AssembleStage() })

    func run(_ context: DatasetContext) throws -> String {
        guard let filter = context.upstream(type: "filter") else { return "{}" }
        let synthetic = context.upstream(type: "caption")?.fingerprint
        // Captions a gate dropped stay out, human ones included (a gate judges them only when told to).
        let gates = context.allUpstream.filter { $0.type == "gate" }.map(\.requirement)
        // A contaminated sample is out whether the decontaminate stage sits before the filter (which
        // then never sees it, as with a gate's drops) or after it (cosine on the filter's embeddings).
        let decontaminated = context.allUpstream.filter { $0.type == "decontaminate" }.map(\.requirement)
        var pairs = 0
        var images = 0
        var byCount = [0, 0, 0]
        for catalog in context.catalogs {
            let counts = try catalog.write { session -> [Int] in
                try session.assemble(filter: filter.requirement, syntheticFingerprint: synthetic, decisionFingerprint: filter.fingerprint,
                                     gates: gates, alsoPassing: decontaminated)
                return try session.assembledTextCounts(filter: filter.requirement, alsoPassing: decontaminated)
            }
            for n in counts {
                byCount[min(n, 2)] += 1
                pairs += n
                if n > 0 { images += 1 }
            }
        }
        context.progress.addDone(pairs)
        return "{\"pairs\":\(pairs),\"images\":\(images),\"images_without_text\":\(byCount[0]),"
            + "\"images_with_1_text\":\(byCount[1]),\"images_with_2_or_more\":\(byCount[2])}"
    }
}
