import Basics
import Dispatch

extension BlipImageTransform {
    /// Decodes image files and applies this transform, on all cores: each file's model input
    /// ([3, S, S]) or why it could not be read, in the order of `paths`. One bad file fails alone.
    public func transformFiles(_ paths: [String]) -> [Result<[Float], ImageError>] {
        let results = Locked([Result<[Float], ImageError>?](repeating: nil, count: paths.count))
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            let result = Result { () throws(ImageError) -> [Float] in self(try ImageDecoder.decode(contentsOf: paths[i])) }
            results.withLock { $0[i] = result }
        }
        return results.current.map { $0! }
    }
}
