/// capfilt's version, stated once: `capfilt --version` prints it and the fetcher's default
/// User-Agent carries it.
public enum CapfiltVersion {
    public static let current = "0.1.0"
}
