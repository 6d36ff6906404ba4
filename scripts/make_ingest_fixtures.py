#!/usr/bin/env python3
"""Writes the Parquet fixtures of the Ingest tests and the gzip copies of manifests/samples.

    python scripts/make_ingest_fixtures.py            # fixtures + samples (small, committed)
    python scripts/make_ingest_fixtures.py --cc3m-rows 3318333 --out /tmp/cc3m_big.tsv
    python scripts/make_ingest_fixtures.py --capfilt-rows 3000000 --out /tmp/capfilt_big.json
    python scripts/make_ingest_fixtures.py --laion-rows 2000000 --out /tmp/laion_big.parquet
    python scripts/make_ingest_fixtures.py --coco-images 82783 --out /tmp/coco_big.json
                                                      # big inputs for the speed and memory check

Needs pyarrow. Output is deterministic (fixed seed, gzip mtime 0).
"""
import argparse
import gzip
import json
import os
import random
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "manifests", "samples")
FIXTURES = os.path.join(ROOT, "Tests", "IngestTests", "Fixtures", "manifests", "parquet")

WORDS = ("a the red blue small large old new dog cat man woman child bicycle car boat house tree "
         "street beach mountain river kitchen table plate cake city park field sky sunset night "
         "snow rain window door garden market bridge train station road flower bird horse").split()
LICENSES = ["?", "?", "?", "creativecommons.org/licenses/by/2.0", "creativecommons.org/licenses/by-sa/4.0"]
NSFW = ["UNLIKELY", "UNLIKELY", "UNLIKELY", "UNSURE", "NSFW"]


def caption(rng, n=None):
    n = n or rng.randint(3, 14)
    return " ".join(rng.choice(WORDS) for _ in range(n))


def laion_rows(rng, n):
    """LAION-400M-style rows with nulls and a few rows the reader must reject."""
    rows = []
    for i in range(n):
        url = f"https://cdn.example-{rng.randint(1, 9)}.com/img/{rng.getrandbits(40):010x}.jpg"
        text = caption(rng)
        if i % 17 == 5:
            text = None                      # null caption: rejected
        if i % 23 == 7:
            url = None                       # null url: rejected
        if i == 11:
            url = "ftp://files.example.com/x.jpg"   # not http(s): rejected
        if i == 13:
            text = "  " + caption(rng) + " "     # trimmed
        if i == 3:
            text = "Café crème — ünïcödé ✓ 東京"   # multi-byte UTF-8
        rows.append({
            "URL": url,
            "TEXT": text,
            "WIDTH": None if i % 9 == 4 else rng.choice([256, 320, 480, 500, 640, 800, 1024]),
            "HEIGHT": None if i % 9 == 4 else rng.choice([256, 240, 360, 375, 480, 600, 768]),
            "similarity": round(rng.uniform(0.28, 0.45), 6),
            "punsafe": rng.random(),
            "pwatermark": None if i % 7 == 2 else rng.random(),
            "LICENSE": rng.choice(LICENSES),
            "NSFW": rng.choice(NSFW),
            "hash": rng.getrandbits(63) - (1 << 62),
            "aesthetic_ok": None if i % 11 == 8 else rng.random() < 0.5,
        })
    return rows


def laion_table(pa, rows):
    schema = pa.schema([
        ("URL", pa.string()), ("TEXT", pa.string()),
        ("WIDTH", pa.int32()), ("HEIGHT", pa.int32()),
        ("similarity", pa.float64()), ("punsafe", pa.float32()), ("pwatermark", pa.float32()),
        ("LICENSE", pa.string()), ("NSFW", pa.string()), ("hash", pa.int64()),
        ("aesthetic_ok", pa.bool_()),
    ])
    return pa.Table.from_pylist(rows, schema=schema)


def expected_json(table, path):
    """Rows as JSON with the column types, so tests can compare floats at their own precision."""
    types = {f.name: str(f.type) for f in table.schema}
    rows = table.to_pylist()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and types[k] == "float":
                # float32 values: the shortest text that reads back to the same float32.
                import numpy as np
                r[k] = float(np.float32(v))
    with open(path, "w") as f:
        json.dump({"columns": [f.name for f in table.schema], "types": types, "rows": rows}, f,
                  ensure_ascii=False, indent=0)


def write_parquet_fixtures():
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(FIXTURES, exist_ok=True)
    rng = random.Random(20240521)
    table = laion_table(pa, laion_rows(rng, 70))
    expected_json(table, os.path.join(FIXTURES, "laion_expected.json"))

    variants = {
        "laion_snappy.parquet": dict(compression="snappy"),
        "laion_gzip.parquet": dict(compression="gzip"),
        "laion_zstd.parquet": dict(compression="zstd"),
        "laion_none.parquet": dict(compression="none"),
        "laion_v2.parquet": dict(compression="snappy", data_page_version="2.0"),
        "laion_v2_gzip_plain.parquet": dict(compression="gzip", data_page_version="2.0", use_dictionary=False),
        "laion_plain.parquet": dict(compression="snappy", use_dictionary=False),
        # Old-style PLAIN_DICTIONARY pages (format version 1.0).
        "laion_v1format.parquet": dict(compression="snappy", version="1.0"),
        # Many small pages per chunk, and dictionaries that overflow into PLAIN pages.
        "laion_small_pages.parquet": dict(compression="snappy", data_page_size=256, write_batch_size=5,
                                          dictionary_pagesize_limit=128),
    }
    for name, kw in variants.items():
        pq.write_table(table, os.path.join(FIXTURES, name), row_group_size=16, **kw)

    # Lower-case url / caption with extra columns, as some LAION subsets and img2dataset write.
    rng = random.Random(7)
    lower = []
    for i in range(24):
        lower.append({
            "url": f"http://images.example.org/{i:05d}.jpg",
            "caption": None if i == 9 else caption(rng),
            "key": f"{i:09d}",
            "status": "success" if i % 5 else "failed_to_download",
            "width": None if i % 5 == 0 else rng.randint(100, 2000),
            "original_width": rng.randint(100, 4000),
        })
    lt = pa.Table.from_pylist(lower, schema=pa.schema([
        ("url", pa.string()), ("caption", pa.string()), ("key", pa.string()), ("status", pa.string()),
        ("width", pa.int64()), ("original_width", pa.int64()),
    ]))
    pq.write_table(lt, os.path.join(FIXTURES, "lowercase_zstd.parquet"), row_group_size=10, compression="zstd")
    expected_json(lt, os.path.join(FIXTURES, "lowercase_expected.json"))

    # A file without the needed columns.
    pq.write_table(pa.table({"image": ["a.jpg"], "text": ["a cat"]}), os.path.join(FIXTURES, "wrong_columns.parquet"))
    # A file with no rows.
    pq.write_table(laion_table(pa, []), os.path.join(FIXTURES, "empty_rows.parquet"))

    # The sample of manifests/samples: six LAION rows, snappy, two row groups.
    sample = [
        {"URL": "https://i.pinimg.com/736x/1c/4f/7e/1c4f7e5b8a3b2d1c9e8f7a6b5c4d3e2f.jpg",
         "TEXT": "Vintage brass telescope on a wooden tripod", "WIDTH": 736, "HEIGHT": 981,
         "similarity": 0.3527, "punsafe": 0.0012, "pwatermark": 0.0871, "LICENSE": "?", "NSFW": "UNLIKELY",
         "hash": 3498710219870235431, "aesthetic_ok": True},
        {"URL": "http://cdn.shopify.com/s/files/1/0277/products/blue-ceramic-mug_600x.jpg",
         "TEXT": "Blue ceramic mug, handmade", "WIDTH": 600, "HEIGHT": 600,
         "similarity": 0.3311, "punsafe": 0.0004, "pwatermark": 0.6123, "LICENSE": "?", "NSFW": "UNLIKELY",
         "hash": -8127734120938475512, "aesthetic_ok": False},
        {"URL": "https://upload.wikimedia.org/wikipedia/commons/thumb/3/3a/Cat03.jpg/640px-Cat03.jpg",
         "TEXT": "Orange tabby cat sitting on a windowsill", "WIDTH": 640, "HEIGHT": 480,
         "similarity": 0.3904, "punsafe": 0.0021, "pwatermark": None,
         "LICENSE": "creativecommons.org/licenses/by-sa/3.0", "NSFW": "UNLIKELY",
         "hash": 1029384756102938475, "aesthetic_ok": None},
        {"URL": "https://images.example-shop.com/p/12345/red-dress.jpg", "TEXT": None, "WIDTH": 500,
         "HEIGHT": 750, "similarity": 0.3012, "punsafe": 0.0301, "pwatermark": 0.2011, "LICENSE": "?",
         "NSFW": "UNLIKELY", "hash": 5647382910564738291, "aesthetic_ok": True},
        {"URL": "https://live.staticflickr.com/65535/49327284112_b4f1a2c3d4_b.jpg",
         "TEXT": "Sunrise over the harbour, Sydney", "WIDTH": None, "HEIGHT": None,
         "similarity": 0.3655, "punsafe": 0.0009, "pwatermark": 0.0402, "LICENSE": "?", "NSFW": "UNLIKELY",
         "hash": -1234567890123456789, "aesthetic_ok": True},
        {"URL": None, "TEXT": "A row whose URL is null", "WIDTH": 320, "HEIGHT": 240,
         "similarity": 0.2999, "punsafe": 0.1, "pwatermark": 0.1, "LICENSE": "?", "NSFW": "UNSURE",
         "hash": 42, "aesthetic_ok": False},
    ]
    os.makedirs(os.path.join(SAMPLES, "laion"), exist_ok=True)
    pq.write_table(laion_table(pa, sample), os.path.join(SAMPLES, "laion", "laion_sample.parquet"),
                   row_group_size=4, compression="snappy")


def write_gzip_samples():
    """A gzip copy of every text sample under manifests/samples/gz/."""
    out_root = os.path.join(SAMPLES, "gz")
    if os.path.isdir(out_root):
        shutil.rmtree(out_root)
    for folder, _, files in sorted(os.walk(SAMPLES)):
        if folder.startswith(out_root):
            continue
        for name in sorted(files):
            if not name.endswith((".json", ".tsv", ".txt", ".csv", ".jsonl")):
                continue
            src = os.path.join(folder, name)
            dst = os.path.join(out_root, os.path.relpath(src, SAMPLES) + ".gz")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(src, "rb") as f, open(dst, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as g:
                    g.write(f.read())


def write_big_cc3m(path, rows):
    """A CC3M-layout TSV (caption<TAB>url), about as long per row as the real file (~160 bytes)."""
    rng = random.Random(3)
    with open(path, "w") as f:
        buf = []
        for i in range(rows):
            words = caption(rng, rng.randint(6, 12))
            slug = "-".join(words.split()[:5])
            buf.append(f"{words}\thttps://img{i % 97}.example-cdn.com/photos/{2010 + i % 9}/{1 + i % 12:02d}/"
                       f"{rng.getrandbits(64):016x}/{slug}-{i}.jpg\n")
            if len(buf) == 10000:
                f.writelines(buf)
                buf = []
        f.writelines(buf)


def write_big_capfilt(path, rows):
    """A BLIP CapFilt-style JSON list [{url, caption}, ...] on one line, as BLIP ships them."""
    rng = random.Random(4)
    with open(path, "w") as f:
        f.write("[")
        for i in range(rows):
            if i:
                f.write(", ")
            f.write(json.dumps({"url": f"https://img{i % 97}.example-cdn.com/{rng.getrandbits(64):016x}/{i}.jpg",
                                "caption": caption(rng, rng.randint(6, 12))}))
        f.write("]")


def write_big_coco(path, images):
    """A COCO captions file the size of captions_train2014.json (82,783 images, ~5 captions each)."""
    rng = random.Random(6)
    doc = {"info": {"description": "synthetic", "year": 2014}, "licenses": [], "images": [], "annotations": []}
    for i in range(images):
        doc["images"].append({"license": 3, "file_name": f"COCO_train2014_{i:012d}.jpg",
                              "coco_url": f"http://images.cocodataset.org/train2014/COCO_train2014_{i:012d}.jpg",
                              "height": 480, "width": 640, "date_captured": "2013-11-14 11:18:45",
                              "flickr_url": f"http://farm4.staticflickr.com/{i}/{rng.getrandbits(40)}_z.jpg", "id": i})
        for _ in range(5):
            doc["annotations"].append({"image_id": i, "id": len(doc["annotations"]), "caption": caption(rng)})
    rng.shuffle(doc["annotations"])
    with open(path, "w") as f:
        json.dump(doc, f)


def write_big_laion(path, rows):
    """A LAION-style Parquet file with pyarrow's default (1Mi-row) row groups, snappy."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = random.Random(5)
    writer = None
    done = 0
    while done < rows:
        n = min(250_000, rows - done)
        table = laion_table(pa, laion_rows(rng, n))
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=1 << 20)
        done += n
    writer.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc3m-rows", type=int, help="write a big CC3M-style TSV of this many rows instead")
    ap.add_argument("--capfilt-rows", type=int, help="write a big BLIP CapFilt JSON list instead")
    ap.add_argument("--laion-rows", type=int, help="write a big LAION-style Parquet file instead")
    ap.add_argument("--coco-images", type=int, help="write a big COCO captions file instead")
    ap.add_argument("--out", help="path of the big file")
    args = ap.parse_args()
    if args.cc3m_rows:
        write_big_cc3m(args.out or "/tmp/cc3m_big.tsv", args.cc3m_rows)
        return
    if args.capfilt_rows:
        write_big_capfilt(args.out or "/tmp/capfilt_big.json", args.capfilt_rows)
        return
    if args.laion_rows:
        write_big_laion(args.out or "/tmp/laion_big.parquet", args.laion_rows)
        return
    if args.coco_images:
        write_big_coco(args.out or "/tmp/coco_big.json", args.coco_images)
        return
    write_parquet_fixtures()
    write_gzip_samples()


if __name__ == "__main__":
    main()
