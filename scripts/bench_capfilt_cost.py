#!/usr/bin/env python3
"""The real cost of CapFilt per image: core-seconds of the caption and filter stages.

    python scripts/bench_capfilt_cost.py --capfilt .build/release/capfilt [--cache DIR]
        [--images 1000] [--precisions fp32,bf16] [--threads 2] [--docs docs]

Runs a real pipeline (ingest -> fetch -> decode -> caption -> filter) over N distinct 640x480
photo-like JPEGs, each with one web alt-text, using the BLIP-base-sized random checkpoints of
`make bench` (scripts/bench_med.py writes them to the cache). The caption stage uses CapFilt's
settings (nucleus, top-p 0.9, repetition penalty 1.1, 10..30 tokens, "a picture of "): random
weights never emit [SEP], so every caption runs to 30 tokens, the worst case. The filter then
scores 2 texts per image (the alt-text and the synthetic caption), ITM and ITC.

Only `capfilt run --only caption` and `--only filter` are timed, each in its own process:
core-seconds = user + system CPU of that process (model loading included, about 1% at 1,000
images), so the figure is what a cluster bills, whatever the thread count. Writes
docs/benchmarks-cost.md and docs/benchmarks-cost.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
from bench_pipeline import run_child  # noqa: E402  (wall, CPU seconds and peak RSS of a child)

WORDS = ("a the red blue small large old new photo picture of on in with near man woman dog cat "
         "tree car street house beach field city river bike table plate food sky building").split()


def make_dataset(root: Path, n: int) -> Path:
    """N distinct JPEGs and a BLIP pretrain list (image, alt-text) naming them; reused when present."""
    from make_bench_images import make_images
    import random

    images = root / "images"
    marker = root / f"dataset-{n}.ok"
    manifest = root / "web_pairs.json"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        paths = make_images(images, count=n, width=640, height=480, seed=11)
        rng = random.Random(5)
        entries = [dict(image=p.name, caption=" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14))))
                   for p in paths]
        manifest.write_text(json.dumps(entries))
        marker.write_text("ok\n")
    return manifest


def pipeline(root: Path, manifest: Path, precision: str, threads: int, cache: Path) -> Path:
    work = root / f"work-{precision}"
    text = f"""dataset: capfilt-cost-{precision}
workdir: {work}
shards: 1
threads: {threads}
stages:
  ingest:
    manifests:
      - path: {manifest}
        format: blip-pretrain
        image_root: {manifest.parent / 'images'}
  fetch:
    needs: [ingest]
  decode:
    needs: [fetch]
  caption:
    needs: [decode]
    model: {cache / 'captioner'}
    strategy: nucleus
    top_p: 0.9
    repetition_penalty: 1.1
    min_length: 10
    max_length: 30
    prompt: "a picture of "
    batch_size: 8
    precision: {precision}
  filter:
    needs: [caption]
    model: {cache / 'itm'}
    threshold: 0.5
    batch_size: 16
    precision: {precision}
"""
    path = root / f"pipeline-{precision}.yaml"
    path.write_text(text)
    return path


def run(cmd: list[str]) -> dict:
    wall, cpu, rss_mib = run_child(cmd)
    return dict(wall=wall, cpu=cpu, rss_mib=rss_mib)


def doctor(capfilt: str, threads: int) -> str:
    try:
        return subprocess.run([capfilt, "doctor", "--threads", str(threads), "--seconds", "1"],
                              capture_output=True, text=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return f"capfilt doctor failed: {e}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--capfilt", required=True)
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "capfilt-bench")
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--docs", type=Path, default=REPO / "docs")
    a = p.parse_args()
    if not (a.cache / "captioner" / "model.safetensors").exists():
        sys.exit(f"no BLIP-base checkpoints in {a.cache}: run scripts/bench_med.py first (make bench does)")

    root = a.cache / "cost-bench"
    manifest = make_dataset(root, a.images)
    header = doctor(a.capfilt, a.threads)
    print(header, flush=True)
    results = {}
    for precision in [s for s in a.precisions.split(",") if s]:
        path = pipeline(root, manifest, precision, a.threads, a.cache)
        shutil.rmtree(root / f"work-{precision}", ignore_errors=True)
        for stage in ("ingest", "fetch", "decode"):
            run([a.capfilt, "run", str(path), "--only", stage])
        r = {}
        for stage in ("caption", "filter"):
            print(f"[{precision}] {stage} over {a.images} images ...", flush=True)
            r[stage] = run([a.capfilt, "run", str(path), "--only", stage])
            print(f"[{precision}] {stage}: {r[stage]}", flush=True)
        texts = 2 * a.images
        r["core_seconds_per_image_caption"] = r["caption"]["cpu"] / a.images
        r["core_seconds_per_text_filter"] = r["filter"]["cpu"] / texts
        r["core_seconds_per_image_filter"] = r["filter"]["cpu"] / a.images
        r["core_seconds_per_image"] = (r["caption"]["cpu"] + r["filter"]["cpu"]) / a.images
        r["images_per_hour_per_core"] = 3600 / r["core_seconds_per_image"]
        results[precision] = r

    cpu = next((l.split(":", 1)[1].strip() for l in header.splitlines() if l.startswith("CPU:")), platform.processor())
    report = dict(date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), images=a.images,
                  threads=a.threads, doctor=header, results=results)
    (a.docs / "benchmarks-cost.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# The cost of CapFilt per image",
        "",
        f"Generated by `scripts/bench_capfilt_cost.py` (`make bench`) on {report['date']}: {a.images} images, "
        f"{a.threads} threads, release build. Raw numbers: [benchmarks-cost.json](benchmarks-cost.json).",
        "",
        "## capfilt doctor on this machine",
        "",
        "```",
        header,
        "```",
        "",
        "## Method",
        "",
        f"- A real pipeline (ingest, fetch, decode, caption, filter) over {a.images} distinct 640x480 JPEGs, each with one web alt-text.",
        "- BLIP-base-sized random checkpoints (`make bench`'s), CapFilt's caption settings: nucleus, top-p 0.9, repetition",
        "  penalty 1.1, 10 to 30 tokens, prompt \"a picture of \". Random weights never end a caption early, so every caption",
        "  is 30 tokens: the worst case. The filter scores 2 texts per image (alt-text and synthetic caption): ITM and ITC.",
        "- Core-seconds: user + system CPU time of the `capfilt run --only caption` and `--only filter` processes (model",
        "  loading included). On N cores a stage takes about core-seconds / N of wall time.",
        "",
        "## Results",
        "",
        "| precision | caption (core-s / image) | filter (core-s / text) | caption + filter of 2 texts (core-s / image) | images per core-hour | caption wall (s) | filter wall (s) | caption peak RSS (MiB) | filter peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for precision, r in results.items():
        lines.append(
            f"| {precision} | {r['core_seconds_per_image_caption']:.3f} | {r['core_seconds_per_text_filter']:.3f} | "
            f"{r['core_seconds_per_image']:.3f} | {r['images_per_hour_per_core']:.0f} | {r['caption']['wall']:.1f} | "
            f"{r['filter']['wall']:.1f} | {r['caption']['rss_mib']:.0f} | {r['filter']['rss_mib']:.0f} |")
    lines.append("")
    (a.docs / "benchmarks-cost.md").write_text("\n".join(lines))
    print("\n".join(lines[-len(results) - 3:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
