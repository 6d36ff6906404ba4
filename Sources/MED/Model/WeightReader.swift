import Foundation
import Tensor

/// Reads named tensors from a safetensors checkpoint into model parameters, remembering which
/// names were used so that missing, unexpected and wrongly shaped tensors are all reported by name.
final class WeightReader {
    let file: SafeTensorsFile
    private(set) var used = Set<String>()
    private(set) var problems: [String] = []
    private var fileName: String { file.url.lastPathComponent }

    /// Linear weights are converted to this format as they are read (biases, norms and
    /// embeddings stay float32), so a bf16 model never holds all of its float32 weights at once.
    let precision: Precision

    /// Checks names and shapes against the header only: no tensor is read or allocated (every
    /// tensor handed out is an empty placeholder), so a model can be checked before it is needed.
    let checkOnly: Bool

    init(file: SafeTensorsFile, precision: Precision = .fp32, checkOnly: Bool = false) {
        self.file = file; self.precision = precision; self.checkOnly = checkOnly
    }

    func has(_ name: String) -> Bool { file.shape(of: name) != nil }

    /// The tensor `name`, which must have `shape` (a shape of [1, 1, D] is accepted for [D] etc.
    /// only where the caller says so through `acceptingShapes`).
    func tensor(_ name: String, shape: [Int], acceptingShapes: [[Int]] = []) -> Tensor {
        let t = Tensor(shape: checkOnly ? [0] : shape)
        guard let found = file.shape(of: name) else {
            problems.append("\(fileName): missing tensor '\(name)' (expected shape \(shape))")
            return t
        }
        used.insert(name)
        guard found == shape || acceptingShapes.contains(found) else {
            problems.append("\(fileName): tensor '\(name)' has shape \(found), expected \(shape)")
            return t
        }
        if checkOnly { return t }
        do {
            try t.data.withMemoryRebound(to: Float.self, capacity: t.count) { p in
                try file.read(name, into: UnsafeMutableBufferPointer(start: p, count: t.count))
            }
        } catch {
            problems.append("\(error)")
        }
        return t
    }

    func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool = true) -> LinearWeights {
        let weight = tensor(prefix + ".weight", shape: [out, inFeatures])
        if precision == .bf16 && !checkOnly { weight.storeAsBFloat16() }
        return LinearWeights(weight: weight, bias: bias ? tensor(prefix + ".bias", shape: [out]) : nil)
    }

    func layerNorm(_ prefix: String, width: Int, eps: Float) -> LayerNormWeights {
        LayerNormWeights(weight: tensor(prefix + ".weight", shape: [width]),
                         bias: tensor(prefix + ".bias", shape: [width]), eps: eps)
    }

    /// Three separate projections stacked into one [3·O, I] weight so that one product computes q, k and v.
    func fusedLinear(_ prefixes: [String], out: Int, in inFeatures: Int) -> LinearWeights {
        if checkOnly {
            for p in prefixes { _ = tensor(p + ".weight", shape: [out, inFeatures]); _ = tensor(p + ".bias", shape: [out]) }
            return LinearWeights(weight: Tensor(shape: [0]), bias: Tensor(shape: [0]))
        }
        let w = Tensor(shape: [prefixes.count * out, inFeatures])
        let b = Tensor(shape: [prefixes.count * out])
        for (i, p) in prefixes.enumerated() {
            let part = tensor(p + ".weight", shape: [out, inFeatures]), bias = tensor(p + ".bias", shape: [out])
            (w.data + i * out * inFeatures).update(from: part.data, count: out * inFeatures)
            (b.data + i * out).update(from: bias.data, count: out)
        }
        if precision == .bf16 { w.storeAsBFloat16() }
        return LinearWeights(weight: w, bias: b)
    }

    /// Fails with every problem found, one per line, plus the tensors the model does not use
    /// (names matching `ignoring` are known extras such as position-id buffers).
    func finish(ignoring: (String) -> Bool = { _ in false }) throws {
        let all = allProblems(ignoring: ignoring)
        if !all.isEmpty { throw CheckpointError(all.joined(separator: "\n")) }
    }

    /// Every problem found so far, then the tensors the model does not use, one line each.
    func allProblems(ignoring: (String) -> Bool = { _ in false }) -> [String] {
        let unexpected = file.names.filter { !used.contains($0) && !ignoring($0) }
        return problems + unexpected.map { "\(fileName): unexpected tensor '\($0)' (not used by this model)" }
    }
}
