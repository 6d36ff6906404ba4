/// Shard file names: `PREFIX` + the shard number zero-padded to `digits` + `.tar`, and
/// `PREFIX` + number + `_stats.json` beside it (img2dataset's convention). Fixed-width numbers
/// sort by name and expand from one brace pattern (`PREFIX{00000..00041}.tar`), which is how
/// WebDataset loaders are usually given a list of shards.
public struct ShardNaming: Sendable, Equatable {
    /// Put before the number, e.g. "coco-"; must not contain '/', braces or NUL.
    public var prefix: String
    /// Width of the zero-padded shard number, 1 to 12.
    public var digits: Int

    public init(prefix: String = "", digits: Int = 5) {
        self.prefix = prefix
        self.digits = digits
    }

    public func tarName(_ index: Int) -> String { prefix + number(index) + ".tar" }

    public func statsName(_ index: Int) -> String { prefix + number(index) + "_stats.json" }

    /// The shard's sample list (`NNNNN_samples.tsv`: escaped key, tab, content digest, per line),
    /// which an incremental export compares the catalog against.
    public func samplesName(_ index: Int) -> String { prefix + number(index) + "_samples.tsv" }

    /// The brace pattern naming shards `first...last`: "{00000..00003}.tar".
    public func bracePattern(first: Int, last: Int) -> String {
        first == last ? tarName(first) : prefix + "{" + number(first) + ".." + number(last) + "}.tar"
    }

    /// One past the largest shard number that fits the width.
    public var limit: Int {
        var value = 1
        for _ in 0..<digits { value *= 10 }
        return value
    }

    /// The shard's Parquet sidecar (img2dataset's convention): one row per sample.
    public func sidecarName(_ index: Int) -> String { prefix + number(index) + ".parquet" }

    /// The shard number in a tar, stats, sample list or sidecar file name of this naming, else nil.
    func index(ofFileNamed name: String) -> Int? {
        for suffix in [".tar", "_stats.json", "_samples.tsv", ".parquet"] where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard middle.count == digits, middle.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                continue
            }
            return Int(middle)
        }
        return nil
    }

    func validate() throws {
        guard (1...12).contains(digits) else { throw ExportError.invalidOption("shard name digits \(digits) (1 to 12)") }
        guard !prefix.contains(where: { $0 == "/" || $0 == "{" || $0 == "}" || $0 == "\u{0}" }) else {
            throw ExportError.invalidOption("shard name prefix \(prefix.debugDescription)")
        }
    }

    private func number(_ index: Int) -> String {
        let text = String(index)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
