import Basics
import Compression
import Foundation

/// An export in the layout Hugging Face `datasets` loads as an image dataset:
/// `NNNNN.parquet` files whose `image` column is the `Image` feature's struct (`bytes`, the
/// encoded file; `path`, its name), followed by the text and metadata columns of a CapFilt
/// sample (`key`, then `ShardSample.capfiltSidecarSchema`), with the features recorded in the
/// footer's "huggingface" metadata so `load_dataset("parquet", ...)` decodes the images.
/// Row groups of 100 rows, as `datasets` writes image data, so a streaming reader holds about
/// 100 images at a time. Files are written by temporary name and rename; `finish()` removes
/// files of this naming that this export did not write.
public final class DatasetsParquetWriter {
    public let directory: String
    public let rowsPerFile: Int
    private let naming = ShardNaming()
    private let durable: Bool
    private let fileOptions: ParquetWriterOptions
    private var current: ParquetWriter?
    private var rowsInFile = 0
    private var written: [String] = []

    public static let schema: [ParquetField] = [
        .group("image", [.column("bytes", .binary, nullable: true), .column("path", .string, nullable: true)], nullable: true),
        .column("key", .string, nullable: false),
    ] + ShardSample.capfiltSidecarSchema

    /// `datasets`' feature types for `schema`.
    static var features: JSONValue {
        var features: [String: JSONValue] = ["image": .object(["_type": "Image"])]
        for field in schema {
            guard case .column(let name, let kind, _) = field else { continue }
            let dtype: String
            switch kind {
            case .int64: dtype = "int64"
            case .double: dtype = "float64"
            case .boolean: dtype = "bool"
            case .string: dtype = "string"
            case .binary: dtype = "binary"
            }
            features[name] = .object(["dtype": .string(dtype), "_type": "Value"])
        }
        return .object(["info": .object(["features": .object(features)])])
    }

    public init(directory: String, rowsPerFile: Int = 10_000, codec: BlockCodec = .snappy, durable: Bool = true) throws {
        guard rowsPerFile >= 1 else { throw ExportError.invalidOption("rowsPerFile \(rowsPerFile)") }
        self.directory = directory
        self.rowsPerFile = rowsPerFile
        self.durable = durable
        fileOptions = ParquetWriterOptions(codec: codec, rowGroupRows: 100,
                                     metadata: [("huggingface", DeterministicJSON().encode(Self.features))], durable: durable)
        try makeDirectory(directory)
    }

    /// Adds a CapFilt sample: its first member is the image, its sidecar row the other columns.
    public func add(_ sample: ShardSample) throws {
        guard let image = sample.members.first, sample.sidecarRow.count == ShardSample.capfiltSidecarSchema.count else {
            throw ExportError.invalidOption("sample \(sample.key) is not a CapFilt sample")
        }
        let bytes: [UInt8]
        switch image.content {
        case .bytes(let b): bytes = b
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw ExportError.io("read \(path)", errno) }
            bytes = [UInt8](data)
        }
        if current == nil {
            let name = naming.sidecarName(written.count)
            current = try ParquetWriter(path: directory + "/" + name, schema: Self.schema, options: fileOptions)
            written.append(name)
        }
        let path = SampleKey.escape(sample.key) + "." + image.name
        try current!.append([.group([.bytes(bytes), .string(path)]), .string(sample.key)] + sample.sidecarRow)
        rowsInFile += 1
        if rowsInFile == rowsPerFile { try closeFile() }
    }

    /// Closes the last file and removes files of an earlier, larger export. Returns the names.
    @discardableResult
    public func finish() throws -> [String] {
        try closeFile()
        let keep = Set(written)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where naming.index(ofFileNamed: name) != nil && name.hasSuffix(".parquet") && !keep.contains(name) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        return written
    }

    public func discard() {
        current?.discard()
        current = nil
    }

    private func closeFile() throws {
        guard let file = current else { return }
        current = nil
        rowsInFile = 0
        try file.finish()
    }
}
