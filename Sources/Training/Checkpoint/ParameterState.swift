import Foundation
import MED
import Tensor

/// The training state of a model without momentum encoders or queues (the captioner): its
/// parameters, AdamW moments (`optimizer.m.*`, `optimizer.v.*`) and, in the metadata, the step
/// and the optimizer's step count. Same format as the pre-training state.
func saveParameterState(_ parameters: [Parameter], optimizer: AdamW, step: Int, to url: URL) throws {
    var tensors: [(name: String, shape: [Int], values: [Float])] = []
    func add(_ p: Parameter, prefix: String, _ t: Tensor) {
        let block = p.count / p.parts.count
        var shape = p.value.shape
        if p.parts.count > 1 { shape[0] /= p.parts.count }
        for (i, name) in p.parts.enumerated() {
            tensors.append((prefix + name, shape, Array(UnsafeBufferPointer(start: t.data + i * block, count: block))))
        }
    }
    for p in parameters { add(p, prefix: "", p.value) }
    for (i, p) in optimizer.parameters.enumerated() {
        add(p, prefix: "optimizer.m.", optimizer.firstMoments[i])
        add(p, prefix: "optimizer.v.", optimizer.secondMoments[i])
    }
    try SafeTensorsWriter.write(tensors, metadata: ["format": "capfilt-training-state-1", "step": String(step),
                                                    "optimizer_step": String(optimizer.step)], to: url)
}

/// Restores `saveParameterState`'s file; returns its step.
func loadParameterState(_ parameters: [Parameter], optimizer: AdamW, from url: URL) throws -> Int {
    let file = try SafeTensorsFile(url: url)
    try loadParameters(parameters, from: file)
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
