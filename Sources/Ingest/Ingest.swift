/// Manifest readers and the libcurl fetcher.
public enum Ingest {}
