import Tensor

/// One trainable tensor and its gradient buffer, laid out alike (llm.c's params / grads pair).
///
/// `parts` names the Hugging Face tensors it is stored under: one name for most parameters, or
/// several row blocks for fused weights (BERT's query, key, value become one [3D, D] weight, as
/// the inference engine fuses them), so loading and saving split the rows again.
public final class Parameter: @unchecked Sendable {
    public let parts: [String]
    public let value: Tensor
    /// Empty for parameters that are never differentiated (the momentum encoders).
    public private(set) var grad: Tensor
    /// AdamW applies weight decay only to these (not to biases, LayerNorm, embeddings' norms, temperature).
    public let decays: Bool

    public init(_ parts: [String], shape: [Int], decays: Bool) {
        self.parts = parts
        self.value = Tensor(shape: shape)
        self.grad = Tensor(shape: shape)
        self.decays = decays
    }

    /// Wraps an existing tensor (no gradient is used).
    init(_ parts: [String], value: Tensor) {
        self.parts = parts
        self.value = value
        self.grad = Tensor(shape: [0])
        self.decays = false
    }

    public convenience init(_ name: String, shape: [Int], decays: Bool) {
        self.init([name], shape: shape, decays: decays)
    }

    public var name: String { parts.count == 1 ? parts[0] : parts.joined(separator: "+") }
    public var count: Int { value.count }

    public func zeroGrad() { grad.fill(0) }

    /// Frees the gradient buffer of a parameter that is never differentiated.
    func dropGradient() { grad = Tensor(shape: [0]) }
}

/// nn.Linear: weight [O, I], bias [O].
public struct LinearParameter: Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public var outFeatures: Int { weight.value.dim(0) }
    public var inFeatures: Int { weight.value.dim(1) }

    /// `names` are the Hugging Face module prefixes stacked in the rows (one for a plain Linear).
    public init(_ names: [String], out: Int, in inFeatures: Int, bias: Bool = true) {
        weight = Parameter(names.map { $0 + ".weight" }, shape: [names.count * out, inFeatures], decays: true)
        self.bias = bias ? Parameter(names.map { $0 + ".bias" }, shape: [names.count * out], decays: false) : nil
    }

    public init(_ name: String, out: Int, in inFeatures: Int, bias: Bool = true) {
        self.init([name], out: out, in: inFeatures, bias: bias)
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
}

/// nn.LayerNorm: weight [C], bias [C], epsilon.
public struct LayerNormParameter: Sendable {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ name: String, width: Int, eps: Float) {
        weight = Parameter(name + ".weight", shape: [width], decays: false)
        bias = Parameter(name + ".bias", shape: [width], decays: false)
        self.eps = eps
        weight.value.fill(1)
    }

    public var parameters: [Parameter] { [weight, bias] }
}
