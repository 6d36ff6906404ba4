#!/usr/bin/env python3
"""Reads a pipeline export (what the `export` stage writes under <workdir>/export) back with the
`webdataset` package and Pillow, and checks it against the export's own BLIP pretrain json:

- every shard listed in webdataset/shards.json opens with webdataset and has its stated count;
- every sample has jpg (or png / webp), txt and json members; the image decodes with Pillow and its
  SHA-256 is the one in the json; the json's caption is the txt;
- the (image, caption) pairs are, in order, the ones in blip_pretrain.json (whose image paths name
  content-addressed blobs, so the file name is the image's SHA-256).

An incremental export (`mode: incremental`) is read as its docs say: each shard's `excluded` keys
are dropped with a webdataset `select`, and the pairs are compared with blip_pretrain.json as a
multiset (new samples sit in new shards, so the order differs from a rebuild's).

An export written with `group_by_image: true` is read the same way: a sample's json lists its texts
(`texts`), its txt is the first of them, and each of its texts is one pair; the pretrain json's
caption lists are flattened in order.

    python scripts/check_pipeline_export.py EXPORT_FOLDER
"""
import collections
import hashlib
import io
import json
import os
import sys
from pathlib import Path

import webdataset as wds
from PIL import Image


def main(folder: Path) -> int:
    failures = []
    index = json.loads((folder / "webdataset/shards.json").read_text())
    shards = index["shards"]
    pretrain = json.loads((folder / "blip_pretrain.json").read_text())
    pairs = []
    total = 0
    excluded = {(s["name"], key) for s in shards for key in s.get("excluded", [])}
    updated = index.get("generation", 1) > 1

    def live(sample):
        return (os.path.basename(sample["__url__"]), sample["__key__"]) not in excluded

    for shard in shards:
        path = folder / "webdataset" / shard["name"]
        count = 0
        for sample in wds.WebDataset(str(path), shardshuffle=False).select(live):
            count += 1
            image_key = next((k for k in ("jpg", "png", "webp") if k in sample), None)
            if image_key is None or "txt" not in sample or "json" not in sample:
                failures.append(f"{sample['__key__']}: members {sorted(sample)}")
                continue
            meta = json.loads(sample["json"])
            text = sample["txt"].decode("utf-8")
            if meta["caption"] != text:
                failures.append(f"{sample['__key__']}: json caption {meta['caption']!r} != txt {text!r}")
            if hashlib.sha256(sample[image_key]).hexdigest() != meta["sha256"]:
                failures.append(f"{sample['__key__']}: image bytes do not match the json's sha256")
            Image.open(io.BytesIO(sample[image_key])).load()
            if "texts" in meta:
                captions = [t["caption"] for t in meta["texts"]]
                if not captions or captions[0] != text:
                    failures.append(f"{sample['__key__']}: txt {text!r} is not the first of its texts")
                pairs += [(meta["sha256"], c) for c in captions]
            else:
                pairs.append((meta["sha256"], text))
        if count != shard["count"] - len(shard.get("excluded", [])):
            failures.append(f"{shard['name']}: {count} samples, index says {shard['count']} less {len(shard.get('excluded', []))} excluded")
        total += count
    # Blobs are stored under their SHA-256: the pretrain json's image names the bytes.
    expected = [(Path(p["image"]).name.split(".")[0], c)
                for p in pretrain for c in (p["caption"] if isinstance(p["caption"], list) else [p["caption"]])]
    if updated and collections.Counter(pairs) != collections.Counter(expected):
        failures.append(f"shards hold {len(pairs)} pairs, blip_pretrain.json {len(expected)}: not the same multiset")
    elif not updated and pairs != expected:
        failures.append(f"shards hold {len(pairs)} pairs, blip_pretrain.json {len(expected)}; first difference at "
                        f"{next((i for i, (a, b) in enumerate(zip(pairs, expected)) if a != b), min(len(pairs), len(expected)))}")
    for f in failures[:20]:
        print("FAIL", f)
    if total != index["samples"]:
        failures.append(f"{total} samples read, the index says {index['samples']}")
    print(f"{len(shards)} shards, {total} samples read back with webdataset {getattr(wds, '__version__', '?')}: "
          f"{'ok' if not failures else f'{len(failures)} problems'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
