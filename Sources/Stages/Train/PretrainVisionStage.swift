import Foundation
import MED
import Pipeline
import Tensor
import Training

/// Pre-trains the image encoder alone as a classifier on labelled images: BLIP starts its ViT from
/// one trained on ImageNet, and a pipeline that trains from scratch can do the same with
/// `init_vision_from: <this stage>` in its pretrain stages. Reads a json list of
/// `{"image", "label"}`; writes `<workdir>/models/<stage>/` with `model.safetensors`
/// (`vision_model.*` under Hugging Face's names, `classifier.*`), `config.json` (a BLIP config
/// whose vision_config is the classifier's), `classes.json` and `losses.jsonl`.
final class PretrainVisionStage: DatasetStage {
    /// The stage's parameters, each declared once.
    enum Keys {
        static let labels = StageParameter<String>.required("labels", .path(mustExist: true), help: "a json list of {\"image\", \"label\"}")
        static let imageRoot = StageParameter<String?>.optional("image_root", .path(mustExist: true), help: "folder the relative image paths are resolved against (default: the file's folder)")

        static let all = [labels.spec, imageRoot.spec]
    }

    static let type = StageType(
        name: "pretrain_vision", kind: .wholeDataset,
        summary: "Pre-train the ViT as an image classifier on labelled images (BLIP's ImageNet start).",
        parameters: Keys.all + visionSettings + runSettings,
        fingerprintInputs: { p in ["labels=" + (try FileDigest.sha256(path: p[Keys.labels]))] },
        make: { _ in PretrainVisionStage() })

    /// The pretrain stage's settings that apply to the ViT alone (same names, defaults and checks).
    static let visionSettings = [TrainingKeys.visionWidth.spec, TrainingKeys.visionLayers.spec, TrainingKeys.heads.spec,
                                 TrainingKeys.imageSize.spec, TrainingKeys.patchSize.spec, TrainingKeys.initStd.spec]
    static let runSettings = [TrainingKeys.steps.spec, TrainingKeys.batchSize.spec, TrainingKeys.lr.spec, TrainingKeys.warmup.spec,
                              TrainingKeys.weightDecay.spec, TrainingKeys.seed.spec, TrainingKeys.augment.spec, TrainingKeys.threads.spec]

    /// The labelled images of a json list, with class indices in the sorted order of the labels.
    static func examples(path: String, imageRoot: String?) throws -> (pairs: [TrainingPair], classes: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw StageFailure(.io, "cannot read \(path)") }
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw StageFailure(.config, "\(path): expected a json list of {\"image\", \"label\"}")
        }
        let root = imageRoot ?? (path as NSString).deletingLastPathComponent
        var rows: [(image: String, label: String)] = []
        for (i, entry) in list.enumerated() {
            guard let image = entry["image"] as? String, let label = entry["label"].map({ "\($0)" }) else {
                throw StageFailure(.config, "\(path): entry \(i): expected a string \"image\" and a \"label\"")
            }
            rows.append((resolvedImagePath(image, root: root), label))
        }
        let classes = Set(rows.map(\.label)).sorted()
        guard classes.count >= 2 else { throw StageFailure(.config, "\(path): needs at least two distinct labels") }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        // The class index rides in the pair's image id, which the data loader hands back per batch.
        return (rows.map { TrainingPair(imagePath: $0.image, caption: $0.label, imageID: index[$0.label]!) }, classes)
    }

    func run(_ context: DatasetContext) throws -> String {
        let p = context.parameters
        setEngineThreads(p[TrainingKeys.threads] ?? context.threads)
        let (pairs, classes) = try Self.examples(path: p[Keys.labels], imageRoot: p[Keys.imageRoot])
        let batch = p[TrainingKeys.batchSize]
        guard pairs.count >= batch else {
            throw StageFailure(.config, "\(context.name): \(pairs.count) labelled images, fewer than batch_size \(batch)")
        }
        // The same vision settings (and names) as the pretrain stage's; config.json is a BLIP config.
        var config = PretrainStage.config(p)
        config.architectures = ["BlipVisionModel"]
        let size = config.vision.imageSize
        let model = VisionClassifierTrainingModel(config: config.vision, classes: classes)
        let seed = UInt64(p[TrainingKeys.seed])
        model.initializeRandomly(seed: seed, std: Float(p[TrainingKeys.initStd]))
        var options = DataLoaderOptions(batchSize: batch, imageSize: size, pretraining: true, seed: seed)
        options.transform = PretrainStage.transform(p, size: size, pretraining: true)
        let loader = TrainingDataLoader(pairs: pairs, tokenizer: try BertTokenizer.bundled(), options: options)
        context.logger.info("\(context.name): \(pairs.count) images, \(classes.count) classes, \(loader.batchesPerEpoch) steps per epoch")
        let output = StageModelReference.folder(workdir: context.pipeline.workdir, stage: context.name)
        let loop = PretrainStage.loop(p)
        var final: [Double] = []
        try StageModelReference.replace(output) { folder in
            final = try loop.run(VisionClassifierObjective(model: model), loader: loader, context: context,
                                 log: folder.appendingPathComponent("losses.jsonl"))
            try SafeTensorsWriter.write(model.tensors(), to: folder.appendingPathComponent("model.safetensors"))
            try config.jsonData().write(to: folder.appendingPathComponent("config.json"), options: .atomic)
            try JSONSerialization.data(withJSONObject: classes).write(to: folder.appendingPathComponent("classes.json"), options: .atomic)
        }
        return String(format: "{\"images\":%d,\"classes\":%d,\"loss\":%.4f,\"accuracy\":%.4f}", pairs.count, classes.count, final[0], final[1])
    }
}
