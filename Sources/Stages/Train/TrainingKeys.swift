import Pipeline

/// The model and run settings every training stage (pretrain, pretrain_vision, finetune) takes,
/// each declared once.
enum TrainingKeys {
    static let visionWidth = StageParameter("vision_width", .int(8...4096), default: 64, help: "ViT hidden size")
    static let visionLayers = StageParameter("vision_layers", .int(1...48), default: 2, help: "ViT layers")
    static let textWidth = StageParameter("text_width", .int(8...4096), default: 64, help: "BERT hidden size")
    static let textLayers = StageParameter("text_layers", .int(1...48), default: 2, help: "BERT layers")
    static let heads = StageParameter("heads", .int(1...64), default: 4, help: "attention heads (ViT and BERT)")
    static let imageSize = StageParameter("image_size", .int(8...1024), default: 64, help: "input image side in pixels")
    static let patchSize = StageParameter("patch_size", .int(2...64), default: 8, help: "ViT patch side in pixels")
    static let embedDim = StageParameter("embed_dim", .int(8...4096), default: 64, help: "ITC projection size")
    static let initStd = StageParameter("init_std", .double(0.000_001...1), default: 0.02, help: "standard deviation of the random initialisation")
    static let steps = StageParameter("steps", .int(1...10_000_000), default: 1000, help: "optimiser steps")
    static let batchSize = StageParameter("batch_size", .int(1...4096), default: 32, help: "pairs per step")
    static let lr = StageParameter("lr", .double(0...1), default: 0.001, help: "peak learning rate (AdamW, cosine decay)")
    static let warmup = StageParameter("warmup", .int(0...10_000_000), default: 100, help: "steps of linear warm-up")
    static let weightDecay = StageParameter("weight_decay", .double(0...1), default: 0.05, help: "AdamW weight decay")
    static let alpha = StageParameter("alpha", .double(0...1), default: 0.4, help: "momentum distillation weight")
    static let queueSize = StageParameter("queue_size", .int(1...1_000_000), default: 1024, help: "a multiple of batch_size")
    static let momentum = StageParameter("momentum", .double(0...1), default: 0.995, help: "momentum encoders' EMA factor (BLIP: 0.995); 0 makes them copies of the online model")
    static let temperature = StageParameter("temperature", .double(0.001...0.5), default: 0.07, help: "ITC temperature at the start (BLIP: 0.07)")
    static let learnTemperature = StageParameter("learn_temperature", .bool, default: true, help: "BLIP learns it (clamped to 0.001...0.5); false keeps it fixed, see docs/demo-results.md")
    static let maxTokens = StageParameter("max_tokens", .int(4...512), default: 30, help: "tokens per text at most")
    static let padding = StageParameter("padding", .choice(["longest", "max_length"]), default: "longest", affectsResults: false, help: "longest pads each batch to its longest text; max_length pads every text to max_tokens, as BLIP does")
    static let seed = StageParameter("seed", .int(0...Int.max), default: 0, help: "seed of the initialisation, the data order and the augmentation")
    static let augment = StageParameter("augment", .choice(["none", "blip"]), default: "none", help: "blip: RandomResizedCrop, flips and RandAugment; none keeps positions and colours, which the demo's captions name")
    static let threads = StageParameter<Int?>.optional("threads", .int(1...1024), affectsResults: false, help: "compute threads (default: the pipeline's)")

    static let sizeParameters: [ParameterSpec] = [
        visionWidth.spec,
        visionLayers.spec,
        textWidth.spec,
        textLayers.spec,
        heads.spec,
        imageSize.spec,
        patchSize.spec,
        embedDim.spec,
        initStd.spec,
    ]

    /// What every training stage takes besides the model.
    static let runParameters: [ParameterSpec] = [
        steps.spec,
        batchSize.spec,
        lr.spec,
        warmup.spec,
        weightDecay.spec,
        alpha.spec,
        queueSize.spec,
        momentum.spec,
        temperature.spec,
        learnTemperature.spec,
        maxTokens.spec,
        // Padding tokens are masked out of attention and carry no loss, so both give the same
        // losses up to float rounding (like `threads`); longest skips work on padding rows.
        padding.spec,
        seed.spec,
        augment.spec,
        threads.spec,
    ]
}
