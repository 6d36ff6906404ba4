import MED
import Tensor

/// Loads parameters from a Hugging Face safetensors file by their names. A fused parameter reads
/// each of its parts into consecutive row blocks; a tensor may be stored in any shape with the
/// same element count (the patch kernel [D, 3, P, P] is [D, 3·P·P] here). Every missing or
/// wrongly sized tensor is reported, by name, in one error.
///   rename: our name -> the name in the file (e.g. text_encoder.* -> text_decoder.bert.*)
public func loadParameters(_ parameters: [Parameter], from file: SafeTensorsFile,
                           rename: (String) -> String = { $0 }) throws {
    var problems: [String] = []
    let fileName = file.url.lastPathComponent
    for p in parameters {
        let block = p.count / p.parts.count
        for (i, part) in p.parts.enumerated() {
            let name = rename(part)
            guard let count = file.elementCount(of: name) else {
                problems.append("\(fileName): missing tensor '\(name)'"); continue
            }
            guard count == block else {
                problems.append("\(fileName): tensor '\(name)' has \(count) elements, expected \(block)"); continue
            }
            let values = try file.floats(name)
            values.withUnsafeBufferPointer { (p.value.data + i * block).update(from: $0.baseAddress!, count: block) }
        }
    }
    if !problems.isEmpty { throw CheckpointError(problems.joined(separator: "\n")) }
}

/// The values of a parameter split into its Hugging Face tensors: (name, values) per part.
public func namedValues(_ p: Parameter, gradient: Bool = false) -> [(name: String, values: [Float])] {
    let t = gradient ? p.grad : p.value, block = p.count / p.parts.count
    return p.parts.enumerated().map { i, name in
        (name, Array(UnsafeBufferPointer(start: t.data + i * block, count: block)))
    }
}
