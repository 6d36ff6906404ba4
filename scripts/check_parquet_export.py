#!/usr/bin/env python3
"""Reads a pipeline export's Parquet files with the tools researchers use, and checks them against
the export's WebDataset shards:

- every shard's sidecar (`webdataset/NNNNN.parquet`) read by pyarrow has one row per sample of its
  tar, with the tar's key, caption and sha256;
- the `datasets` layout (`parquet/*.parquet`) loads with `datasets.load_dataset("parquet", ...)`,
  its `image` column is an `Image` feature whose decoded images are the shards' images (same
  size, and the bytes' SHA-256 is the sample's), and its rows are the shards' samples;
- DuckDB reads both (`read_parquet`), with the same row counts and ITM range as pyarrow.

    python scripts/check_parquet_export.py EXPORT_FOLDER
"""
import glob
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import datasets
import duckdb
import pyarrow.parquet as pq
from PIL import Image


def escape(key):
    """capfilt's SampleKey.escape: ASCII letters, digits, '-' and '_' kept, every other byte %XX."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "".join(f"%{b:02X}" for b in c.encode())
                   for c in key)


def tar_samples(path):
    """key -> {caption, sha256, image bytes}, read with the standard library's tarfile."""
    samples = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            key, _, ext = member.name.partition(".")
            data = tar.extractfile(member).read()
            entry = samples.setdefault(key, {})
            if ext == "txt":
                entry["caption"] = data.decode("utf-8")
            elif ext == "json":
                entry["sha256"] = json.loads(data)["sha256"]
            elif ext in ("jpg", "png", "webp"):
                entry["image"] = data
    return samples


def main(folder: Path) -> int:
    failures = []
    index = json.loads((folder / "webdataset/shards.json").read_text())
    all_samples = {}
    for shard in index["shards"]:
        samples = tar_samples(folder / "webdataset" / shard["name"])
        all_samples.update(samples)
        table = pq.read_table(folder / "webdataset" / shard["parquet"])
        rows = {r["key"]: r for r in table.to_pylist()}
        if set(rows) != set(samples):
            failures.append(f"{shard['parquet']}: keys differ from {shard['name']}")
            continue
        for key, sample in samples.items():
            if rows[key]["caption"] != sample["caption"] or rows[key]["sha256"] != sample["sha256"]:
                failures.append(f"{shard['parquet']}: row {key} does not match its sample")

    files = sorted(glob.glob(str(folder / "parquet" / "*.parquet")))
    loaded = datasets.load_dataset("parquet", data_files=files, split="train")
    if not isinstance(loaded.features["image"], datasets.Image):
        failures.append(f"image column is {loaded.features['image']!r}, not an Image feature")
    if len(loaded) != len(all_samples):
        failures.append(f"datasets loaded {len(loaded)} rows, the shards hold {len(all_samples)} samples")
    for row in loaded:
        sample = all_samples.get(escape(row["key"]))
        image = row["image"]   # a PIL image, decoded by datasets
        if sample is None:
            failures.append(f"datasets row {row['key']} is not in the shards")
            continue
        expected = Image.open(io.BytesIO(sample["image"]))
        if image.size != expected.size or hashlib.sha256(sample["image"]).hexdigest() != row["sha256"]:
            failures.append(f"datasets row {row['key']}: image differs from the shard's")
        if row["caption"] != sample["caption"]:
            failures.append(f"datasets row {row['key']}: caption differs")

    sidecars = str(folder / "webdataset" / "*.parquet")
    count, low, high = duckdb.sql(f"SELECT count(*), min(itm), max(itm) FROM read_parquet('{sidecars}')").fetchall()[0]
    table = pq.ParquetDataset(sorted(glob.glob(sidecars))).read()
    itm = [v for v in table.column("itm").to_pylist() if v is not None]
    if count != len(all_samples) or (itm and (abs(low - min(itm)) > 0 or abs(high - max(itm)) > 0)):
        failures.append(f"duckdb: {count} rows, itm {low}..{high}; pyarrow: {table.num_rows} rows")
    duck_rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{folder / 'parquet' / '*.parquet'}')").fetchall()[0][0]
    if duck_rows != len(loaded):
        failures.append(f"duckdb reads {duck_rows} rows of the datasets layout, datasets {len(loaded)}")

    for f in failures[:20]:
        print("FAIL", f)
    print(f"{len(index['shards'])} sidecars and {len(files)} datasets files, {len(all_samples)} samples, read with "
          f"pyarrow, datasets {datasets.__version__} and duckdb {duckdb.__version__}: "
          f"{'ok' if not failures else f'{len(failures)} problems'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
