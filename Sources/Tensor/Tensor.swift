internal import CKernels

/// Number formats for a model's weights at inference. Activations and sums stay float32.
public enum Precision: String, CaseIterable, Sendable {
    /// float32 weights (the checkpoint's values, as PyTorch runs them).
    case fp32
    /// bfloat16 weights (half the memory; products accumulate in float32).
    case bf16
}

/// A dense, row-major float32 tensor that owns its storage.
///
/// Storage is one 64-byte-aligned allocation so that SIMD loads and OpenBLAS see aligned rows.
/// Tensors are reference types: activations are allocated once per forward shape and reused,
/// which is what lets a training step add gradient buffers of the same layout later.
///
/// A weight may instead be stored as bfloat16 (`storeAsBFloat16`): `bf16` then holds the values
/// and `data` is released; `linear`, `embeddingForward`, `toArray` and the subscript read it.
public final class Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    /// Capacity in elements; `reshape` may shrink the logical count below it without reallocating.
    private(set) var capacity: Int
    package private(set) var data: UnsafeMutablePointer<Float>
    /// bfloat16 storage [count] of a weight converted by `storeAsBFloat16` (nil: float32 in `data`).
    package private(set) var bf16: UnsafeMutablePointer<UInt16>?

    public init(shape: [Int]) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.count = n
        self.capacity = max(n, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
        data = raw.bindMemory(to: Float.self, capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "value count \(values.count) does not match shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit {
        UnsafeMutableRawPointer(data).deallocate()
        bf16.map { UnsafeMutableRawPointer($0).deallocate() }
    }

    /// Whether the values are stored as bfloat16.
    public var isBFloat16: Bool { bf16 != nil }

    /// Rounds the values to bfloat16 (nearest even), keeps those and frees the float32 storage.
    /// For weights only: the engine's float32 kernels must not be handed this tensor's `data`.
    public func storeAsBFloat16() {
        guard bf16 == nil else { return }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 2, alignment: 64)
        let half = raw.bindMemory(to: UInt16.self, capacity: max(count, 1))
        Kernels.active.f32_to_bf16(data, half, count)
        bf16 = half
        UnsafeMutableRawPointer(data).deallocate()
        capacity = 1
        data = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 64).bindMemory(to: Float.self, capacity: 1)
        data.initialize(to: .nan)
    }

    /// Changes the logical shape, growing the allocation only if needed (contents are then zero).
    public func resize(_ newShape: [Int]) {
        precondition(bf16 == nil, "resize of a bfloat16 weight")
        let n = newShape.reduce(1, *)
        if n > capacity {
            UnsafeMutableRawPointer(data).deallocate()
            capacity = n
            let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
            data = raw.bindMemory(to: Float.self, capacity: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
        shape = newShape
        count = n
    }

    public var rank: Int { shape.count }
    public func dim(_ i: Int) -> Int { shape[i < 0 ? shape.count + i : i] }

    public subscript(flat i: Int) -> Float {
        get {
            precondition(i >= 0 && i < count)
            if let bf16 { return Float(bitPattern: UInt32(bf16[i]) << 16) }
            return data[i]
        }
        set { precondition(i >= 0 && i < count && bf16 == nil); data[i] = newValue }
    }

    public func toArray() -> [Float] {
        if let bf16 {
            var out = [Float](repeating: 0, count: count)
            Kernels.active.bf16_to_f32(bf16, &out, count)
            return out
        }
        return Array(UnsafeBufferPointer(start: data, count: count))
    }

    public func copy(from values: [Float]) {
        precondition(values.count == count && bf16 == nil)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    public func copy(from other: Tensor) {
        precondition(other.count == count && bf16 == nil && other.bf16 == nil)
        data.update(from: other.data, count: count)
    }

    public func fill(_ v: Float) {
        precondition(bf16 == nil)
        data.update(repeating: v, count: count)
    }
}
