#!/usr/bin/env python3
"""Seeded, photo-like JPEG images for the benchmarks.

    python scripts/make_bench_images.py OUTDIR [--count 16] [--width 640] [--height 480] [--seed 7]

Each image is a smooth scene (sky and ground gradients, a horizon, soft shapes, texture and
sensor noise) saved as a baseline JPEG (quality 90, 4:2:0), so that decoding and resizing costs
are those of ordinary photographs. The same arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def draw_scene(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    full = np.zeros((height, width))
    sky_top = rng.uniform(40, 120, 3)
    sky_bottom = rng.uniform(150, 240, 3)
    ground_top = rng.uniform(60, 160, 3)
    ground_bottom = rng.uniform(20, 90, 3)
    horizon = rng.uniform(0.4, 0.7) + 0.06 * np.sin(rng.uniform(2, 9) * x + rng.uniform(0, 6))
    t_sky = np.clip(y / horizon, 0, 1)
    t_ground = np.clip((y - horizon) / (1 - horizon), 0, 1)
    sky = sky_top[None, None, :] * (1 - t_sky[..., None]) + sky_bottom[None, None, :] * t_sky[..., None]
    ground = ground_top[None, None, :] * (1 - t_ground[..., None]) + ground_bottom[None, None, :] * t_ground[..., None]
    base = np.where((y + full > horizon)[..., None], ground, sky)
    # Low-frequency texture on the ground.
    texture = np.sin(x * rng.uniform(20, 60) + y * rng.uniform(20, 60)) * rng.uniform(4, 12)
    base = base + np.where((y + full > horizon), texture, 0.0)[..., None]
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")

    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(5, 12))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(width / 40, width / 5), rng.uniform(height / 40, height / 5)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
        elif kind == 1:
            draw.rectangle([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
        else:
            pts = [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in np.sort(rng.uniform(0, 2 * np.pi, 5))]
            draw.polygon(pts, fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(1.0, 2.5))))
    arr = np.asarray(img).astype(np.float32) + rng.normal(0, 5, (height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "RGB")


def make_images(out: Path, count: int = 16, width: int = 640, height: int = 480, seed: int = 7) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        img = draw_scene(width, height, rng)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=90, subsampling=2, optimize=False)
        path = out / f"bench{i:02d}.jpg"
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for p in make_images(args.out, args.count, args.width, args.height, args.seed):
        print(p)


if __name__ == "__main__":
    main()
