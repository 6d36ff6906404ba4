/// A dense, row-major float32 tensor that owns its storage.
///
/// Storage is one 64-byte-aligned allocation so that SIMD loads and OpenBLAS see aligned rows.
/// Tensors are reference types: activations are allocated once per forward shape and reused,
/// which is what lets a training step add gradient buffers of the same layout later.
public final class Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    /// Capacity in elements; `reshape` may shrink the logical count below it without reallocating.
    private(set) var capacity: Int
    package private(set) var data: UnsafeMutablePointer<Float>

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

    deinit { UnsafeMutableRawPointer(data).deallocate() }

    /// Changes the logical shape, growing the allocation only if needed (contents are then zero).
    public func resize(_ newShape: [Int]) {
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
        get { precondition(i >= 0 && i < count); return data[i] }
        set { precondition(i >= 0 && i < count); data[i] = newValue }
    }

    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public func copy(from values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    public func copy(from other: Tensor) {
        precondition(other.count == count)
        data.update(from: other.data, count: count)
    }

    public func fill(_ v: Float) { data.update(repeating: v, count: count) }
}
