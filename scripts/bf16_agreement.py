#!/usr/bin/env python3
"""How far bf16 weights move capfilt's filter and captioner from fp32, on trained models.

    python3 scripts/bf16_agreement.py --capfilt .build/release/capfilt \
        --filter demo/work/models/finetune_filter --captioner demo/work/models/finetune_captioner \
        --pairs demo/data/audit/web_audit.json --images demo/data/coco/val2017 \
        [--threshold 0.416] [--first-token enc] [--captions 500] [--out FILE.json]

Runs `capfilt score` over every (image, text) pair of a BLIP-style json list (the demo's audit
sample) and `capfilt caption --beams 1` (greedy) over images, once with --precision fp32 and
once with bf16, and reports: the share of keep/drop decisions at the threshold that agree, the
largest ITM probability difference, and the share of greedy captions with identical token ids.
The threshold defaults to the one the filter stage recorded in a shard catalog (table
filter_thresholds) when --catalog names that catalog.sqlite, else to 0.5.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path


def run(cmd: list[str]) -> list[dict]:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--capfilt", required=True)
    p.add_argument("--filter", required=True, help="BlipForImageTextRetrieval folder")
    p.add_argument("--captioner", required=True, help="BlipForConditionalGeneration folder")
    p.add_argument("--pairs", required=True, help="json list of {image, caption} (image relative to --pairs-root)")
    p.add_argument("--pairs-root", help="folder the pairs' images are relative to (default: the json's folder)")
    p.add_argument("--images", required=True, help="folder of images to caption")
    p.add_argument("--threshold", type=float)
    p.add_argument("--catalog", help="a shard's catalog.sqlite: the threshold its latest filter decided with")
    p.add_argument("--first-token", default="enc")
    p.add_argument("--captions", type=int, default=500, help="images to caption")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out")
    a = p.parse_args()

    threshold = a.threshold
    if threshold is None and a.catalog:
        with sqlite3.connect(f"file:{a.catalog}?mode=ro", uri=True) as db:
            row = db.execute("SELECT threshold FROM filter_thresholds WHERE fingerprint = "
                             "(SELECT fingerprint FROM progress WHERE stage LIKE '%filter%' LIMIT 1)").fetchone()
        threshold = row[0] if row else None
    if threshold is None:
        threshold = 0.5
    entries = json.loads(Path(a.pairs).read_text())
    root = Path(a.pairs_root) if a.pairs_root else Path(a.pairs).parent
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "pairs.tsv"
        lines = []
        for e in entries:
            text = e["caption"] if isinstance(e["caption"], str) else e["caption"][0]
            lines.append(f"{root / e['image']}\t{' '.join(text.split())}")
        tsv.write_text("\n".join(lines) + "\n")
        scores = {}
        for precision in ("fp32", "bf16"):
            scores[precision] = run([a.capfilt, "score", "--model", a.filter, "--pairs", str(tsv), "--json",
                                     "--first-token", a.first_token, "--threads", str(a.threads),
                                     "--precision", precision])
    s32 = [r["itm"] for r in scores["fp32"]]
    s16 = [r["itm"] for r in scores["bf16"]]
    assert len(s32) == len(s16) == len(entries), (len(s32), len(s16), len(entries))
    agree = sum((x >= threshold) == (y >= threshold) for x, y in zip(s32, s16))
    largest = max(abs(x - y) for x, y in zip(s32, s16))

    images = sorted(str(f) for f in Path(a.images).iterdir() if f.suffix.lower() in (".jpg", ".jpeg", ".png"))[: a.captions]
    caps = {}
    for precision in ("fp32", "bf16"):
        caps[precision] = run([a.capfilt, "caption", "--model", a.captioner, "--beams", "1", "--json",
                               "--threads", str(a.threads), "--batch-size", "16", "--precision", precision] + images)
    same = sum(x["captions"][0]["token_ids"] == y["captions"][0]["token_ids"] for x, y in zip(caps["fp32"], caps["bf16"]))
    report = dict(
        pairs=len(entries), threshold=threshold,
        decisions_agreeing=agree, decision_agreement=agree / len(entries),
        largest_itm_difference=largest,
        mean_itm_difference=sum(abs(x - y) for x, y in zip(s32, s16)) / len(entries),
        captions=len(images), greedy_identical=same, greedy_identical_share=same / max(1, len(images)),
    )
    text = json.dumps(report, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
