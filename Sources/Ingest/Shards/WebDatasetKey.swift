/// WebDataset's naming of a sample's members: `KEY.EXT`, where the key is the member's path up
/// to the first `.` of its file name (`dir.x/a.b.c` is key `dir.x/a`, extension `b.c`).
/// Members of one sample are consecutive in a shard.
public enum WebDatasetKey {
    public static func split(_ name: String) -> (key: String, ext: String) {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[slash...].firstIndex(of: ".") else { return (name, "") }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    /// Extensions (lower-cased) of the image members a sample may have.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp"]
}
