/// The ViT as an image classifier: cross-entropy of each image's class (carried in the pair's
/// image id), with the batch's accuracy logged after it.
public final class VisionClassifierObjective: TrainingObjective {
    public let model: VisionClassifierTrainingModel

    public init(model: VisionClassifierTrainingModel) { self.model = model }

    public var termNames: [String] { ["ce"] }
    public var statNames: [String] { ["accuracy"] }
    public var parameters: [Parameter] { model.parameters }

    public func forwardBackward(_ batch: LoadedBatch, step: Int, stepsPerEpoch: Int) -> [Double] {
        let labels = batch.imageIDs ?? []
        let (loss, correct) = model.forwardBackward(pixels: batch.batch.pixels, labels: labels)
        return [loss, Double(correct) / Double(max(1, labels.count))]
    }
}
