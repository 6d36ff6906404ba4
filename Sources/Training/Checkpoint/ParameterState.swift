import Foundation
import MED
import Tensor

/// The training state of a model without momentum encoders or queues (the captioner): its
/// parameters, AdamW moments (`optimizer.m.*`, `optimizer.v.*`) and, in the metadata, the step
/// and the optimizer's step count. Same format as the pre-training state.
func saveParameterState(_ parameters: [Parameter], optimizer: AdamW, step: Int, to url: URL) throws {
    let tensors = parameters.flatMap { stateTensors($0, prefix: "", $0.value) } + optimizerStateTensors(optimizer)
    try SafeTensorsWriter.write(tensors, metadata: ["format": "capfilt-training-state-1", "step": String(step),
                                                    "optimizer_step": String(optimizer.step)], to: url)
}

/// One named tensor per Hugging Face name of `p` (a fused parameter splits along its first axis),
/// with values taken from `t` (the parameter itself or one of its optimizer moments).
func stateTensors(_ p: Parameter, prefix: String, _ t: Tensor) -> [(name: String, shape: [Int], values: [Float])] {
    let block = p.count / p.parts.count
    var shape = p.value.shape
    if p.parts.count > 1 { shape[0] /= p.parts.count }
    return p.parts.enumerated().map { (i, name) in
        (prefix + name, shape, Array(UnsafeBufferPointer(start: t.data + i * block, count: block)))
    }
}

/// AdamW's moments as `optimizer.m.*` and `optimizer.v.*` tensors.
func optimizerStateTensors(_ optimizer: AdamW) -> [(name: String, shape: [Int], values: [Float])] {
    optimizer.parameters.enumerated().flatMap { (i, p) in
        stateTensors(p, prefix: "optimizer.m.", optimizer.firstMoments[i]) + stateTensors(p, prefix: "optimizer.v.", optimizer.secondMoments[i])
    }
}

/// Restores AdamW's moments and step count from a state file written with `optimizerStateTensors`.
func loadOptimizerState(_ optimizer: AdamW, from file: SafeTensorsFile, url: URL) throws {
    guard let count = file.metadata["optimizer_step"].flatMap(Int.init) else {
        throw CheckpointError("\(url.lastPathComponent): no optimizer state (metadata 'optimizer_step')")
    }
    let moments = optimizer.parameters.indices.flatMap { i -> [Parameter] in
        let p = optimizer.parameters[i]
        return [Parameter(p.parts.map { "optimizer.m." + $0 }, viewing: optimizer.firstMoments[i]),
                Parameter(p.parts.map { "optimizer.v." + $0 }, viewing: optimizer.secondMoments[i])]
    }
    try loadParameters(moments, from: file)
    optimizer.restore(step: count)
}

/// Restores `saveParameterState`'s file; returns its step.
func loadParameterState(_ parameters: [Parameter], optimizer: AdamW, from url: URL) throws -> Int {
    let file = try SafeTensorsFile(url: url)
    try loadParameters(parameters, from: file)
    try loadOptimizerState(optimizer, from: file, url: url)
    return Int(file.metadata["step"] ?? "0") ?? 0
}

extension BlipCaptionerTrainingModel {
    /// Writes a BlipForConditionalGeneration folder (config.json + model.safetensors).
    public func save(folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var c = config
        c.architectures = ["BlipForConditionalGeneration"]
        try c.jsonData().write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        try SafeTensorsWriter.write(huggingFaceTensors(parameters, vision: vision),
                                    to: folder.appendingPathComponent("model.safetensors"))
    }

    public func saveTrainingState(to url: URL, step: Int, optimizer: AdamW) throws {
        try saveParameterState(parameters, optimizer: optimizer, step: step, to: url)
    }

    @discardableResult
    public func loadTrainingState(from url: URL, optimizer: AdamW) throws -> Int {
        try loadParameterState(parameters, optimizer: optimizer, from: url)
    }
}
