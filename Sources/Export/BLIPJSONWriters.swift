/// BLIP's pretraining list: `[{"image": "<path>", "caption": "<text>"}, ...]`, the form its
/// `pretrain_dataset` reads (and COCO/VG lists such as `vg_caption.json` use). One entry per
/// (image, caption) pair; the keys in BLIP's order.
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
