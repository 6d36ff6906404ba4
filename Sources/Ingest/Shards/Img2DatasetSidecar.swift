/// The rows of an img2dataset shard's Parquet sidecar (`00000.parquet` beside `00000.tar`) whose
/// download failed. img2dataset writes one sidecar row per input sample, `status` `success` or a
/// failure (`failed_to_download`, `failed_to_resize`) with `error_message`; only successes have
/// members in the tar. The failed rows are read here, and the successes whose members the tar
/// no longer holds (a shard cut short), so that no input sample is lost.
struct Img2DatasetSidecar {
    let path: String
    private var rows: ParquetRowReader
    private let urlIndex: Int?, captionIndex: Int?, keyIndex: Int?, statusIndex: Int, errorIndex: Int?
    /// Every column, lower-cased, in the order they are read (for metadata).
    private let names: [String]

    /// The failed row read last, with its 0-based row index.
    struct FailedRow {
        var row: Int
        var key: String?
        var url: String?
        var caption: String?
        /// `status: error_message`, as img2dataset wrote them.
        var failure: String
        var metadata: [String: String]
    }

    /// nil when the file has no `status` column (then it is not an img2dataset sidecar).
    init?(path: String) throws {
        let file = try ParquetFile(path: path)
        let columns = file.columns.map(\.name)
        guard let status = findColumn("status", in: columns) else { return nil }
        self.path = path
        names = columns.map { $0.lowercased() }
        urlIndex = findColumn("url", in: columns)
        captionIndex = findColumn("caption", in: columns) ?? findColumn("text", in: columns)
        keyIndex = findColumn("key", in: columns)
        statusIndex = status
        errorIndex = findColumn("error_message", in: columns)
        rows = file.rows(columns: Array(columns.indices))
    }

    /// Index of the next row to read.
    var nextRow: Int { rows.row + 1 }

    /// Skips rows until `row` is the next one (resuming).
    mutating func skip(to row: Int) throws {
        while nextRow < row, try rows.next() != nil {}
    }

    /// The next failed row, skipping successful ones whose key `inTar` holds; a successful row
    /// whose members are not in the tar comes back failed as `missing_from_shard: downloaded,
    /// but not in the tar`. Nil after the last row.
    mutating func nextFailed(inTar: (String) -> Bool) throws -> FailedRow? {
        while let values = try rows.next() {
            var status = values[statusIndex].text ?? ""
            if status == "success" {
                guard let key = keyIndex.flatMap({ values[$0].text }), !inTar(key) else { continue }
                status = "missing_from_shard"
            }
            var metadata: [String: String] = [:]
            for (i, value) in values.enumerated() where i != urlIndex && i != captionIndex {
                if let text = value.text { metadata[names[i]] = text }
            }
            let error = status == "missing_from_shard" ? "downloaded, but not in the tar" : errorIndex.flatMap { values[$0].text } ?? ""
            let word = status.isEmpty ? "failed" : status
            return FailedRow(row: rows.row, key: keyIndex.flatMap { values[$0].text },
                             url: urlIndex.flatMap { values[$0].text }, caption: captionIndex.flatMap { values[$0].text },
                             failure: error.isEmpty ? word : word + ": " + error, metadata: metadata)
        }
        return nil
    }
}
