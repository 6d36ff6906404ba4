import Tensor

/// nn.Linear parameters: weight [out, in], bias [out].
public struct LinearWeights: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public var outFeatures: Int { weight.dim(0) }
    public var inFeatures: Int { weight.dim(1) }

    public init(weight: Tensor, bias: Tensor?) { self.weight = weight; self.bias = bias }

    /// out[N, O] = x[N, I] · Wᵀ + b
    public func callAsFunction(_ x: Tensor, into out: Tensor) {
        linear(x, weight: weight, bias: bias, out: out)
    }
}

/// nn.LayerNorm parameters: weight [C], bias [C], and its epsilon.
public struct LayerNormWeights: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(weight: Tensor, bias: Tensor, eps: Float) { self.weight = weight; self.bias = bias; self.eps = eps }

    /// out[N, C] = LayerNorm(x[N, C]); x and out may be the same tensor.
    public func callAsFunction(_ x: Tensor, into out: Tensor) {
        layerNormForward(x, weight: weight, bias: bias, eps: eps, out: out)
    }
}
