internal import CCompression

/// Streaming gzip (and zlib) decoding. Concatenated members, as `cat a.gz b.gz` or pigz write
/// them, are decoded one after the other: `step` reports the end of each.
public final class GzipStream {
    private let state: OpaquePointer
    private var memberEnded = false

    public init?() {
        guard let s = ccomp_inflater_new() else { return nil }
        state = s
    }

    deinit { ccomp_inflater_free(state) }

    /// True between members: the input may end here without being truncated.
    public var atMemberBoundary: Bool { memberEnded }

    /// Decodes from `input` into `output`; returns the bytes consumed and produced. Throws the
    /// decoder's message on corrupt input.
    public func step(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) throws
        -> (consumed: Int, produced: Int)
    {
        if memberEnded {
            // Another member follows the one that ended.
            guard Int(ccomp_inflater_reset(state)) == CCOMP_OK else { throw GzipStreamError("cannot start the next member") }
            memberEnded = false
        }
        var consumed = 0, produced = 0
        let rc = ccomp_inflater_step(state, input.baseAddress, input.count, &consumed, output.baseAddress, output.count, &produced)
        switch Int(rc) {
        case CCOMP_OK: break
        case CCOMP_STREAM_END: memberEnded = true
        default: throw GzipStreamError(String(cString: ccomp_inflater_message(state)))
        }
        return (consumed, produced)
    }
}

public struct GzipStreamError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
