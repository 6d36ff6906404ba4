/// BLIP's pretraining list: `[{"image": "<path>", "caption": "<text>"}, ...]`, the form its
/// `pretrain_dataset` reads (and COCO/VG lists such as `vg_caption.json` use). One entry per
/// (image, caption) pair, or per image with a list of captions; the keys in BLIP's order.
public final class BLIPPretrainWriter {
    private let array: JSONArrayWriter

    public init(path: String, durable: Bool = true) throws {
        array = try JSONArrayWriter(path: path, durable: durable)
    }

    public var path: String { array.path }
    public var count: Int { array.count }

    public func append(image: String, caption: String) throws {
        try array.append(.orderedObject([("image", .string(image)), ("caption", .string(caption))]))
    }

    /// One entry for an image with several captions: `"caption"` is a list, from which BLIP's
    /// `pretrain_dataset` draws one at random each time it reads the entry. One caption is
    /// written as a plain string, as `append(image:caption:)` does.
    public func append(image: String, captions: [String]) throws {
        if captions.count == 1 { return try append(image: image, caption: captions[0]) }
        try array.append(.orderedObject([("image", .string(image)), ("caption", .array(captions.map { .string($0) }))]))
    }

    @discardableResult
    public func finish() throws -> Int { try array.finish() }

    public func discard() { array.discard() }
}

/// The form of BLIP's released CapFilt data (`ccs_filtered.json`, `laion_synthetic_filtered.json`):
/// `[{"url": "<url>", "caption": "<text>"}, ...]`.
public final class BLIPReleasedWriter {
    private let array: JSONArrayWriter

    public init(path: String, durable: Bool = true) throws {
        array = try JSONArrayWriter(path: path, durable: durable)
    }

    public var path: String { array.path }
    public var count: Int { array.count }

    public func append(url: String, caption: String) throws {
        try array.append(.orderedObject([("url", .string(url)), ("caption", .string(caption))]))
    }

    @discardableResult
    public func finish() throws -> Int { try array.finish() }

    public func discard() { array.discard() }
}
