#!/usr/bin/env python3
"""Reads a capfilt WebDataset export back with the `webdataset` package and checks it.

The folder holds what the ExportTests interop test writes (`make interop-export`):
`shards/` (tar shards, `_stats.json` files, `shards.json`), `blip_pretrain.json`,
`blip_released.json` and `expectations.json`. Every check is reported; the exit status is 0
only when all pass.

    python scripts/check_webdataset.py FOLDER [--expectations FILE]
"""
import argparse
import hashlib
import json
import os
import sys
import tarfile

import webdataset as wds


class Checker:
    def __init__(self):
        self.failures = []
        self.checks = 0

    def equal(self, what, actual, expected):
        self.checks += 1
        if actual != expected:
            self.failures.append(f"{what}: got {actual!r}, expected {expected!r}")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_files(check, shard_dir, exp):
    """The index, the stats files and the tar headers, against the files themselves."""
    with open(os.path.join(shard_dir, exp["index"]), encoding="utf-8") as f:
        index = json.load(f)
    names = exp["shards"]
    check.equal("index shard names", [s["name"] for s in index["shards"]], names)
    check.equal("index sample total", index["samples"], len(exp["samples"]))
    leftovers = [n for n in os.listdir(shard_dir) if n.endswith(".partial")]
    check.equal("temporary files left", leftovers, [])
    for shard in index["shards"]:
        path = os.path.join(shard_dir, shard["name"])
        check.equal(f"{shard['name']} sha256", sha256_of(path), shard["sha256"])
        check.equal(f"{shard['name']} size", os.path.getsize(path), shard["bytes"])
        expected_count = sum(1 for s in exp["samples"] if s["shard"] == shard["name"])
        check.equal(f"{shard['name']} count", shard["count"], expected_count)
        with open(os.path.join(shard_dir, shard["stats"]), encoding="utf-8") as f:
            stats = json.load(f)
        check.equal(f"{shard['stats']} count", stats["count"], expected_count)
        check.equal(f"{shard['stats']} sha256", stats["sha256"], shard["sha256"])
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                header = (member.isfile(), member.mode, member.uid, member.gid, member.mtime, member.uname, member.gname)
                check.equal(f"{shard['name']}:{member.name} header", header, (True, 0o644, 0, 0, 0, "", ""))


def check_samples(check, shard_dir, exp):
    urls = [os.path.join(shard_dir, name) for name in exp["shards"]]
    expected = exp["samples"]

    # Raw bytes: exactly what was written.
    raw = list(wds.WebDataset(urls, shardshuffle=False))
    check.equal("sample keys in order", [s["__key__"] for s in raw], [e["key"] for e in expected])
    for sample, want in zip(raw, expected):
        key = want["key"]
        members = sorted(k for k in sample if not k.startswith("__"))
        check.equal(f"{key} members", members, sorted(want["members"]))
        check.equal(f"{key} shard", os.path.basename(sample["__url__"]), want["shard"])
        check.equal(f"{key} jpg sha256", hashlib.sha256(sample["jpg"]).hexdigest(), want["jpg_sha256"])
        check.equal(f"{key} jpg magic", sample["jpg"][:3], b"\xff\xd8\xff")
        check.equal(f"{key} txt bytes", sample["txt"], want["txt"].encode("utf-8"))
        check.equal(f"{key} json", json.loads(sample["json"]), want["json"])

    # webdataset's own decoders: txt as str, json parsed, cls as int, jpg as a picture when Pillow is there.
    try:
        import PIL  # noqa: F401
        decoded = wds.WebDataset(urls, shardshuffle=False).decode("pil")
        have_pil = True
    except ImportError:
        decoded = wds.WebDataset(urls, shardshuffle=False).decode()
        have_pil = False
    for sample, want in zip(decoded, expected):
        key = want["key"]
        check.equal(f"{key} decoded txt", sample["txt"], want["txt"])
        check.equal(f"{key} decoded json key", sample["json"]["key"], want["original_key"])
        check.equal(f"{key} decoded json caption", sample["json"]["caption"], want["txt"])
        check.equal(f"{key} decoded json scores", sample["json"]["scores"], want["json"]["scores"])
        if want["cls"] is not None:
            check.equal(f"{key} decoded cls", sample["cls"], want["cls"])
        if have_pil:
            check.equal(f"{key} decoded image size", sample["jpg"].size, (16, 16))
    return len(raw), have_pil


def check_blip(check, folder, exp):
    for name in ("blip_pretrain", "blip_released"):
        if name not in exp:
            continue
        with open(os.path.join(folder, exp[name]["path"]), encoding="utf-8") as f:
            text = f.read()
        records = json.loads(text)
        check.equal(f"{name} records", records, exp[name]["records"])
        fields = ["image", "caption"] if name == "blip_pretrain" else ["url", "caption"]
        check.equal(f"{name} field order", [list(r) for r in records], [fields] * len(records))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--expectations", help="default: FOLDER/expectations.json")
    args = parser.parse_args()
    with open(args.expectations or os.path.join(args.folder, "expectations.json"), encoding="utf-8") as f:
        exp = json.load(f)
    shard_dir = os.path.join(args.folder, exp["shards_dir"])

    check = Checker()
    check_files(check, shard_dir, exp)
    count, have_pil = check_samples(check, shard_dir, exp)
    check_blip(check, args.folder, exp)

    version = getattr(wds, "__version__", "?")
    if check.failures:
        print(f"FAIL: {len(check.failures)} of {check.checks} checks (webdataset {version})")
        for failure in check.failures:
            print("  " + failure)
        return 1
    images = "decoded with Pillow" if have_pil else "bytes only (no Pillow)"
    print(f"PASS: {count} samples in {len(exp['shards'])} shards, {check.checks} checks, "
          f"webdataset {version}, images {images}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
