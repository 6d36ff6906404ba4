import GRDB

/// The catalog's tables, as named migrations. A migration, once released, is never edited:
/// a change of schema is a new migration appended to the list.
///
/// Identity: a sample is `(source, key)`; its integer id is assigned in ingest order, which is
/// deterministic (manifest order, batches committed atomically), so ids are stable across a
/// crash and its resume. Images are content-addressed by SHA-256.
enum Schema {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core", migrate: createCore)
        migrator.registerMigration("v2-filter-thresholds", migrate: createFilterThresholds)
        migrator.registerMigration("v3-content-keys", migrate: addContentKeys)
        migrator.registerMigration("v4-manifest-problem-rows", migrate: addManifestProblemRows)
        migrator.registerMigration("v5-text-changes", migrate: addTextChanges)
        migrator.registerMigration("v6-gated-texts", migrate: createGatedTexts)
        migrator.registerMigration("v7-archive-members", migrate: addArchiveMembers)
        migrator.registerMigration("v8-text-ranks", migrate: addTextRanks)
        migrator.registerMigration("v9-contamination", migrate: createContamination)
        return migrator
    }

    /// Results downstream of fetch are valid for the image they were computed on only. Progress
    /// marks and scores record that image's SHA-256; a mark or score whose digest is not the
    /// sample's current `image_sha256` is stale. `samples.image_changes` counts how often a
    /// sample's image was replaced by different bytes, so that whole-dataset stages see a change
    /// of content in their input version.
    ///
    /// Existing marks and scores are taken to be of the image the sample has now: that is what
    /// the catalog held them to be before.
    private static func addContentKeys(_ db: Database) throws {
        try db.execute(sql: """
            -- The image a mark was made on: the sample's image_sha256 when the stage read it (fetch:
            -- the image it fetched). NULL for a sample without an image.
            ALTER TABLE progress ADD COLUMN image_sha256 TEXT;
            UPDATE progress SET image_sha256 = (SELECT image_sha256 FROM samples WHERE samples.id = progress.sample_id);

            -- The image a text was scored against.
            ALTER TABLE scores ADD COLUMN image_sha256 TEXT;
            UPDATE scores SET image_sha256 = (
                SELECT s.image_sha256 FROM texts t JOIN samples s ON s.id = t.sample_id WHERE t.id = scores.text_id);

            -- How many times the sample's image was replaced by different bytes (a first fetch
            -- is not a replacement), whoever replaced it.
            ALTER TABLE samples ADD COLUMN image_changes INTEGER NOT NULL DEFAULT 0;
            CREATE TRIGGER samples_image_changed AFTER UPDATE OF image_sha256 ON samples
            WHEN OLD.image_sha256 IS NOT NULL AND OLD.image_sha256 IS NOT NEW.image_sha256
            BEGIN
                UPDATE samples SET image_changes = image_changes + 1 WHERE id = NEW.id;
            END;
            """)
    }

    /// Texts that a gate stage's caption rules dropped. A dropped sample needs no table (its
    /// progress mark says which rule, with the value against the bound); a dropped text is not
    /// the sample's failure, so it gets a row here instead. Rows are per gate stage: two gates
    /// may each drop a text, and each one's rows follow its own fingerprint.
    private static func createGatedTexts(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE gated_texts (
                stage TEXT NOT NULL,
                text_id INTEGER NOT NULL REFERENCES texts(id),
                sample_id INTEGER NOT NULL REFERENCES samples(id),
                fingerprint TEXT NOT NULL,
                rule TEXT NOT NULL,
                reason TEXT NOT NULL,
                PRIMARY KEY (stage, text_id)
            ) WITHOUT ROWID;
            CREATE INDEX gated_texts_by_sample ON gated_texts(stage, sample_id);
            """)
    }

    /// Training samples a decontaminate stage found in an evaluation set. The sample's progress
    /// mark (`contaminated`, with the reason) is what keeps it out of the set; this row keeps the
    /// match in columns, so the report can count by evaluation set and method and list examples.
    /// Rows are per stage, replaced when the stage judges the sample again.
    private static func createContamination(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE contamination (
                stage TEXT NOT NULL,
                sample_id INTEGER NOT NULL REFERENCES samples(id),
                fingerprint TEXT NOT NULL,
                eval_set TEXT NOT NULL,
                eval_image TEXT NOT NULL,
                method TEXT NOT NULL,
                distance REAL NOT NULL,
                PRIMARY KEY (stage, sample_id)
            ) WITHOUT ROWID;
            """)
    }

    /// Samples read from WebDataset shards: the image is a byte range of the shard at
    /// `local_path`, or the shard's maker failed to download it and says why. A source's reader
    /// may also keep an exact resume position beside its record count.
    private static func addArchiveMembers(_ db: Database) throws {
        try db.execute(sql: """
            -- The image's bytes in the archive at local_path: member_offset ..< member_offset + member_size.
            ALTER TABLE samples ADD COLUMN member_offset INTEGER;
            ALTER TABLE samples ADD COLUMN member_size INTEGER;
            -- Why the source has no image (img2dataset's `status: error_message`); fetch records it.
            ALTER TABLE samples ADD COLUMN source_failure TEXT;
            -- Where the source's reader stands, in its own words (shard, offset, records to skip).
            ALTER TABLE sources ADD COLUMN position TEXT;
            """)
    }

    /// Where each synthetic caption stands among its sample's synthetic captions: the filter
    /// ranks them (best-of-N) by `rank_by` (itm, itc or product) and may keep only the best few.
    /// NULL for web texts and for decisions made before ranks were recorded.
    private static func addTextRanks(_ db: Database) throws {
        try db.execute(sql: """
            -- 1 = the best of the sample's synthetic captions by rank_score.
            ALTER TABLE decisions ADD COLUMN rank INTEGER;
            ALTER TABLE decisions ADD COLUMN rank_score REAL;
            ALTER TABLE decisions ADD COLUMN rank_by TEXT;
            """)
    }

    /// `samples.text_changes` counts how often a sample gained texts after it was first stored (a
    /// manifest row merged into it): its judged texts changed, so whole-dataset stages must see a
    /// new input version even though the filter rewrites its mark with the same status.
    private static func addTextChanges(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE samples ADD COLUMN text_changes INTEGER NOT NULL DEFAULT 0")
    }

    /// The row index the manifest reader gave a malformed row (0-based: TSV/CSV data row, JSON
    /// array element, Parquet row), as `capfilt ingest` prints it. `record`, the count of
    /// records read up to the row, stays the key; rows recorded before have none.
    private static func addManifestProblemRows(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE manifest_problems ADD COLUMN row_index INTEGER")
    }

    /// The threshold each filter decided with, next to its decisions, so that evaluation and the
    /// report read it from the catalog instead of rebuilding it from settings or reasons.
    private static func createFilterThresholds(_ db: Database) throws {
        try db.execute(sql: """
            -- One row per filter fingerprint. `origin`: fixed (the stage's `threshold`) or
            -- calibrated (chosen on held-out pairs by `rule`, keep or f1, from `file`).
            CREATE TABLE filter_thresholds (
                fingerprint TEXT PRIMARY KEY,
                threshold REAL NOT NULL,
                origin TEXT NOT NULL,
                rule TEXT,
                keep_share REAL,
                pairs INTEGER,
                precision REAL,
                recall REAL,
                file TEXT
            ) WITHOUT ROWID;
            """)
    }

    private static func createCore(_ db: Database) throws {
        try db.execute(sql: """
            -- One row per manifest a pipeline ingests; `records_done` is the ingest cursor.
            CREATE TABLE sources (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                format TEXT NOT NULL,
                path TEXT NOT NULL,
                records_done INTEGER NOT NULL DEFAULT 0,
                samples INTEGER NOT NULL DEFAULT 0,
                problems INTEGER NOT NULL DEFAULT 0
            );

            CREATE TABLE samples (
                id INTEGER PRIMARY KEY,
                source_id INTEGER NOT NULL REFERENCES sources(id),
                key TEXT NOT NULL,
                url TEXT,
                local_path TEXT,
                origin TEXT NOT NULL CHECK (origin IN ('human', 'web')),
                metadata TEXT NOT NULL DEFAULT '{}',
                image_sha256 TEXT,
                UNIQUE (source_id, key)
            );

            -- Malformed manifest rows: recorded and skipped.
            CREATE TABLE manifest_problems (
                id INTEGER PRIMARY KEY,
                source_id INTEGER NOT NULL REFERENCES sources(id),
                record INTEGER NOT NULL,
                file TEXT NOT NULL,
                line INTEGER,
                row_group INTEGER,
                reason TEXT NOT NULL,
                excerpt TEXT,
                UNIQUE (source_id, record)
            );

            -- Every fetch attempt series (one row per fetch of a sample, retries included).
            CREATE TABLE fetches (
                id INTEGER PRIMARY KEY,
                sample_id INTEGER NOT NULL REFERENCES samples(id),
                run_id INTEGER NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                sha256 TEXT,
                http_code INTEGER NOT NULL,
                latency_seconds REAL NOT NULL,
                final_url TEXT,
                content_type TEXT,
                error TEXT
            );
            CREATE INDEX fetches_by_sample ON fetches(sample_id);

            CREATE TABLE images (
                sha256 TEXT PRIMARY KEY,
                bytes INTEGER NOT NULL,
                blob_path TEXT NOT NULL,
                format TEXT,
                width INTEGER,
                height INTEGER,
                phash INTEGER,
                resized_path TEXT
            ) WITHOUT ROWID;

            -- Texts: human and web ones come from the manifest, synthetic ones from a captioner
            -- (`model` and `settings` say which, `fingerprint` which caption stage run).
            CREATE TABLE texts (
                id INTEGER PRIMARY KEY,
                sample_id INTEGER NOT NULL REFERENCES samples(id),
                origin TEXT NOT NULL CHECK (origin IN ('human', 'web', 'synthetic')),
                position INTEGER NOT NULL,
                text TEXT NOT NULL,
                model TEXT,
                settings TEXT,
                fingerprint TEXT,
                UNIQUE (sample_id, origin, position)
            );

            -- Scores are cached per scoring fingerprint (model + settings), so that a new
            -- threshold re-decides without re-scoring.
            CREATE TABLE scores (
                text_id INTEGER NOT NULL REFERENCES texts(id),
                fingerprint TEXT NOT NULL,
                model TEXT NOT NULL,
                itm_probability REAL NOT NULL,
                itc_similarity REAL NOT NULL,
                PRIMARY KEY (text_id, fingerprint)
            ) WITHOUT ROWID;

            CREATE TABLE decisions (
                text_id INTEGER PRIMARY KEY REFERENCES texts(id),
                kept INTEGER NOT NULL,
                reason TEXT NOT NULL,
                itm_probability REAL,
                itc_similarity REAL,
                fingerprint TEXT NOT NULL
            );

            -- Duplicate groups found by the dedup stage. `kind`: exact (same image bytes),
            -- near (perceptual hash within the radius), url (same URL across sources). A sample
            -- that is not its group's representative is left out of the assembled set.
            CREATE TABLE duplicates (
                sample_id INTEGER PRIMARY KEY REFERENCES samples(id),
                kind TEXT NOT NULL,
                group_key TEXT NOT NULL,
                representative TEXT NOT NULL,
                distance INTEGER NOT NULL
            );

            -- Texts that are dropped because the same normalised text is already on the image.
            CREATE TABLE duplicate_texts (
                text_id INTEGER PRIMARY KEY REFERENCES texts(id),
                same_as INTEGER NOT NULL
            );

            -- The bootstrapped set: one row per (image, text) pair that is exported.
            CREATE TABLE assembled (
                sample_id INTEGER NOT NULL REFERENCES samples(id),
                text_id INTEGER NOT NULL REFERENCES texts(id),
                PRIMARY KEY (sample_id, text_id)
            ) WITHOUT ROWID;

            CREATE TABLE runs (
                id INTEGER PRIMARY KEY,
                pipeline TEXT NOT NULL,
                command TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                outcome TEXT
            );

            -- Per-sample progress of every per-sample stage: a sample is done for a stage when
            -- its row carries the stage's current fingerprint; `status` is 'ok' or the reason
            -- class it failed with.
            CREATE TABLE progress (
                stage TEXT NOT NULL,
                sample_id INTEGER NOT NULL REFERENCES samples(id),
                fingerprint TEXT NOT NULL,
                status TEXT NOT NULL,
                reason TEXT,
                run_id INTEGER NOT NULL,
                PRIMARY KEY (stage, sample_id)
            ) WITHOUT ROWID;
            CREATE INDEX progress_by_status ON progress(stage, status);

            -- Whole-dataset stages (dedup, assemble, export, report): done when the row carries
            -- the current fingerprint and the same input version.
            CREATE TABLE stage_state (
                stage TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                input_version TEXT NOT NULL,
                run_id INTEGER NOT NULL,
                summary TEXT NOT NULL DEFAULT '{}'
            );
            """)
    }
}
