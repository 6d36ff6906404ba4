import Dispatch
import Foundation

extension BlipImageTransform {
    /// Decodes image files and applies this transform, on all cores: each file's model input
    /// ([3, S, S]) or why it could not be read, in the order of `paths`. One bad file fails alone.
    public func transformFiles(_ paths: [String]) -> [Result<[Float], ImageError>] {
        let results = LockedSlots<Result<[Float], ImageError>>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            results[i] = Result { () throws(ImageError) -> [Float] in self(try ImageDecoder.decode(contentsOf: paths[i])) }
        }
        return results.values
    }
}

/// One slot per concurrent task, each written once.
private final class LockedSlots<T>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(count: Int) { items = Array(repeating: nil, count: count) }
    subscript(i: Int) -> T? {
        get { lock.lock(); defer { lock.unlock() }; return items[i] }
        set { lock.lock(); items[i] = newValue; lock.unlock() }
    }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return items.map { $0! } }
}
