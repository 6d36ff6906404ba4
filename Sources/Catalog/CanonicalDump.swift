import GRDB

extension CatalogSession {
    /// The catalog's content as text, in a fixed order and without what legitimately differs
    /// between two runs that did the same work (run ids, timestamps, fetch latencies, row ids of
    /// the fetch log). Two catalogs with equal dumps hold the same dataset state: the crash tests
    /// compare an interrupted-and-resumed run with an uninterrupted one this way.
    public func canonicalDump() throws -> String {
        let queries: [(String, String)] = [
            ("sources", "SELECT name, format, path, records_done, position, samples, problems FROM sources ORDER BY name"),
            ("samples", "SELECT id, source_id, key, url, local_path, member_offset, member_size, source_failure, origin, metadata, image_sha256, image_changes, text_changes FROM samples ORDER BY id"),
            ("manifest_problems", "SELECT source_id, record, file, line, row_index, row_group, reason, excerpt FROM manifest_problems ORDER BY source_id, record"),
            ("fetches", """
                SELECT sample_id, status, attempts, bytes, sha256, http_code, final_url, content_type, error
                FROM fetches ORDER BY sample_id, id
                """),
            ("images", "SELECT * FROM images ORDER BY sha256"),
            ("texts", "SELECT * FROM texts ORDER BY id"),
            ("scores", "SELECT * FROM scores ORDER BY text_id, fingerprint"),
            ("decisions", "SELECT * FROM decisions ORDER BY text_id"),
            ("filter_thresholds", "SELECT * FROM filter_thresholds ORDER BY fingerprint"),
            ("duplicates", "SELECT * FROM duplicates ORDER BY sample_id"),
            ("duplicate_texts", "SELECT * FROM duplicate_texts ORDER BY text_id"),
            ("gated_texts", "SELECT stage, text_id, sample_id, fingerprint, rule, reason FROM gated_texts ORDER BY stage, text_id"),
            ("contamination", "SELECT stage, sample_id, fingerprint, eval_set, eval_image, method, distance FROM contamination ORDER BY stage, sample_id"),
            ("assembled", "SELECT * FROM assembled ORDER BY sample_id, text_id"),
            ("progress", "SELECT stage, sample_id, fingerprint, status, reason, image_sha256 FROM progress ORDER BY stage, sample_id"),
            ("stage_state", "SELECT stage, fingerprint, input_version, summary FROM stage_state ORDER BY stage"),
        ]
        var out = ""
        for (table, sql) in queries {
            out += "# \(table)\n"
            for row in try Row.fetchAll(db, sql: sql) {
                out += row.columnNames.map { name -> String in
                    let value: DatabaseValue = row[name]
                    return "\(name)=\(value.isNull ? "NULL" : value.description)"
                }.joined(separator: "\t") + "\n"
            }
        }
        return out
    }
}
